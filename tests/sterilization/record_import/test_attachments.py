"""Attachments of a cycle (SPEC section 8): photos, scans and PDFs of a paper printout,
typed by their content, kept in the database and never deleted."""

from __future__ import annotations

import hashlib
from typing import Any

from kernel.auth.models import Role
from tests.sterilization.records.samples import tuttnauer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def attach(steri, cycle_id: int, name: str, data: bytes, *, as_type: str = "image/png",
           headers: dict[str, str] | None = None) -> Any:  # fmt: skip
    return steri.client.post(
        f"/api/v1/cycles/{cycle_id}/attachments",
        files={"file": (name, data, as_type)},
        headers=headers or steri.ma,
    )


def a_cycle(steri) -> dict[str, Any]:
    sterilizer = steri.sterilizer()
    return steri.start(sterilizer["code"])


def test_a_photo_of_the_printout_is_kept_with_the_cycle_and_listed(steri):
    cycle = a_cycle(steri)
    added = steri.ok(attach(steri, cycle["id"], "printout.jpg", JPEG), 201)
    assert added["content_type"] == "image/jpeg"
    assert added["size"] == len(JPEG)
    assert added["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert added["filename"] == "printout.jpg"
    listed = steri.ok(steri.client.get(f"/api/v1/cycles/{cycle['id']}/attachments",
                                       headers=steri.users.headers(Role.AUDITOR)))  # fmt: skip
    assert [a["id"] for a in listed] == [added["id"]]
    assert set(listed[0]) == {"id", "filename", "content_type", "size", "sha256",
                              "uploaded_by", "at"}  # fmt: skip
    detail = steri.ok(steri.client.get(f"/api/v1/cycles/{cycle['id']}", headers=steri.ma))
    assert [a["id"] for a in detail["attachments"]] == [added["id"]]


def test_an_attachment_comes_back_byte_for_byte_as_the_type_read_from_it(steri):
    cycle = a_cycle(steri)
    for name, data, expected in (
        ("scan.pdf", PDF, "application/pdf"),
        ("photo.png", PNG, "image/png"),
        ("cycle_000259.txt", tuttnauer("cycle_000259.txt"), "text/plain; charset=utf-8"),
    ):
        added = steri.ok(attach(steri, cycle["id"], name, data), 201)
        got = steri.client.get(
            f"/api/v1/cycles/{cycle['id']}/attachments/{added['id']}", headers=steri.ma
        )
        assert got.status_code == 200
        assert got.content == data
        assert got.headers["content-type"] == expected
        assert got.headers["x-content-type-options"] == "nosniff"


def test_the_content_type_is_sniffed_not_trusted(steri):
    cycle = a_cycle(steri)
    # A PNG named .pdf and claimed as PDF is stored as PNG.
    added = steri.ok(attach(steri, cycle["id"], "scan.pdf", PNG, as_type="application/pdf"), 201)
    assert added["content_type"] == "image/png"
    # An executable claimed as a JPEG is refused.
    refused = attach(steri, cycle["id"], "photo.jpg", b"MZ\x90\x00\x03" + bytes(100),
                     as_type="image/jpeg")  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "file"


def test_an_attachment_over_10_mb_is_refused_and_nothing_is_kept(steri):
    cycle = a_cycle(steri)
    response = attach(steri, cycle["id"], "huge.pdf", PDF + bytes(10 * 1024 * 1024))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    listed = steri.ok(steri.client.get(f"/api/v1/cycles/{cycle['id']}/attachments",
                                       headers=steri.ma))  # fmt: skip
    assert listed == []


def test_an_empty_file_is_refused(steri):
    cycle = a_cycle(steri)
    assert attach(steri, cycle["id"], "empty.txt", b"").status_code == 422


def test_attachments_are_never_deleted(steri):
    cycle = a_cycle(steri)
    added = steri.ok(attach(steri, cycle["id"], "photo.png", PNG), 201)
    url = f"/api/v1/cycles/{cycle['id']}/attachments/{added['id']}"
    assert steri.client.delete(url, headers=steri.admin).status_code == 405
    assert steri.client.get(url, headers=steri.ma).content == PNG


def test_only_ma_and_admin_attach_files_everyone_reads_them(steri):
    cycle = a_cycle(steri)
    auditor = steri.users.headers(Role.AUDITOR)
    assert attach(steri, cycle["id"], "photo.png", PNG, headers=auditor).status_code == 403
    assert steri.ok(attach(steri, cycle["id"], "photo.png", PNG, headers=steri.admin), 201)


def test_an_attachment_of_another_cycle_is_not_found(steri):
    first, second = a_cycle(steri), a_cycle(steri)
    added = steri.ok(attach(steri, first["id"], "photo.png", PNG), 201)
    wrong = steri.client.get(
        f"/api/v1/cycles/{second['id']}/attachments/{added['id']}", headers=steri.ma
    )
    assert wrong.status_code == 404
    assert attach(steri, 999_999, "photo.png", PNG).status_code == 404


def test_a_path_in_the_uploaded_name_is_dropped(steri):
    cycle = a_cycle(steri)
    added = steri.ok(attach(steri, cycle["id"], "../../etc/photo.png", PNG), 201)
    assert added["filename"] == "photo.png"
