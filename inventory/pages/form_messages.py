"""What inventory's forms say: the hint at a field the schema refuses, and the line above
a refused form."""

from __future__ import annotations

from kernel.web.forms import FormRefusal

HINTS = {
    "sku": "Use letters, digits and _ . - / only (up to 40).",
    "code": "Use letters, digits and _ . - only (up to 20).",
    "name": "Enter a name (no control characters).",
    "unit": "Enter a unit, like box or each.",
    "gtin": "A GTIN has 8, 12, 13 or 14 digits.",
    "email": "Enter an email address, like orders@example.com.",
    "supplier_id": "Choose a supplier.",
}


def invalid_form(count: int) -> str:
    return f"Nothing was saved: check the {count} field{'s' if count != 1 else ''} marked below."


def refusal_message(refusal: FormRefusal) -> str | None:
    """Above the form: the rule's sentence when it names no field; for the schema's
    refusals, how many fields to check."""
    if refusal.error is not None:
        return refusal.message
    return invalid_form(len(refusal.errors))


def refusal_detail(refusal: FormRefusal) -> str | None:
    """The rule's whole sentence, for pages that show a refusal above the form only."""
    return refusal.error.detail if refusal.error is not None else refusal.message
