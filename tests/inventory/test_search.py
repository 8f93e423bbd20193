"""The one item search (`inventory.search`), behind `GET /api/v1/items?q=`, the items page
and the par-level grid: text anywhere in the SKU, name, vendor SKU or GTIN, any case, with
`%`, `_` and `\\` as plain characters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory import catalogue_queries, lookups, search
from kernel.auth.models import Role
from tests.factories import page_login
from tests.inventory_factories import InventoryFactory


@pytest.fixture
def items(inv: InventoryFactory) -> None:
    acme = inv.supplier("Acme")
    inv.item("GLV-M", name="Nitrile gloves 100% latex-free", vendor_sku="AC_GLV", category="gloves",
             gtin="09506000134352", unit_cost=Decimal("7.5"))  # fmt: skip
    inv.item("GLVXM", name="Vinyl gloves", vendor_sku="ACXGLV", category="gloves")
    inv.item("GAUZE", name="Gauze 4x4 back\\slash", supplier_id=acme, active=False)
    inv.par("GLV-M", "EXAM1", 10, 4)


def found(database, q: str, **filters) -> list[str]:
    with database.session(write=False) as session:
        rows, total = search.find_items(
            session, search.ItemFilter(q=q, status="all", **filters), limit=50, offset=0
        )
    assert total == len(rows)
    return [item.sku for item, _ in rows]


@pytest.mark.parametrize(
    ("q", "skus"),
    [
        ("glv", ["GLV-M", "GLVXM"]),  # SKU, any case
        ("NITRILE", ["GLV-M"]),  # name
        ("ac_glv", ["GLV-M"]),  # vendor SKU; `_` is an underscore, not "any character"
        ("100%", ["GLV-M"]),  # `%` is a percent sign, not "anything"
        ("%", ["GLV-M"]),
        ("_", ["GLV-M"]),
        ("\\", ["GAUZE"]),
        ("0950600013", ["GLV-M"]),  # GTIN
        ("nothing like it", []),
    ],
)
def test_item_search_matches_text_anywhere_and_takes_wildcards_literally(database, items, q, skus):
    assert found(database, q) == skus


def test_item_search_filters_by_status_supplier_category_and_reorder_point(database, items, inv):
    with database.session(write=False) as session:

        def skus(**filters) -> list[str]:
            rows, _ = search.search_items(
                session, search.ItemFilter(**filters), sort="sku", descending=False, limit=50,
                offset=0,
            )  # fmt: skip
            return [row.sku for row in rows]

        assert skus() == ["GLV-M", "GLVXM"]  # active only by default
        assert skus(status="inactive") == ["GAUZE"]
        assert skus(status="all", q="g") == ["GAUZE", "GLV-M", "GLVXM"]
        assert skus(category="gloves", q="vinyl") == ["GLVXM"]
        assert skus(below_reorder=True) == ["GLV-M"]  # 0 on hand, reorder point 4
        supplier = lookups.get_item(session, "GAUZE").supplier_id
        assert skus(status="all", supplier_id=supplier) == ["GAUZE"]


def test_the_api_the_items_page_and_the_par_grid_find_the_same_items(
    client, users, database, items
):
    api = client.get("/api/v1/items", params={"q": "_glv"}, headers=users.headers(Role.AUDITOR))
    assert [i["sku"] for i in api.json()["items"]] == ["GLV-M"]
    with database.session(write=False) as session:
        rows, _ = catalogue_queries.par_grid(
            session, lookups.get_location(session, "EXAM1"), q="_glv", only_set=False,
            limit=50, offset=0,
        )  # fmt: skip
    assert [row.sku for row in rows] == ["GLV-M"]
    page_login(client, users.create(Role.AUDITOR))
    page = client.get("/catalogue/items", params={"q": "_glv"}).text
    assert ">GLV-M</a>" in page and ">GLVXM</a>" not in page
