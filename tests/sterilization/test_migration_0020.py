"""Migration 0020 on a database with cycles, on both backends: every existing cycle gets its
load list from its packs in pack order (an empty one for a cycle without packs), sealed,
and append-only from then on."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from kernel.audit.evidence import verify_records
from kernel.migrations import upgrade
from tests.kernel.test_migrations import empty_database_url  # noqa: F401  (fixture)

MAIN = "(SELECT id FROM sites WHERE code = 'MAIN')"
BEFORE = [
    "INSERT INTO sterilizers (id, code, name, kind, status, last_cycle_number, created_at, "
    f"site_id, bi_frequency) VALUES (1, 'A', 'A', 'steam_gravity', 'in_service', 2, "
    f"'2026-01-01 00:00:00', {MAIN}, 'weekly')",
    *(
        "INSERT INTO cycles (id, sterilizer_id, number, cycle_type, status, operator, "
        "implants, warnings, started_at, site_id) VALUES "
        f"({n}, 1, {n}, 'gravity_121_30', 'passed', 'mo', false, '[]', "
        f"'2026-01-0{n + 1} 08:00:00', {MAIN})"
        for n in (1, 2)
    ),
    # Rows stored out of pack order: the list follows the packs' ids.
    *(
        "INSERT INTO packs (id, code, description, contents, implant, status, cycle_id, "
        f"assembled_by, assembled_at, site_id) VALUES ({n}, 'PK-00000{n}', '{what}', '[]', "
        f"false, 'sterile', 1, 'mo', '2026-01-02 07:00:00', {MAIN})"
        for n, what in ((3, "Tray"), (1, "Kit"), (2, "Gauze"))
    ),
]


def test_existing_cycles_get_their_load_lists_sealed(empty_database_url):  # noqa: F811
    url = empty_database_url
    upgrade(url, "0019_pack_contents_index")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in BEFORE:
                conn.execute(text(statement))
        upgrade(url)
        with engine.connect() as conn:
            loads = conn.execute(text("SELECT * FROM cycle_loads ORDER BY cycle_id")).all()
            sealed = conn.scalars(
                text("SELECT row_key FROM record_seals WHERE table_name = 'cycle_loads'")
            ).all()
        assert [tuple(r) for r in loads] == [
            (1, 3, "PK-000001 PK-000002 PK-000003", "Kit; Gauze; Tray"),
            (2, 0, "", ""),
        ]
        assert sorted(sealed) == ["1", "2"]
        with Session(engine) as session:
            problems = verify_records(session).problems
        # The cycles and packs written above by hand are unsealed; the load lists are not.
        assert any(p.startswith("cycles row 1") for p in problems)
        assert not [p for p in problems if p.startswith("cycle_loads")]
        with pytest.raises(Exception, match="evidence"), engine.begin() as conn:
            conn.execute(text("UPDATE cycle_loads SET pack_codes = '' WHERE cycle_id = 1"))
    finally:
        engine.dispose()
