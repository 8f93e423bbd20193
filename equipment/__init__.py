"""Equipment, maintenance and high-level disinfection (SPEC section 12)."""
