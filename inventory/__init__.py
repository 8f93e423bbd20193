"""Supplies: items, suppliers, locations, par levels, the stock ledger, reorder and POs."""
