"""SteriStock: supplies and sterilization tracking for outpatient clinics.

This package is the composition, the product you run: the app factory (a list of
plugins), the CLI, the table registry, and the pages that read from more than one domain
(dashboard, scan resolver). The kernel is `kernel/`; the domains are `inventory/` and
`sterilization/`. See docs/architecture.md.
"""

from kernel import __version__

__all__ = ["__version__"]
