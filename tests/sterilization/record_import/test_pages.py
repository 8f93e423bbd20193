"""The pages (SPEC section 8): the cycle page shows the machine's record, the discrepancies
and the attachments, and takes a record file or a photo; the import page takes several
record files and says what became of each."""

from __future__ import annotations

from typing import Any

from kernel.auth.models import Role
from tests.factories import csrf_token_from, page_login
from tests.sterilization.records.samples import TUTTNAUER, tuttnauer

from .test_attachments import JPEG


def upload(client, page: str, action: str, files: Any, **fields: str) -> Any:
    token = csrf_token_from(client.get(page).text)
    return client.post(
        action, files=files, data={"_csrf_token": token, **fields}, follow_redirects=False
    )


def test_the_cycle_page_shows_the_record_and_its_discrepancies(records, client):
    elara = records.elara()
    body = {"sterilizer": elara["code"], "cycle_type": "prevac_134_3",
            "machine_cycle_number": 259}  # fmt: skip
    typed = records.steri.ok(records.steri.client.post("/api/v1/cycles", json=body,
                                                       headers=records.steri.ma), 201)  # fmt: skip
    records.steri.complete(typed, temperature_c=131.0, exposure_minutes=5.0)
    page_login(client, records.steri.users.create(Role.MA))
    path = f"/cycles/{typed['id']}"
    record = {"file": ("cycle_000259.txt", tuttnauer("cycle_000259.txt"), "text/plain")}
    response = upload(client, path, f"{path}/attachments", record)
    assert response.status_code == 303
    assert response.headers["location"] == path
    page = client.get(path).text
    assert 'id="discrepancies"' in page
    assert 'data-field="temperature_c"><td>temperature_c</td><td>131.0</td><td>135.2</td>' in page
    assert "WRAPPED INSTU (Customized) · machine cycle 259 · S/N 16032087" in page
    assert "135.2\u2013135.5 °C" in page
    assert "cycle_000259.txt" in page  # listed among the attachments


def test_a_photo_of_the_printout_is_attached_from_the_tablet(records, client):
    elara = records.elara()
    cycle = records.steri.start(elara["code"], cycle_type="prevac_134_3")
    page_login(client, records.steri.users.create(Role.MA))
    path = f"/cycles/{cycle['id']}"
    page = client.get(path).text
    assert 'id="attach-form"' in page and 'accept="image/*' in page
    response = upload(client, path, f"{path}/attachments",
                      {"file": ("IMG_0001.jpg", JPEG, "image/jpeg")})  # fmt: skip
    assert response.status_code == 303
    page = client.get(path).text
    assert "Attached IMG_0001.jpg." in page
    link = f'href="{path}/attachments/'
    assert link in page
    attachment_path = page.split(link, 1)[1].split('"', 1)[0]
    got = client.get(f"{path}/attachments/{attachment_path}")
    assert got.status_code == 200 and got.content == JPEG
    assert got.headers["content-type"] == "image/jpeg"


def test_the_auditor_sees_the_record_but_no_attach_form(records, client):
    elara = records.elara()
    answer = records.imported("cycle_000259.txt")
    page_login(client, records.steri.users.create(Role.AUDITOR))
    page = client.get(f"/cycles/{answer['cycle_id']}").text
    assert 'id="machine-record"' in page and 'id="attach-form"' not in page
    assert "chemical indicator not entered" in page
    assert elara["code"] in page


def test_several_records_are_imported_at_once_with_a_result_per_file(records, client):
    records.elara()
    page_login(client, records.steri.users.create(Role.MA))
    names = ["cycle_000259.txt", "cycle_000260.txt", "cycle_000259.cyc"]
    files = [("files", (n, (TUTTNAUER / n).read_bytes(), "text/plain")) for n in names]
    response = upload(client, "/records/import", "/records/import", files)
    assert response.status_code == 200
    statuses = [chunk.split('"', 1)[0] for chunk in response.text.split('data-status="')[1:]]
    assert statuses == ["imported", "imported", "refused"]
    assert "a binary file" in response.text
    again = upload(client, "/records/import", "/records/import", files[:1])
    assert 'data-status="already imported"' in again.text
    assert len(records.log()) == 2


def test_the_sterilizers_page_links_to_the_import(records, client):
    page_login(client, records.steri.users.create(Role.MA))
    assert 'href="/records/import"' in client.get("/admin/sterilizers").text
