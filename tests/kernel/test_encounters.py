"""Encounter references are normalised on the way in and in lookups (SPEC second edition):
Unicode NFKC, invisible characters and surrounding spaces removed, letters upper-cased."""

from __future__ import annotations

import pytest

from kernel.encounters import normalize_encounter_ref


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (" enc-77\u200b", "ENC-77"),  # the spec's example: a zero-width space pasted along
        ("\ufeffENC-77", "ENC-77"),  # a byte-order mark from a CSV
        ("\uff45\uff4e\uff43\uff0d\uff17\uff17", "ENC-77"),  # full-width letters and digits
        ("\u00a0enc-77\u00a0", "ENC-77"),  # no-break spaces around it
        ("enc\u200d-77", "ENC-77"),  # a zero-width joiner inside
        ("visit 12", "VISIT 12"),  # a space inside is the EHR's, kept
    ],
)
def test_encounter_references_are_normalised_the_same_everywhere(typed, stored):
    assert normalize_encounter_ref(typed) == stored


def test_a_reference_of_only_invisible_characters_is_empty():
    assert normalize_encounter_ref(" \u200b\u200c ") == ""
