"""The par-level grid: only changed rows saved, bad rows refused in place, filters."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from inventory.models import Item, Location, StockLevel
from kernel.auth.models import Role
from kernel.db import Database
from tests.factories import UserFactory, assert_csp_clean, csrf_token_from, page_login
from tests.inventory.pages.catalogue_pages import (
    audit_count,
)

# --- par-level grid --------------------------------------------------------------------


def grid_fields(html: str) -> dict[str, str]:
    """The grid form's inputs with the values the page filled in (row index → field)."""
    form = re.search(r'<form method="post" action="/catalogue/par-levels".*?</form>', html, re.S)
    assert form, "no grid form"
    return dict(
        re.findall(
            r'name="(row-[^"]+|location|q|only|page|nonce)"[^>]*?value="([^"]*)"', form.group(0)
        )
    )


def row_index(fields: dict[str, str], sku: str) -> str:
    return next(k.split("-")[1] for k, v in fields.items() if k.endswith("-sku") and v == sku)


def levels(database: Database, location: str = "EXAM1") -> dict[str, tuple[int | None, int | None]]:
    with database.session(write=False) as session:
        rows = session.execute(
            select(Item.sku, StockLevel.par_level, StockLevel.reorder_point)
            .join(StockLevel, StockLevel.item_id == Item.id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(Location.code == location)
        )
        return {sku: (par, point) for sku, par, point in rows}


def post_grid(client: TestClient[Litestar], path: str, **changes: str) -> Any:
    html = client.get(path).text
    fields = grid_fields(html)
    for key, value in changes.items():
        sku, name = key.rsplit(":", 1)
        fields[f"row-{row_index(fields, sku)}-{name}"] = value
    fields["_csrf_token"] = csrf_token_from(html)
    return client.post("/catalogue/par-levels", data=fields, follow_redirects=False)


def test_par_grid_saves_only_the_changed_rows(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    page = client.get("/catalogue/par-levels", params={"location": "EXAM1"})
    assert page.status_code == 200 and 'id="par-grid"' in page.text
    assert_csp_clean(page)
    fields = grid_fields(page.text)
    glv = row_index(fields, "GLV/M")
    assert (fields[f"row-{glv}-par_level"], fields[f"row-{glv}-reorder_point"]) == ("10", "4")
    assert "MASK-OLD" not in page.text  # inactive items are not on the grid
    before = audit_count(database)
    response = post_grid(
        client, "/catalogue/par-levels?location=EXAM1",
        **{"GLV/M:par_level": "12", "SUT-4:par_level": "7", "SUT-4:reorder_point": ""},
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == "/catalogue/par-levels?location=EXAM1"
    assert "Saved 2 par levels at EXAM1." in client.get(response.headers["location"]).text
    # GLV/M keeps its reorder point 4; SUT-4 gets half of 7 rounded up; GAUZE-4 untouched
    assert levels(database) == {"GLV/M": (12, 4), "GAUZE-4": (6, 2), "SUT-4": (7, 4)}
    assert audit_count(database) == before + 2
    nothing = post_grid(client, "/catalogue/par-levels?location=EXAM1")
    assert nothing.status_code == 303
    assert "Nothing changed." in client.get(nothing.headers["location"]).text


def test_par_grid_rejects_bad_rows_in_place_and_writes_nothing(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    before, audited = levels(database), audit_count(database)
    bad_format = post_grid(
        client, "/catalogue/par-levels?location=EXAM1",
        **{"GLV/M:par_level": "20", "GAUZE-4:par_level": "-3", "SUT-4:par_level": "many"},
    )  # fmt: skip
    assert bad_format.status_code == 422
    html = bad_format.text
    fields = grid_fields(html)
    gauze, sut, glv = (row_index(fields, s) for s in ("GAUZE-4", "SUT-4", "GLV/M"))
    assert f'id="row-{gauze}-par_level-error">✖ Must be at least 0.<' in html
    assert f'id="row-{sut}-par_level-error">✖ Must be a whole number.<' in html
    assert "check the 2 rows marked below" in html
    assert fields[f"row-{glv}-par_level"] == "20"  # a good row keeps its typed value too
    assert fields[f"row-{sut}-par_level"] == "many"
    # a rule of the domain: a reorder point above the par level
    above = post_grid(
        client, "/catalogue/par-levels?location=EXAM1",
        **{"GLV/M:par_level": "20", "GAUZE-4:reorder_point": "9"},
    )  # fmt: skip
    assert above.status_code == 422
    fields = grid_fields(above.text)
    assert (
        f'id="row-{gauze}-reorder_point-error">✖ The reorder point (9) cannot be above the par '
        "level (6).<"
    ) in above.text
    assert fields[f"row-{gauze}-reorder_point"] == "9" and fields[f"row-{glv}-par_level"] == "20"
    assert levels(database) == before and audit_count(database) == audited  # GLV/M not saved


def test_par_grid_filters_switch_location_and_unknown_location_is_404(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int]
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    only = client.get("/catalogue/par-levels", params={"location": "exam1", "only": "1"})
    assert only.status_code == 200
    listed = sorted(v for k, v in grid_fields(only.text).items() if k.endswith("-sku"))
    assert listed == ["GAUZE-4", "GLV/M"]
    supply = client.get("/catalogue/par-levels", params={"location": "SUPPLY", "only": "1"})
    assert "No items match." in supply.text
    assert '<option value="SUPPLY" selected>' in supply.text
    search = client.get("/catalogue/par-levels", params={"location": "EXAM1", "q": "gauze"})
    assert [v for k, v in grid_fields(search.text).items() if k.endswith("-sku")] == ["GAUZE-4"]
    assert client.get("/catalogue/par-levels", params={"location": "NOPE"}).status_code == 404


def test_par_grid_refuses_repeated_items_and_oversized_posts_and_writes_nothing(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    """A forged grid post (the red-team finding: 20,000 rows repeating one item wrote
    thousands of audit entries) is refused whole."""
    page_login(client, users.create(Role.PURCHASING))
    html = client.get("/catalogue/par-levels?location=EXAM1").text
    token = csrf_token_from(html)
    before, audited = levels(database), audit_count(database)

    def forged(rows: int, sku: str = "GLV/M") -> Any:
        fields = {"location": "EXAM1", "_csrf_token": token}
        for i in range(rows):
            fields |= {f"row-{i}-sku": sku, f"row-{i}-par_level": str(i + 1),
                       f"row-{i}-was_par_level": "10", f"row-{i}-reorder_point": "",
                       f"row-{i}-was_reorder_point": "4"}  # fmt: skip
        return client.post("/catalogue/par-levels", data=fields, follow_redirects=False)

    repeated = forged(3)
    assert repeated.status_code == 422 and "repeated: GLV/M" in repeated.text
    oversized = forged(101, sku="SUT-4")
    assert oversized.status_code == 422 and "at most 100 rows" in oversized.text
    assert levels(database) == before and audit_count(database) == audited
