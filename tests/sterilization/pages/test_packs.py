"""The sterilization pages over real HTTP: the pack page and the cycle log, with their
forms (CSRF, roles, refused actions shown on the page)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from kernel.auth.models import Role
from tests.factories import UserFactory, csrf_token_from, page_login
from tests.sterilization_factories import Sterilization


@pytest.fixture
def ster(client: TestClient[Litestar], users: UserFactory) -> Sterilization:
    return Sterilization(client, users)


def sterile_pack(ster: Sterilization, **kwargs: Any) -> str:
    sterilizer = ster.sterilizer()
    (code,) = ster.packs(1, **kwargs)
    ster.run(sterilizer["code"], [code])
    return code


def nonce_from(html: str) -> str:
    match = re.search(r'name="nonce" value="([^"]+)"', html)
    assert match, "form has no nonce"
    return match.group(1)


def post_form(client: TestClient[Litestar], page: str, action: str, **fields: str) -> Any:
    html = client.get(page).text
    body = {"_csrf_token": csrf_token_from(html), "nonce": nonce_from(html), **fields}
    return client.post(action, data=body, follow_redirects=False)


def test_pack_page_shows_green_ok_to_use_with_details_and_actions(
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization
) -> None:
    code = sterile_pack(ster)
    page_login(client, users.create(Role.MA))
    page = client.get(f"/p/{code.lower()}")
    assert page.status_code == 200
    assert "banner-ok" in page.text and "OK TO USE" in page.text
    assert "Exam kit" in page.text and "Mirror" in page.text
    assert "Cycle 1" in page.text and "Autoclave" in page.text
    assert f'action="/p/{code}/use"' in page.text
    assert "Mark compromised" in page.text


def test_recording_use_turns_the_banner_red_already_used(
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization
) -> None:
    code = sterile_pack(ster)
    page_login(client, users.create(Role.MA))
    response = post_form(client, f"/p/{code}", f"/p/{code}/use", encounter_ref="ENC-77")
    assert response.status_code == 303
    assert response.headers["location"] == f"/p/{code}"
    page = client.get(f"/p/{code}")
    assert "Recorded: pack" in page.text and "ENC-77" in page.text
    assert "banner-stop" in page.text and "DO NOT USE" in page.text
    assert "already used on encounter ENC-77" in page.text
    assert f'action="/p/{code}/use"' not in page.text
    assert ster.pack(code)["status"] == "used"


def test_a_double_tap_on_use_records_once_and_says_so(
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization
) -> None:
    code = sterile_pack(ster)
    page_login(client, users.create(Role.MA))
    html = client.get(f"/p/{code}").text
    body = {"_csrf_token": csrf_token_from(html), "nonce": nonce_from(html), "encounter_ref": "E1"}
    first = client.post(f"/p/{code}/use", data=body, follow_redirects=False)
    second = client.post(f"/p/{code}/use", data=body, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert "Already recorded" in client.get(f"/p/{code}").text
    history = client.get(f"/api/v1/packs/{code}/history", headers=ster.ma).json()["items"]
    assert [e["event"] for e in history].count("used") == 1


def test_using_a_used_pack_is_refused_with_the_reason_on_the_page(
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization
) -> None:
    code = sterile_pack(ster)
    page_login(client, users.create(Role.MA))
    html = client.get(f"/p/{code}").text  # the form, opened before someone else used it
    assert ster.use(code, "ENC-1").status_code == 200
    response = client.post(
        f"/p/{code}/use",
        data={"_csrf_token": csrf_token_from(html), "nonce": nonce_from(html),
              "encounter_ref": "ENC-2"},
    )  # fmt: skip
    assert response.status_code == 409
    assert "text/html" in response.headers["content-type"]
    assert "must not be used: already used on encounter ENC-1" in response.text
    assert "DO NOT USE" in response.text
    assert ster.pack(code)["encounter_ref"] == "ENC-1"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"encounter_ref": "  "}, "Enter the encounter reference"),
        ({"encounter_ref": "x" * 101}, "Encounter reference:"),
    ],
)
def test_bad_encounter_reference_is_refused_and_writes_nothing(
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization,
    fields: dict[str, str], message: str,
) -> None:  # fmt: skip
    code = sterile_pack(ster)
    page_login(client, users.create(Role.MA))
    response = post_form(client, f"/p/{code}", f"/p/{code}/use", **fields)
    assert response.status_code == 422
    assert message in response.text
    assert ster.pack(code)["status"] == "sterile"


def test_marking_compromised_needs_a_reason_then_shows_it(
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization
) -> None:
    code = sterile_pack(ster)
    page_login(client, users.create(Role.MA))
    refused = post_form(client, f"/p/{code}", f"/p/{code}/compromise", reason="x")
    assert refused.status_code == 422 and "Reason:" in refused.text
    done = post_form(client, f"/p/{code}", f"/p/{code}/compromise", reason="wrap torn")
    assert done.status_code == 303
    page = client.get(f"/p/{code}")
    assert "compromised: wrap torn" in page.text and "DO NOT USE" in page.text
    assert "Mark compromised" not in page.text


def test_pack_page_of_an_unknown_code_is_an_html_404(
    client: TestClient[Litestar], users: UserFactory
) -> None:
    page_login(client, users.create(Role.MA))
    response = client.get("/p/PK-999999")
    assert response.status_code == 404
    assert "No pack with code" in response.text


def test_pack_actions_need_a_csrf_token(
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization
) -> None:
    code = sterile_pack(ster)
    page_login(client, users.create(Role.MA))
    response = client.post(f"/p/{code}/use", data={"encounter_ref": "E1"})
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert ster.pack(code)["status"] == "sterile"


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PURCHASING])
def test_other_roles_read_the_pack_page_but_cannot_act(
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization, role: Role
) -> None:
    code = sterile_pack(ster)
    page_login(client, users.create(role))
    page = client.get(f"/p/{code}")
    assert page.status_code == 200 and "OK TO USE" in page.text
    assert "/use" not in page.text and "Mark compromised" not in page.text
    response = client.post(
        f"/p/{code}/use",
        data={"_csrf_token": csrf_token_from(page.text), "encounter_ref": "E1"},
    )
    assert response.status_code == 403
    assert "may not do this" in response.text
    assert ster.pack(code)["status"] == "sterile"


# The cycle log ------------------------------------------------------------------------


def form_post(client: TestClient[Litestar], path: str, form_id: str, **fields: Any) -> Any:
    """Submit the form `form_id` of the page at `path` with its CSRF token and nonce."""
    html = client.get(path).text
    form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S)
    assert form, f"no form {form_id} on {path}"
    action = re.search(r'action="([^"]+)"', form.group(0))
    assert action
    body = {"_csrf_token": csrf_token_from(html), "nonce": nonce_from(form.group(0)), **fields}
    return client.post(action.group(1), data=body, follow_redirects=False)


def test_start_a_cycle_by_scanning_and_ticking_packs_then_complete_it(
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization
) -> None:
    sterilizer = ster.sterilizer(kind="steam_prevac", name="Big Steam")
    scanned, ticked = ster.packs(2)
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

    done = form_post(
        client, path, "complete-form", temperature_c="132.5", exposure_minutes="4",
        mechanical="pass", chemical="pass",
    )  # fmt: skip
    assert done.status_code == 303
    page = client.get(path).text
    assert "Cycle 1 passed: its packs are sterile." in page
    assert 'id="complete-form"' not in page
    assert ster.pack(scanned)["status"] == "sterile"
    today = client.get("/cycles").text
    assert "Big Steam" in today and f'href="{path}"' in today


def test_a_cycle_below_minimums_fails_and_says_so(
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization
) -> None:
    sterilizer = ster.sterilizer()
    (code,) = ster.packs(1)
    cycle = ster.start(sterilizer["code"], [code])
    page_login(client, users.create(Role.MA))
    path = f"/cycles/{cycle['id']}"
    missing = form_post(client, path, "complete-form", temperature_c="121.5",
                        exposure_minutes="30", chemical="pass")  # fmt: skip
    assert missing.status_code == 422 and "mechanical check passed or failed" in missing.text
    response = form_post(client, path, "complete-form", temperature_c="115",
                         exposure_minutes="30", mechanical="pass", chemical="pass")  # fmt: skip
    assert response.status_code == 303
    page = client.get(path).text
    assert "FAILED" in page and "temperature 115 °C is below the 121 °C minimum" in page
    assert ster.pack(code)["status"] == "failed"


def test_refused_start_is_shown_with_the_form_kept(
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization
) -> None:
    sterilizer = ster.sterilizer()
    code = sterile_pack(ster)  # already through a cycle: not assembled
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
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization
) -> None:
    sterilizer = ster.sterilizer()
    (code,) = ster.packs(1, implant=True)
    cycle = ster.run(sterilizer["code"], [code], bi_lot="BI-9")
    assert cycle["status"] == "awaiting_bi"
    page_login(client, users.create(Role.MA))
    path = f"/cycles/{cycle['id']}"
    assert "awaiting BI" in client.get("/cycles").text
    no_control = form_post(client, path, "bi-form", result="negative")
    assert no_control.status_code == 422 and "control vial did not grow" in no_control.text
    assert ster.pack(code)["status"] == "quarantined"
    done = form_post(client, path, "bi-form", result="negative", control_grew="yes")
    assert done.status_code == 303
    page = client.get(path).text
    assert "BI negative recorded." in page and 'id="bi-form"' not in page
    assert ster.pack(code)["status"] == "sterile"


def test_a_positive_bi_opens_a_recall_and_says_so(
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization
) -> None:
    sterilizer = ster.sterilizer()
    (code,) = ster.packs(1)
    cycle = ster.run(sterilizer["code"], [code], bi_lot="BI-1")
    page_login(client, users.create(Role.MA))
    path = f"/cycles/{cycle['id']}"
    done = form_post(client, path, "bi-form", result="positive", control_grew="yes")
    assert done.status_code == 303
    assert "BI POSITIVE" in client.get(path).text
    assert "OUT OF SERVICE" in client.get("/cycles").text
    assert "recalled" in client.get(f"/p/{code}").text


def test_cycle_forms_need_csrf_and_the_ma_role(
    client: TestClient[Litestar], users: UserFactory, ster: Sterilization
) -> None:
    sterilizer = ster.sterilizer()
    cycle = ster.start(sterilizer["code"], ster.packs(1))
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
    assert ster.ok(client.get(f"/api/v1/cycles/{cycle['id']}", headers=ster.ma))["status"] == (
        "running"
    )


def test_unknown_or_absurd_cycle_ids_are_html_404s(
    client: TestClient[Litestar], users: UserFactory
) -> None:
    page_login(client, users.create(Role.MA))
    for cycle_id in (12345, 99999999999):
        response = client.get(f"/cycles/{cycle_id}")
        assert response.status_code == 404 and "No cycle with id" in response.text
