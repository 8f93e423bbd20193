"""The import page through HTTP with a browser's session cookie: upload → dry-run report
→ confirm, rejected files, roles, CSRF on the multipart form."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from inventory.models import CatalogueUpload, Item, StockLevel
from kernel.auth.models import Role
from tests.factories import csrf_token_from, page_login

FIXTURES = Path(__file__).parents[1] / "fixtures"
ITEMS = (FIXTURES / "distributor_items.csv").read_bytes()
PAR_LEVELS = (FIXTURES / "distributor_par_levels.csv").read_bytes()


def count(database, model) -> int:
    with database.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def purchaser(app, users):
    with TestClient(app) as browser:
        page_login(browser, users.create(Role.PURCHASING))
        yield browser


def upload(browser, files: dict[str, tuple[str, bytes, str]], token: str | None = None):
    page = browser.get("/catalogue/import")
    return browser.post(
        "/catalogue/import",
        data={"_csrf_token": token or csrf_token_from(page.text)},
        files=files,
    )


def test_upload_shows_the_dry_run_then_confirm_imports(purchaser, database):
    page = purchaser.get("/catalogue/import")
    assert page.status_code == 200 and 'href="/catalogue/import"' in page.text  # nav link
    files = {
        "items_file": ("items.csv", ITEMS, "text/csv"),
        "par_levels_file": ("par.csv", PAR_LEVELS, "text/csv"),
    }
    checked = upload(purchaser, files)
    assert checked.status_code == 200, checked.text[:2000]
    assert "Ready to import" in checked.text and "500 to create" in checked.text
    assert "999 to create" in checked.text and "Medline Industries" in checked.text
    assert count(database, Item) == 0 and count(database, CatalogueUpload) == 1
    token = checked.text.split('name="token" value="')[1].split('"')[0]
    confirm = {"_csrf_token": csrf_token_from(checked.text), "token": token}
    done = purchaser.post("/catalogue/import/confirm", data=confirm, follow_redirects=True)
    assert done.status_code == 200
    assert "Imported items: 500 created, 0 updated, 0 unchanged" in done.text
    assert count(database, Item) == 500 and count(database, StockLevel) == 999
    assert count(database, CatalogueUpload) == 0
    again = purchaser.post("/catalogue/import/confirm", data=confirm, follow_redirects=True)
    assert "already imported or has expired" in again.text
    assert count(database, Item) == 500


def test_a_rejected_file_shows_its_problems_by_row_and_keeps_nothing(purchaser, database):
    bad = ITEMS.decode("utf-8-sig").replace(",pair,50,", ",pair,-50,", 1).encode()
    checked = upload(purchaser, {"items_file": ("items.csv", bad, "text/csv")})
    assert checked.status_code == 422
    assert "Not imported" in checked.text and "Import now" not in checked.text
    assert "must be a whole number from 1 to 1,000,000" in checked.text
    assert count(database, Item) == 0 and count(database, CatalogueUpload) == 0


def test_uploading_nothing_asks_for_a_file(purchaser):
    response = upload(purchaser, {"items_file": ("", b"", "application/octet-stream")})
    assert response.status_code == 422
    assert "Choose an items file" in response.text


def test_the_multipart_form_needs_its_csrf_token(purchaser, database):
    purchaser.get("/catalogue/import")
    response = purchaser.post(
        "/catalogue/import", files={"items_file": ("items.csv", ITEMS, "text/csv")}
    )
    assert response.status_code == 403
    assert count(database, CatalogueUpload) == 0


def test_another_user_cannot_confirm_my_upload(app, purchaser, users, database):
    checked = upload(purchaser, {"items_file": ("items.csv", ITEMS, "text/csv")})
    token = checked.text.split('name="token" value="')[1].split('"')[0]
    with TestClient(app) as other:
        page_login(other, users.create(Role.ADMIN))
        page = other.get("/catalogue/import")
        response = other.post(
            "/catalogue/import/confirm",
            data={"_csrf_token": csrf_token_from(page.text), "token": token},
            follow_redirects=True,
        )
        assert "already imported or has expired" in response.text
    assert count(database, Item) == 0


@pytest.mark.parametrize("role", [Role.MA, Role.AUDITOR])
def test_other_roles_get_a_403_page_and_no_nav_link(app, users, role):
    with TestClient(app) as browser:
        page_login(browser, users.create(role))
        home = browser.get("/")
        assert 'href="/catalogue/import"' not in home.text
        response = browser.get("/catalogue/import")
        assert response.status_code == 403
        assert "Not allowed" in response.text


def test_page_downloads_are_the_api_exports(purchaser):
    items = purchaser.get("/catalogue/import/items.csv")
    assert items.status_code == 200 and items.text.startswith("sku,name,unit,")
    par = purchaser.get("/catalogue/import/par-levels.csv")
    assert par.text == "sku,location,par_level,reorder_point\r\n"
