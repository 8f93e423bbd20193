"""The tray page and its count sheet over real HTTP (`/s/{code}`): scanning the tray opens
the count, a short count comes back listing what is missing, "Accept short" needs a
reason, and the pack page says SHORT."""

from __future__ import annotations

import io

from PIL import Image

from kernel.auth.models import Role
from tests.factories import assert_csp_clean, form_post, page_login

FULL = {"count-0": "1", "count-1": "2", "count-2": "1", "count-3": "1"}


def test_scanning_a_tray_opens_its_count_sheet_with_one_big_row_per_instrument(sets, client, users):
    sets.template()
    tray = sets.tray()["code"]
    page_login(client, users.create(Role.MA))
    page = client.get(f"/s/{tray.lower()}")
    assert page.status_code == 200, page.text
    assert_csp_clean(page)
    assert 'id="count-sheet"' in page.text
    assert page.text.count("data-expected=") == 4
    assert "Adson forceps 1x2 teeth" in page.text and "Accept short" in page.text
    assert 'data-step="1"' in page.text and 'data-step="-1"' in page.text
    scanned = client.get("/scan", params={"code": f"https://clinic.example/s/{tray}"},
                         follow_redirects=False)  # fmt: skip
    assert scanned.status_code in (302, 303) and scanned.headers["location"] == f"/s/{tray}"


def test_a_full_count_on_the_page_wraps_the_tray_into_a_pack(sets, client, users):
    sets.template()
    tray = sets.tray()["code"]
    page_login(client, users.create(Role.MA))
    done = form_post(client, f"/s/{tray}", "count-sheet", **FULL)
    assert done.status_code == 303, done.text
    pack = done.headers["location"].removeprefix("/p/")
    body = sets.pack(pack)
    assert body["set"] == tray and body["short"] == []
    again = client.get(f"/s/{tray}")
    assert "In pack" in again.text and pack in again.text
    assert 'id="count-sheet"' not in again.text  # in a live pack: nothing to count


def test_a_short_count_on_the_page_lists_what_is_missing_and_writes_nothing(sets, client, users):
    sets.template()
    tray = sets.tray()["code"]
    page_login(client, users.create(Role.MA))
    refused = form_post(client, f"/s/{tray}", "count-sheet", **{**FULL, "count-1": "1"})
    assert refused.status_code == 422
    assert "SHORT: 1 \u00d7 Adson forceps 1x2 teeth" in refused.text
    assert 'value="1"' in refused.text  # what was typed stays
    assert sets.get_set(tray)["pack_count"] == 0
    no_reason = form_post(
        client, f"/s/{tray}", "count-sheet", **{**FULL, "count-1": "1"}, accept_short="1"
    )
    assert no_reason.status_code == 422 and "Say why" in no_reason.text
    assert sets.get_set(tray)["pack_count"] == 0


def test_a_short_count_accepted_on_the_page_shows_short_on_the_pack_page(sets, client, users):
    sets.template()
    tray = sets.tray()["code"]
    page_login(client, users.create(Role.MA))
    done = form_post(
        client, f"/s/{tray}", "count-sheet", **{**FULL, "count-1": "1"}, accept_short="1",
        short_reason="One Adson out for repair",
    )  # fmt: skip
    assert done.status_code == 303, done.text
    pack_page = client.get(done.headers["location"])
    assert "SHORT: 1 \u00d7 Adson forceps 1x2 teeth missing" in pack_page.text
    assert "One Adson out for repair" in pack_page.text
    assert "Suture kit" in pack_page.text and "version 1" in pack_page.text


def test_the_count_sheet_shows_the_template_photo_when_one_was_uploaded(sets, client, users):
    sets.template()
    tray = sets.tray()["code"]
    image = Image.new("RGB", (640, 480), (200, 220, 240))
    raw = io.BytesIO()
    image.save(raw, format="PNG")
    uploaded = client.put(
        "/api/v1/set-templates/SUTURE/photo",
        files={"file": ("tray.png", raw.getvalue(), "image/png")},
        headers=sets.ma,
    )
    assert uploaded.status_code == 200, uploaded.text
    assert sets.ok(client.get("/api/v1/set-templates/SUTURE", headers=sets.ma))["photo_url"]
    page_login(client, users.create(Role.MA))
    page = client.get(f"/s/{tray}")
    assert 'src="/set-templates/SUTURE/photo"' in page.text
    photo = client.get("/set-templates/SUTURE/photo")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(photo.content)).size == (640, 480)
    not_image = client.put(
        "/api/v1/set-templates/SUTURE/photo",
        files={"file": ("tray.png", b"<svg/>", "image/png")},
        headers=sets.ma,
    )
    assert not_image.status_code == 422


def test_someone_who_only_reads_sees_the_tray_but_no_count_sheet(sets, client, users):
    sets.template()
    tray = sets.tray()["code"]
    page_login(client, users.create(Role.AUDITOR))
    page = client.get(f"/s/{tray}")
    assert page.status_code == 200
    assert 'id="count-sheet"' not in page.text and "needs a medical assistant" in page.text
