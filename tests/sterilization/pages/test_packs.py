"""The pack page over real HTTP: OK to use or not and why, recording use, marking a pack
compromised (CSRF, roles, double taps, refusals shown on the page)."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from kernel.auth.models import Role
from tests.factories import UserFactory, csrf_token_from, form_post, page_login
from tests.sterilization_factories import Sterilization


def nonce_from(html: str) -> str:
    match = re.search(r'name="nonce" value="([^"]+)"', html)
    assert match, "form has no nonce"
    return match.group(1)


def test_pack_page_shows_green_ok_to_use_with_details_and_actions(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization, sterile_pack: str
) -> None:
    code = sterile_pack
    page_login(client, users.create(Role.MA))
    page = client.get(f"/p/{code.lower()}")
    assert page.status_code == 200
    assert "banner-ok" in page.text and "OK TO USE" in page.text
    assert "Exam kit" in page.text and "Mirror" in page.text
    assert "Cycle 1" in page.text and "Autoclave" in page.text
    assert f'action="/p/{code}/use"' in page.text
    assert "Mark compromised" in page.text


def test_recording_use_turns_the_banner_red_already_used(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization, sterile_pack: str
) -> None:
    code = sterile_pack
    page_login(client, users.create(Role.MA))
    response = form_post(client, f"/p/{code}", "use-form", encounter_ref="ENC-77")
    assert response.status_code == 303
    assert response.headers["location"] == f"/p/{code}"
    page = client.get(f"/p/{code}")
    assert "Recorded: pack" in page.text and "ENC-77" in page.text
    assert "banner-stop" in page.text and "DO NOT USE" in page.text
    assert "already used on encounter ENC-77" in page.text
    assert f'action="/p/{code}/use"' not in page.text
    assert steri.pack(code)["status"] == "used"


def test_a_double_tap_on_use_records_once_and_says_so(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization, sterile_pack: str
) -> None:
    code = sterile_pack
    page_login(client, users.create(Role.MA))
    html = client.get(f"/p/{code}").text
    body = {"_csrf_token": csrf_token_from(html), "nonce": nonce_from(html), "encounter_ref": "E1"}
    first = client.post(f"/p/{code}/use", data=body, follow_redirects=False)
    second = client.post(f"/p/{code}/use", data=body, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert "Already recorded" in client.get(f"/p/{code}").text
    history = client.get(f"/api/v1/packs/{code}/history", headers=steri.ma).json()["items"]
    assert [e["event"] for e in history].count("used") == 1


def test_using_a_used_pack_is_refused_with_the_reason_on_the_page(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization, sterile_pack: str
) -> None:
    code = sterile_pack
    page_login(client, users.create(Role.MA))
    html = client.get(f"/p/{code}").text  # the form, opened before someone else used it
    assert steri.use(code, "ENC-1").status_code == 200
    response = client.post(
        f"/p/{code}/use",
        data={"_csrf_token": csrf_token_from(html), "nonce": nonce_from(html),
              "encounter_ref": "ENC-2"},
    )  # fmt: skip
    assert response.status_code == 409
    assert "text/html" in response.headers["content-type"]
    assert "must not be used: already used on encounter ENC-1" in response.text
    assert "DO NOT USE" in response.text
    assert steri.pack(code)["encounter_ref"] == "ENC-1"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"encounter_ref": "  "}, "Enter the encounter reference"),
        ({"encounter_ref": "x" * 101}, "Encounter reference:"),
    ],
)
def test_bad_encounter_reference_is_refused_and_writes_nothing(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization, sterile_pack: str,
    fields: dict[str, str], message: str,
) -> None:  # fmt: skip
    code = sterile_pack
    page_login(client, users.create(Role.MA))
    response = form_post(client, f"/p/{code}", "use-form", **fields)
    assert response.status_code == 422
    assert message in response.text
    assert steri.pack(code)["status"] == "sterile"


def test_marking_compromised_needs_a_reason_then_shows_it(
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization, sterile_pack: str
) -> None:
    code = sterile_pack
    page_login(client, users.create(Role.MA))
    refused = form_post(client, f"/p/{code}", "compromise-form", reason="x")
    assert refused.status_code == 422 and "Reason:" in refused.text
    done = form_post(client, f"/p/{code}", "compromise-form", reason="wrap torn")
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
    client: TestClient[Litestar], users: UserFactory, steri: Sterilization, sterile_pack: str
) -> None:
    code = sterile_pack
    page_login(client, users.create(Role.MA))
    response = client.post(f"/p/{code}/use", data={"encounter_ref": "E1"})
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert steri.pack(code)["status"] == "sterile"


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PURCHASING])
def test_other_roles_read_the_pack_page_but_cannot_act(
    client: TestClient[Litestar],
    users: UserFactory,
    steri: Sterilization,
    sterile_pack: str,
    role: Role,
) -> None:
    code = sterile_pack
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
    assert steri.pack(code)["status"] == "sterile"
