"""The cycle pages over real HTTP: today's cycles, starting a load (scanned and ticked
packs), completing it, the BI result, with their forms (CSRF, roles, refusals shown on
the page next to their fields)."""

from __future__ import annotations

import datetime as dt

from litestar import Litestar
from litestar.testing import TestClient

from kernel.auth.models import Role
from tests.factories import UserFactory, csrf_token_from, form_post, page_login
from tests.kernel.test_pages_admin_users import field_error
from tests.sterilization_factories import Sterilization, let_time_pass


def test_start_a_cycle_by_scanning_and_ticking_packs_then_complete_it(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization
) -> None:
    sterilizer = steri.sterilizer(kind="steam_prevac", name="Big Steam")
    scanned, ticked = steri.packs(2)
    page_login(client, users.create(Role.MA))
    new = client.get("/cycles/new")
    assert new.status_code == 200
    assert "No passed Bowie-Dick test today on Big Steam" in new.text
    assert f'value="{ticked}"' in new.text  # assembled packs can be ticked
    response = form_post(
        client, "/cycles/new", "start-form", sterilizer=sterilizer["code"],
        cycle_type="prevac_132_4", codes=f"https://clinic.example/p/{scanned.lower()}\n",
        pack=[ticked],
    )  # fmt: skip
    assert response.status_code == 303
    path = response.headers["location"]
    page = client.get(path).text
    assert "Cycle 1 started with 2 packs. Read the warnings below." in page
    assert "No passed Bowie-Dick test today" in page
    assert scanned in page and ticked in page and 'id="complete-form"' in page

    let_time_pass(client, 30)
    done = form_post(
        client, path, "complete-form", temperature_c="132.5", exposure_minutes="4",
        mechanical="pass", chemical="pass",
    )  # fmt: skip
    assert done.status_code == 303
    page = client.get(path).text
    assert "Cycle 1 passed: its packs are sterile." in page
    assert 'id="complete-form"' not in page
    assert steri.pack(scanned)["status"] == "sterile"
    today = client.get("/cycles").text
    assert "Big Steam" in today and f'href="{path}"' in today


def test_a_cycle_below_minimums_fails_and_says_so(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization
) -> None:
    sterilizer = steri.sterilizer()
    (code,) = steri.packs(1)
    cycle = steri.start(sterilizer["code"], [code])
    page_login(client, users.create(Role.MA))
    path = f"/cycles/{cycle['id']}"
    missing = form_post(client, path, "complete-form", temperature_c="121.5",
                        exposure_minutes="30", chemical="pass")  # fmt: skip
    assert missing.status_code == 422 and "mechanical check passed or failed" in missing.text
    let_time_pass(client, 45)
    response = form_post(client, path, "complete-form", temperature_c="115",
                         exposure_minutes="30", mechanical="pass", chemical="pass")  # fmt: skip
    assert response.status_code == 303
    page = client.get(path).text
    assert "FAILED" in page and "temperature 115 °C is below the 121 °C minimum" in page
    assert steri.pack(code)["status"] == "failed"


def test_refused_start_is_shown_with_the_form_kept(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization, sterile_pack: str
) -> None:
    sterilizer = steri.sterilizer()
    code = sterile_pack  # already through a cycle: not assembled
    page_login(client, users.create(Role.MA))
    response = form_post(client, "/cycles/new", "start-form", sterilizer=sterilizer["code"],
                         cycle_type="gravity_121_30", codes=code)  # fmt: skip
    assert response.status_code == 409
    assert f"Only assembled packs can be loaded: {code} is sterile." in response.text
    assert f">{code}</textarea>" in response.text
    unknown = form_post(client, "/cycles/new", "start-form", sterilizer=sterilizer["code"],
                        cycle_type="gravity_121_30", codes="PK-999999")  # fmt: skip
    assert unknown.status_code == 422 and "No pack with code PK-999999" in unknown.text


def test_bi_result_needs_the_control_and_a_negative_releases_implants(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization
) -> None:
    sterilizer = steri.sterilizer()
    (code,) = steri.packs(1, implant=True)
    cycle = steri.run(sterilizer["code"], [code], bi_lot="BI-9")
    assert cycle["status"] == "awaiting_bi"
    page_login(client, users.create(Role.MA))
    path = f"/cycles/{cycle['id']}"
    assert "awaiting BI" in client.get("/cycles").text
    page = client.get(path).text
    assert "Too early to read: read at" in page and "tomorrow" in page
    too_early = form_post(client, path, "bi-form", result="negative", control_grew="yes")
    assert too_early.status_code == 409 and "Too early to read this BI" in too_early.text
    let_time_pass(client, 24 * 60)
    no_control = form_post(client, path, "bi-form", result="negative")
    assert no_control.status_code == 303
    assert "Invalid spore test recorded" in client.get(path).text
    assert 'id="invalid-bi-tests"' in client.get(path).text
    assert steri.pack(code)["status"] == "quarantined"
    done = form_post(client, path, "bi-form", result="negative", control_grew="yes")
    assert done.status_code == 303
    page = client.get(path).text
    assert "BI negative recorded." in page and 'id="bi-form"' not in page
    assert steri.pack(code)["status"] == "sterile"


def test_a_positive_bi_opens_a_recall_and_says_so(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization
) -> None:
    sterilizer = steri.sterilizer()
    (code,) = steri.packs(1)
    cycle = steri.run(sterilizer["code"], [code], bi_lot="BI-1")
    page_login(client, users.create(Role.MA))
    path = f"/cycles/{cycle['id']}"
    let_time_pass(client, 24 * 60)
    done = form_post(client, path, "bi-form", result="positive", control_grew="yes")
    assert done.status_code == 303
    assert "BI POSITIVE" in client.get(path).text
    assert "OUT OF SERVICE" in client.get("/cycles").text
    assert "recalled" in client.get(f"/p/{code}").text


def test_cycle_forms_need_csrf_and_the_ma_role(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization
) -> None:
    sterilizer = steri.sterilizer()
    cycle = steri.start(sterilizer["code"], steri.packs(1))
    path = f"/cycles/{cycle['id']}"
    page_login(client, users.create(Role.MA))
    body = {"temperature_c": "121.5", "exposure_minutes": "30", "mechanical": "pass",
            "chemical": "pass"}  # fmt: skip
    refused = client.post(f"{path}/complete", data=body)
    assert refused.status_code == 403 and "This form has expired" in refused.text
    page_login(client, users.create(Role.AUDITOR))
    page = client.get(path)
    assert page.status_code == 200 and 'id="complete-form"' not in page.text
    assert "Start a cycle" not in client.get("/cycles").text
    assert client.get("/cycles/new").status_code == 403
    forbidden = client.post(
        f"{path}/complete", data={**body, "_csrf_token": csrf_token_from(page.text)}
    )
    assert forbidden.status_code == 403 and "may not do this" in forbidden.text
    assert steri.ok(client.get(f"/api/v1/cycles/{cycle['id']}", headers=steri.ma))["status"] == (
        "running"
    )


def test_unknown_or_absurd_cycle_ids_are_html_404s(
    client: TestClient[Litestar], users: UserFactory
) -> None:
    page_login(client, users.create(Role.MA))
    for cycle_id in (12345, 99999999999):
        response = client.get(f"/cycles/{cycle_id}")
        assert response.status_code == 404 and "No cycle with id" in response.text


def test_a_refused_cycle_form_shows_each_message_at_its_field_and_writes_nothing(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization
) -> None:
    sterilizer = steri.sterilizer()
    (code,) = steri.packs(1)
    cycle = steri.start(sterilizer["code"], [code])
    page_login(client, users.create(Role.MA))
    path = f"/cycles/{cycle['id']}"
    refused = form_post(client, path, "complete-form", temperature_c="abc", chemical="pass")
    assert refused.status_code == 422
    assert field_error(refused.text, "field-mechanical") == (
        "Say whether the mechanical check passed or failed."
    )
    assert field_error(refused.text, "field-temperature_c") == "Enter a number, like 121.5."
    assert 'href="#field-mechanical">Mechanical check: Say whether' in refused.text
    rule = form_post(client, path, "complete-form", mechanical="pass", chemical="pass")
    assert rule.status_code == 422  # the rule: a gravity load needs its readings
    assert field_error(rule.text, "field-temperature_c") == "required for this cycle type"
    assert steri.ok(client.get(f"/api/v1/cycles/{cycle['id']}", headers=steri.ma))["status"] == (
        "running"
    )
    start = form_post(client, "/cycles/new", "start-form", sterilizer=sterilizer["code"],
                      cycle_type="gravity_121_30", codes=code)  # fmt: skip
    assert start.status_code == 409  # one cycle at a time
    assert f"Cycle 1 (gravity_121_30) is still running on {sterilizer['name']}" in start.text
    other = steri.sterilizer()
    start = form_post(client, "/cycles/new", "start-form", sterilizer=other["code"],
                      cycle_type="gravity_121_30", codes=code)  # fmt: skip
    assert start.status_code == 409
    assert field_error(start.text, "field-packs") == (
        f"Only assembled packs can be loaded: {code} is loaded."
    )


def test_the_tablet_takes_a_fahrenheit_printout_the_integrator_and_a_late_start_time(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization
) -> None:
    sterilizer = steri.sterilizer()
    page_login(client, users.create(Role.MA))
    new = client.get("/cycles/new")
    assert 'name="started_at"' in new.text and 'type="datetime-local"' in new.text
    clock = let_time_pass(client, 0)
    began = clock.now() - dt.timedelta(hours=2)
    wall = clock.zone.local(began).strftime("%Y-%m-%dT%H:%M")
    started = form_post(client, "/cycles/new", "start-form", sterilizer=sterilizer["code"],
                        cycle_type="gravity_121_30", started_at=wall)  # fmt: skip
    assert started.status_code == 303
    path = started.headers["location"]
    cycle = steri.ok(client.get(f"/api/v1{path}", headers=steri.ma))
    assert cycle["started_at"].startswith(began.strftime("%Y-%m-%dT%H:%M"))
    page = client.get(path).text
    assert 'name="temperature_unit"' in page and 'name="integrator"' in page
    typed_c = form_post(client, path, "complete-form", temperature_c="270",
                        exposure_minutes="30", mechanical="pass", chemical="pass")  # fmt: skip
    assert typed_c.status_code == 422
    assert "looks like °F" in field_error(typed_c.text, "field-temperature_c")
    done = form_post(client, path, "complete-form", temperature_c="250.7",
                     temperature_unit="f", exposure_minutes="30", mechanical="pass",
                     chemical="pass", integrator="pass")  # fmt: skip
    assert done.status_code == 303
    record = steri.ok(client.get(f"/api/v1{path}", headers=steri.ma))
    assert record["parameters"]["entered"] == {"temperature_f": 250.7}
    assert record["parameters"]["integrator"] == "pass"
    shown = client.get(path).text
    assert "250.7 °F" in shown and "integrator passed" in shown


def test_the_tablet_releases_an_implant_load_early_only_on_a_passed_integrator(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization
) -> None:
    sterilizer = steri.sterilizer()
    (implant,) = steri.packs(1, implant=True)
    cycle = steri.complete(steri.start(sterilizer["code"], [implant], bi_lot="BI-5"),
                           integrator="pass")  # fmt: skip
    page_login(client, users.create(Role.MA))
    path = f"/cycles/{cycle['id']}"
    assert 'id="early-release-form"' in client.get(path).text
    refused = form_post(client, path, "early-release-form", reason="")
    assert refused.status_code == 422
    done = form_post(client, path, "early-release-form", reason="emergency implant case")
    assert done.status_code == 303
    page = client.get(path).text
    assert "Released early" in page and 'id="early-release"' in page
    assert 'id="early-release-form"' not in page
    assert steri.pack(implant)["status"] == "sterile"
    assert "released early" in client.get(f"/p/{implant}").text.lower()


def test_the_tablet_starts_an_iuss_cycle_with_its_reason_and_encounter(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization
) -> None:
    sterilizer = steri.sterilizer()
    (code,) = steri.packs(1)
    page_login(client, users.create(Role.MA))
    assert 'name="iuss_reason"' in client.get("/cycles/new").text
    refused = form_post(client, "/cycles/new", "start-form", sterilizer=sterilizer["code"],
                        cycle_type="flash_132_3", codes=code)  # fmt: skip
    assert refused.status_code == 422 and "IUSS" in refused.text
    started = form_post(client, "/cycles/new", "start-form", sterilizer=sterilizer["code"],
                        cycle_type="flash_132_3", codes=code, iuss_reason="set dropped",
                        iuss_encounter_ref="enc-42")  # fmt: skip
    assert started.status_code == 303
    path = started.headers["location"]
    let_time_pass(client, 15)
    done = form_post(client, path, "complete-form", temperature_c="132.5", exposure_minutes="3",
                     mechanical="pass", chemical="pass")  # fmt: skip
    assert done.status_code == 303
    assert steri.pack(code)["status"] == "used" and steri.pack(code)["encounter_ref"] == "ENC-42"
    assert "Immediate-use steam sterilization (IUSS)" in client.get(f"/p/{code}").text
