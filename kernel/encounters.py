"""Encounter references: the clinic's EHR visit ids, the only patient link SteriStock keeps.

They arrive typed, pasted or scanned, so the same visit can come as `enc-77`, ` ENC-77`
or `ENC-77\u200b` (a zero-width space pasted from the EHR). Every domain normalises on the
way in and in lookups with this one function, so a trace finds what was recorded.
"""

from __future__ import annotations

import unicodedata

# Format characters (Cf: zero-width spaces and joiners, BOM, bidi marks) and controls (Cc)
# are removed wherever they are; they are invisible, so nobody meant them.
_INVISIBLE = frozenset({"Cf", "Cc"})


def normalize_encounter_ref(text: str) -> str:
    """Unicode NFKC (a no-break space becomes a space, full-width letters plain ones),
    invisible characters removed, surrounding spaces removed, letters upper-cased."""
    value = unicodedata.normalize("NFKC", text)
    value = "".join(ch for ch in value if unicodedata.category(ch) not in _INVISIBLE)
    return value.strip().upper()
