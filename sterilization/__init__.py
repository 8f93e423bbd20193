"""Sterilization: sterilizers, packs, cycles, indicators, recalls and compliance."""
