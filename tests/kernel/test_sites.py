"""Sites (SPEC section 9): the admin's sites with their zones, users' sites, existing data
in MAIN, records created at the user's site, and days counted in the site's zone."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, select, text

from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from kernel.clock import FixedClock
from kernel.migrations import upgrade
from kernel.problems import InvalidInput, NotFound
from kernel.sites import MAIN, Site, SiteInfo, SiteScope
from sterilization.models import Pack
from tests.kernel.test_migrations import empty_database_url  # noqa: F401  (fixture)

TOKYO = {"code": "TYO", "name": "Tokyo clinic", "timezone": "Asia/Tokyo"}
BERLIN = {"code": "ber", "name": "Berlin clinic", "timezone": "Europe/Berlin"}


def make_site(client, users, site: dict[str, str]) -> dict:
    response = client.post("/api/v1/sites", json=site, headers=users.headers(Role.ADMIN))
    assert response.status_code == 201, response.text
    return response.json()


def test_admin_creates_sites_with_an_iana_time_zone(client, users):
    made = make_site(client, users, BERLIN)
    assert made["code"] == "BER" and made["timezone"] == "Europe/Berlin"
    admin = users.headers(Role.ADMIN)
    listed = client.get("/api/v1/sites", headers=admin).json()
    assert [s["code"] for s in listed["items"]] == ["BER", "MAIN"] and listed["total"] == 2
    assert client.get("/api/v1/sites/ber", headers=admin).json()["name"] == "Berlin clinic"


def test_existing_clinic_is_site_main_in_the_clinics_zone(client, users):
    main = client.get("/api/v1/sites/MAIN", headers=users.headers(Role.ADMIN)).json()
    assert main["timezone"] == "America/Chicago"  # the tests' STERISTOCK_TIMEZONE


@pytest.mark.parametrize("zone", ["Mars/Olympus", "CET+1", "../../etc/passwd", "utc "])
def test_a_site_in_an_unknown_time_zone_is_refused_naming_the_field(client, users, zone):
    body = {**TOKYO, "timezone": zone}
    response = client.post("/api/v1/sites", json=body, headers=users.headers(Role.ADMIN))
    if zone == "utc ":  # surrounding spaces are trimmed, but the case must be right
        assert response.status_code == 422
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "timezone"
    listed = client.get("/api/v1/sites", headers=users.headers(Role.ADMIN)).json()
    assert listed["total"] == 1  # nothing written


def test_site_codes_are_unique(client, users):
    make_site(client, users, TOKYO)
    again = client.post(
        "/api/v1/sites", json={**TOKYO, "code": "tyo"}, headers=users.headers(Role.ADMIN)
    )
    assert again.status_code == 409


def test_only_the_admin_manages_sites(client, users):
    for role in (Role.MA, Role.PURCHASING, Role.AUDITOR):
        assert client.get("/api/v1/sites", headers=users.headers(role)).status_code == 403
        made = client.post("/api/v1/sites", json=TOKYO, headers=users.headers(role))
        assert made.status_code == 403


def test_site_creation_is_audited(client, users, database):
    make_site(client, users, TOKYO)
    with database.session(write=False) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "site.create")).one()
        assert entry.entity_id == "TYO"


# --- users' sites ------------------------------------------------------------------------


def test_a_user_created_without_sites_works_at_main(client, users):
    admin = users.headers(Role.ADMIN)
    body = {"username": "mia", "role": "ma", "password": "long enough pw"}
    made = client.post("/api/v1/users", json=body, headers=admin).json()
    assert made["sites"] == [MAIN] and made["all_sites"] is False


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admins_and_auditors_see_every_site_by_default(client, users, role):
    admin = users.headers(Role.ADMIN)
    body = {"username": "boss", "role": role, "password": "long enough pw"}
    assert client.post("/api/v1/users", json=body, headers=admin).json()["all_sites"] is True


def test_admin_sets_a_users_sites_on_create_and_patch(client, users):
    make_site(client, users, TOKYO)
    make_site(client, users, BERLIN)
    admin = users.headers(Role.ADMIN)
    body = {"username": "pat", "role": "purchasing", "password": "long enough pw",
            "sites": ["tyo"]}  # fmt: skip
    assert client.post("/api/v1/users", json=body, headers=admin).json()["sites"] == ["TYO"]
    patched = client.patch("/api/v1/users/pat", json={"sites": ["BER", "TYO"]}, headers=admin)
    assert patched.json()["sites"] == ["BER", "TYO"]
    patched = client.patch("/api/v1/users/pat", json={"all_sites": True}, headers=admin)
    assert patched.json()["all_sites"] is True and patched.json()["sites"] == ["BER", "TYO"]


def test_an_unknown_site_for_a_user_is_refused_and_nothing_changes(client, users):
    admin = users.headers(Role.ADMIN)
    body = {"username": "pat", "role": "purchasing", "password": "long enough pw",
            "sites": ["MAIN", "NOPE"]}  # fmt: skip
    refused = client.post("/api/v1/users", json=body, headers=admin)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "sites[1]"
    assert client.patch("/api/v1/users/pat", json={}, headers=admin).status_code == 404
    users.create(Role.MA, "mia")
    refused = client.patch("/api/v1/users/mia", json={"sites": ["NOPE"]}, headers=admin)
    assert refused.status_code == 422
    assert client.get("/api/v1/users", headers=admin).json()["items"][-1]["sites"] == [MAIN]


def test_users_me_names_the_callers_sites(client, users):
    make_site(client, users, TOKYO)
    users.create(Role.MA, "kenji", sites=["TYO"])
    me = client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {users.token('kenji')}"}
    ).json()
    assert me["sites"] == ["TYO"] and me["all_sites"] is False


# --- records go to the user's site ---------------------------------------------------------


def bearer(users, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {users.token(username)}"}


def test_a_record_created_without_site_goes_to_the_users_only_site(client, users):
    make_site(client, users, TOKYO)
    users.create(Role.PURCHASING, "pat", sites=["TYO"])
    made = client.post("/api/v1/locations", json={"code": "T-SUPPLY", "name": "Supply"},
                       headers=bearer(users, "pat"))  # fmt: skip
    assert made.status_code == 201 and made.json()["site"] == "TYO"


def test_a_record_created_without_site_by_a_user_of_several_goes_to_main(client, users):
    make_site(client, users, TOKYO)
    made = client.post("/api/v1/packs", json={"description": "Exam kit"},
                       headers=users.headers(Role.ADMIN))  # fmt: skip
    assert made.json()["items"][0]["site"] == MAIN
    made = client.post("/api/v1/packs", json={"description": "Exam kit", "site": "TYO"},
                       headers=users.headers(Role.ADMIN))  # fmt: skip
    assert made.json()["items"][0]["site"] == "TYO"


def test_a_user_of_several_sites_without_main_must_say_which(client, users):
    make_site(client, users, TOKYO)
    make_site(client, users, BERLIN)
    users.create(Role.MA, "nomad", sites=["TYO", "BER"])
    refused = client.post("/api/v1/packs", json={"description": "Exam kit"},
                          headers=bearer(users, "nomad"))  # fmt: skip
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "site"


def test_creating_a_record_at_a_site_the_user_lacks_is_refused_and_writes_nothing(
    client, users, database
):
    make_site(client, users, TOKYO)
    users.create(Role.MA, "mia")  # MAIN only
    refused = client.post("/api/v1/packs", json={"description": "Kit", "site": "TYO"},
                          headers=bearer(users, "mia"))  # fmt: skip
    unknown = client.post("/api/v1/packs", json={"description": "Kit", "site": "NOPE"},
                          headers=bearer(users, "mia"))  # fmt: skip
    assert refused.status_code == unknown.status_code == 422
    assert refused.json()["detail"] == "Unknown site 'TYO'."  # reads like an unknown one
    with database.session(write=False) as session:
        assert session.scalars(select(Pack)).all() == []


def test_a_user_with_no_site_cannot_write(client, users, database):
    users.create(Role.MA, "ghost", sites=[])
    refused = client.post("/api/v1/packs", json={"description": "Kit"},
                          headers=bearer(users, "ghost"))  # fmt: skip
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "site"
    with database.session(write=False) as session:
        assert session.scalars(select(Pack)).all() == []


def test_every_site_owned_create_answers_with_its_site(client, users):
    make_site(client, users, TOKYO)
    admin = users.headers(Role.ADMIN)
    ster = client.post("/api/v1/sterilizers", json={"code": "AC-T", "name": "Tokyo A",
                       "kind": "steam_gravity", "site": "TYO"}, headers=admin)  # fmt: skip
    assert ster.json()["site"] == "TYO"
    pack = client.post("/api/v1/packs", json={"description": "Kit", "site": "TYO"}, headers=admin)
    code = pack.json()["items"][0]["code"]
    start = {"sterilizer": "AC-T", "cycle_type": "gravity_121_30", "packs": [code]}
    cycle = client.post("/api/v1/cycles", json=start, headers=admin)
    assert cycle.status_code == 201 and cycle.json()["site"] == "TYO"
    supplier = client.post("/api/v1/suppliers", json={"name": "Acme"}, headers=admin).json()
    client.post("/api/v1/items", json={"sku": "GLV", "name": "Gloves", "unit": "box",
                "supplier_id": supplier["id"], "unit_cost": "1.00"}, headers=admin)  # fmt: skip
    order = {"supplier_id": supplier["id"], "lines": [{"sku": "GLV", "quantity": 2}], "site": "TYO"}
    po = client.post("/api/v1/purchase-orders", json=order, headers=admin)
    assert po.status_code == 201 and po.json()["site"] == "TYO"


# --- the scope and the site's zone -------------------------------------------------------


SITES = [SiteInfo(1, "MAIN", "Main", "America/Chicago"), SiteInfo(2, "TYO", "Tokyo", "Asia/Tokyo")]


def test_another_sites_record_answers_like_a_missing_one():
    scope = SiteScope(SITES, [1])
    with pytest.raises(NotFound, match="No pack 'PK-1'"):
        scope.require(Pack(code="PK-1", site_id=2), "No pack 'PK-1'.")
    with pytest.raises(NotFound, match="No pack 'PK-1'"):
        scope.require(None, "No pack 'PK-1'.")
    assert scope.require(Pack(code="PK-2", site_id=1), "no").code == "PK-2"


def test_narrowing_to_a_site_the_user_lacks_is_refused_like_an_unknown_one():
    scope = SiteScope(SITES, [1])
    with pytest.raises(InvalidInput) as lacking:
        scope.narrow("TYO")
    with pytest.raises(InvalidInput) as unknown:
        scope.narrow("XX")
    assert lacking.value.field == unknown.value.field == "site"
    assert SiteScope(SITES, None).narrow("tyo").ids == {2}
    assert SiteScope(SITES, None).narrow(None).ids == {1, 2}


def test_days_count_in_the_sites_zone():
    # 2026-12-04 23:30 in Chicago is already the 5th in Tokyo.
    at = dt.datetime(2026, 12, 5, 5, 30, tzinfo=dt.UTC)
    clock = FixedClock(dt.UTC, at)
    main, tokyo = SITES
    assert clock.local_day(main, at) == dt.date(2026, 12, 4)
    assert clock.local_day(tokyo, at) == dt.date(2026, 12, 5)
    assert clock.site_today(tokyo) == dt.date(2026, 12, 5)
    start, end = clock.site_zone(tokyo).day_bounds(dt.date(2026, 12, 5))
    assert start == dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC) and end - start == dt.timedelta(
        days=1
    )


OLD_CLINIC = [  # a single clinic's records before sites existed (revision 0010)
    "INSERT INTO users (id, username, full_name, role, password_hash, active, created_at, "
    "updated_at) VALUES (1, 'ann', '', 'auditor', 'x', true, '2026-01-01', '2026-01-01'), "
    "(2, 'mo', '', 'ma', 'x', true, '2026-01-01', '2026-01-01')",
    "INSERT INTO locations (id, code, name, active, created_at) "
    "VALUES (1, 'SUPPLY', 'Supply', true, '2026-01-01')",
    "INSERT INTO sterilizers (id, code, name, kind, status, last_cycle_number, created_at, "
    "bi_frequency) VALUES (1, 'A', 'A', 'steam_prevac', 'in_service', 1, '2026-01-01', 'weekly')",
    "INSERT INTO cycles (id, sterilizer_id, number, cycle_type, status, operator, implants, "
    "warnings, started_at) VALUES (1, 1, 1, 'prevac_132_4', 'passed', 'mo', false, '[]', "
    "'2026-01-02')",
    "INSERT INTO packs (id, code, description, contents, implant, status, cycle_id, "
    "assembled_by, assembled_at) VALUES (1, 'PK-000001', 'Kit', '[]', false, 'sterile', 1, "
    "'mo', '2026-01-02')",
    "INSERT INTO pack_events (pack_id, at, event, actor, details) "
    "VALUES (1, '2026-01-02', 'assembled', 'mo', '{}')",
    "INSERT INTO suppliers (id, name, created_at) VALUES (1, 'S', '2026-01-01')",
    "INSERT INTO purchase_orders (id, supplier_id, status, created_by, created_at) "
    "VALUES (1, 1, 'draft', 'mo', '2026-01-01')",
]


def test_existing_records_move_into_site_main_in_the_clinics_zone(
    empty_database_url,  # noqa: F811
    monkeypatch,
):
    url = empty_database_url
    upgrade(url, "0010_sterilizer_identity")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in OLD_CLINIC:
                conn.execute(text(statement))
        monkeypatch.setenv("STERISTOCK_TIMEZONE", "Europe/Berlin")
        upgrade(url)
        with engine.connect() as conn:
            main = conn.execute(text("SELECT id, timezone FROM sites WHERE code = 'MAIN'")).one()
            assert main.timezone == "Europe/Berlin"
            for table in ("locations", "sterilizers", "cycles", "packs", "purchase_orders"):
                owners = conn.execute(text(f"SELECT site_id FROM {table}")).scalars().all()
                assert owners == [main.id], table
            all_sites = conn.execute(text("SELECT username, all_sites FROM users")).all()
            assert {name: bool(flag) for name, flag in all_sites} == {"ann": True, "mo": False}
            links = conn.execute(text("SELECT user_id, site_id FROM user_sites ORDER BY user_id"))
            assert links.all() == [(1, main.id), (2, main.id)]
    finally:
        engine.dispose()


def test_site_table_names_its_zone_as_the_clock_reads_it(database):
    with database.session(write=False) as session:
        main = session.scalars(select(Site).where(Site.code == MAIN)).one()
    assert FixedClock(dt.UTC, dt.datetime(2026, 7, 1, 3, tzinfo=dt.UTC)).local_day(
        main, dt.datetime(2026, 7, 1, 3, tzinfo=dt.UTC)
    ) == dt.date(2026, 6, 30)


def test_a_statement_run_again_takes_its_scoped_copy_once_per_set_of_sites():
    """A prebuilt statement (the pack scan's) is scoped once per set of sites, not on
    every execution; its copies go when the statement goes."""
    import gc
    import weakref

    from kernel.sites.query_scope import _SCOPED, _scoped

    gc.collect()  # earlier tests' statements, already unreachable, leave first
    before = len(_SCOPED)
    statement = select(Pack).where(Pack.code == "PK-1")
    first = _scoped(statement, (1,))
    assert _scoped(statement, (1,)) is first
    other = _scoped(statement, (1, 2))
    assert other is not first and "site_id" in str(other.compile())
    gone = weakref.ref(statement)
    del statement, first, other
    gc.collect()
    assert gone() is None and len(_SCOPED) == before


def test_a_one_site_user_scanning_again_and_again_never_sees_another_sites_pack(client, users):
    make_site(client, users, TOKYO)
    admin = users.headers(Role.ADMIN)
    made = client.post("/api/v1/packs", json={"description": "Kit", "site": "TYO"}, headers=admin)
    tokyo_pack = made.json()["items"][0]["code"]
    made = client.post("/api/v1/packs", json={"description": "Kit"}, headers=admin)
    main_pack = made.json()["items"][0]["code"]
    users.create(Role.MA, "mia")  # MAIN only
    for _ in range(3):  # the scoped statement is reused from the second scan on
        assert (
            client.get(f"/api/v1/packs/{main_pack}", headers=bearer(users, "mia")).status_code
            == 200
        )
        assert (
            client.get(f"/api/v1/packs/{tokyo_pack}", headers=bearer(users, "mia")).status_code
            == 404
        )
