"""Instruments, versioned count sheets and reusable trays (SPEC section 11)."""

from __future__ import annotations

import pytest

from kernel.auth.models import Role


def test_an_instrument_code_is_taken_once_and_the_catalogue_is_listed_by_code(sets, client):
    sets.instrument("FC-ADSON", "Adson forceps", manufacturer="Miltex", catalog_number="6-118")
    again = client.post(
        "/api/v1/instruments", json={"code": "FC-ADSON", "name": "Other"}, headers=sets.ma
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "code"
    sets.instrument("AA-FIRST", "First")
    listed = sets.ok(client.get("/api/v1/instruments", headers=sets.ma))
    assert [i["code"] for i in listed["items"]] == ["AA-FIRST", "FC-ADSON"]
    one = sets.ok(client.get("/api/v1/instruments/FC-ADSON", headers=sets.ma))
    assert one["manufacturer"] == "Miltex" and one["catalog_number"] == "6-118"


def test_a_count_sheet_lists_its_instruments_in_order_with_quantities(sets):
    tpl = sets.template(shelf_life_days=30)
    assert tpl["version"] == 1 and tpl["current"] is True
    assert tpl["packaging"] == "wrap" and tpl["shelf_life_days"] == 30
    assert [(i["instrument"], i["quantity"]) for i in tpl["items"]] == [
        ("NH-MAYO-14", 1), ("FC-ADSON", 2), ("SC-IRIS-11", 1), ("SC-SUTURE", 1),
    ]  # fmt: skip
    assert tpl["items"][1]["name"] == "Adson forceps 1x2 teeth"
    assert tpl["instrument_count"] == 5


def test_changing_a_count_sheet_makes_a_new_version_and_older_versions_stay_readable(sets, client):
    sets.template()
    body = {
        "name": "Suture kit",
        "packaging": "pouch",
        "shelf_life_days": 180,
        "items": [{"instrument": "NH-MAYO-14", "quantity": 1}, {"instrument": "FC-ADSON"}],
    }
    v2 = sets.ok(client.put("/api/v1/set-templates/SUTURE", json=body, headers=sets.ma))
    assert v2["version"] == 2 and v2["packaging"] == "pouch"
    assert [i["instrument"] for i in v2["items"]] == ["NH-MAYO-14", "FC-ADSON"]
    current = sets.ok(client.get("/api/v1/set-templates/SUTURE", headers=sets.ma))
    assert current["version"] == 2
    v1 = sets.ok(client.get("/api/v1/set-templates/SUTURE/versions/1", headers=sets.ma))
    assert v1["version"] == 1 and v1["current"] is False and v1["current_version"] == 2
    assert v1["packaging"] == "wrap" and len(v1["items"]) == 4
    versions = sets.ok(client.get("/api/v1/set-templates/SUTURE/versions", headers=sets.ma))
    assert [v["version"] for v in versions["items"]] == [1, 2]
    # The same sheet again writes no new version.
    same = sets.ok(client.put("/api/v1/set-templates/SUTURE", json=body, headers=sets.ma))
    assert same["version"] == 2
    missing = client.get("/api/v1/set-templates/SUTURE/versions/3", headers=sets.ma)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"instrument": "NOPE", "quantity": 1}], "items[0].instrument"),
        (
            [{"instrument": "FC-ADSON", "quantity": 1}, {"instrument": "FC-ADSON", "quantity": 1}],
            "items[1].instrument",
        ),
        ([{"instrument": "FC-ADSON", "quantity": -1}], "items[0].quantity"),
        ([], "items"),
    ],
)
def test_a_count_sheet_with_an_unknown_repeated_or_negative_line_is_refused_and_nothing_written(
    sets, client, items, field
):
    sets.instrument("FC-ADSON", "Adson forceps")
    body = {"code": "BAD", "name": "Bad kit", "packaging": "wrap", "items": items}
    response = client.post("/api/v1/set-templates", json=body, headers=sets.ma)
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (
        field in {e["field"] for e in response.json().get("errors", [])} or field in response.text
    )
    assert client.get("/api/v1/set-templates/BAD", headers=sets.ma).status_code == 404


def test_a_tray_gets_a_permanent_set_code_and_a_qr_naming_its_page(sets, client):
    sets.template()
    first = sets.tray()
    second = sets.tray()
    assert first["code"] == "ST-000001" and second["code"] == "ST-000002"
    assert first["qr_url"].endswith("/s/ST-000001")
    assert first["template"] == {
        "code": "SUTURE", "version": 1, "name": "Suture kit", "packaging": "wrap",
    }  # fmt: skip
    assert first["status"] == "available" and first["packs"] == [] and first["uses"] == 0
    got = sets.get_set("st-000001")  # scanned in any case
    assert got["code"] == "ST-000001"
    listed = sets.ok(client.get("/api/v1/sets", params={"template": "SUTURE"}, headers=sets.ma))
    assert listed["total"] == 2
    unknown = client.post("/api/v1/sets", json={"template": "NOPE"}, headers=sets.ma)
    assert unknown.status_code == 404


def test_the_auditor_reads_sets_and_templates_but_changes_nothing(sets, client, users):
    sets.template()
    auditor = users.headers(Role.AUDITOR)
    assert client.get("/api/v1/set-templates", headers=auditor).status_code == 200
    assert (
        client.post("/api/v1/sets", json={"template": "SUTURE"}, headers=auditor).status_code == 403
    )
    body = {"code": "X", "name": "X"}
    assert client.post("/api/v1/instruments", json=body, headers=auditor).status_code == 403


def test_the_demo_clinic_has_six_realistic_count_sheets_with_trays(database):
    from sqlalchemy import func, select

    from sterilization.demo import load_demo_data
    from sterilization.sets.models import SetAsset, SetTemplate
    from sterilization.sets.templates import get_template_view

    with database.session() as session:
        load_demo_data(session, actor="cli")
    with database.session(write=False) as session:
        codes = set(session.scalars(select(SetTemplate.code)))
        assert codes == {"SUTURE", "I-AND-D", "DENT-EXAM", "DENT-EXTR", "IUD", "LAC"}
        suture = get_template_view(session, "SUTURE")
        assert suture.version.version == 2  # revised once; version 1 kept
        assert get_template_view(session, "SUTURE", 1).expected() == {
            "NH-WEBSTER": 1, "FC-ADSON": 1, "SC-IRIS-11": 1,
        }  # fmt: skip
        assert session.scalar(select(func.count()).select_from(SetAsset)) >= 6


def test_the_demo_history_has_trays_wrapped_used_on_encounters_and_a_short_count(database):
    from sqlalchemy import func, select

    from sterilization.demo import load_demo_data
    from sterilization.models import Pack

    with database.session() as session:
        load_demo_data(session, actor="cli")
    with database.session(write=False) as session:
        from_trays = select(func.count()).select_from(Pack).where(Pack.set_id.is_not(None))
        assert session.scalar(from_trays) >= 20
        assert session.scalar(from_trays.where(Pack.encounter_ref.is_not(None))) >= 5
        assert session.scalar(from_trays.where(Pack.short != "[]")) >= 1
        assert session.scalar(from_trays.where(Pack.expires_on.is_not(None))) >= 1
