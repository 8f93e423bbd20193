"""Property: any sequence of valid and invalid movements keeps on-hand == ledger sum >= 0."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory import ledger
from inventory.schemas.stock import MOVEMENT_ACTIONS, MovementIn
from kernel.problems import DomainError
from tests.inventory_factories import InventoryFactory

LOCATIONS = ["SUPPLY", "EXAM1", "EXAM2"]
TODAY = dt.date(2026, 11, 28)

movements = st.builds(
    lambda action, **fields: action(**fields),
    st.sampled_from(list(MOVEMENT_ACTIONS.values())),
    sku=st.sampled_from(["PLAIN", "LOTS"]),
    location=st.sampled_from(LOCATIONS),
    quantity=st.integers(-5, 12),
    lot=st.one_of(st.none(), st.sampled_from(["A", "B", "C"])),
    expires_on=st.one_of(
        st.none(), st.sampled_from([TODAY - dt.timedelta(days=3), TODAY, TODAY.replace(year=2027)])
    ),
    to_location=st.one_of(st.none(), st.sampled_from(LOCATIONS)),
    reason=st.one_of(st.none(), st.just("because")),
)


def test_any_sequence_of_movements_keeps_on_hand_equal_to_the_ledger_and_never_negative(
    database,
):
    inv = InventoryFactory(database)
    inv.locations(*LOCATIONS)
    inv.item("PLAIN")
    inv.item("LOTS", lot_tracked=True)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.lists(movements, min_size=1, max_size=15))
    def run(sequence: list[MovementIn]) -> None:
        for data in sequence:
            try:
                with database.session() as session:
                    ledger.record_movement(session, actor="prop", data=data, today=TODAY)
            except DomainError:
                pass  # refused: must have written nothing, which the invariant checks
        assert inv.invariant_violations() == []

    run()
