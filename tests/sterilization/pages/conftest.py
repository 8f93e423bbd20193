"""Fixtures of the sterilization page tests."""

from __future__ import annotations

import pytest

from tests.sterilization_factories import Sterilization


@pytest.fixture
def sterile_pack(steri: Sterilization) -> str:
    """A pack through a passed cycle on a new sterilizer: OK to use."""
    sterilizer = steri.sterilizer()
    (code,) = steri.packs(1)
    steri.run(sterilizer["code"], [code])
    return code
