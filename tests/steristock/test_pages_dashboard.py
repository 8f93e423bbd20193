"""The dashboard composes both domains: low stock, expiring lots, sterilizers, BIs
awaiting results, open recalls, and an SVG chart of daily use."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from litestar import Litestar
from litestar.testing import TestClient

from inventory import ledger, stock_queries
from kernel.auth.models import Role
from kernel.clock import ClinicTime
from kernel.db import Database
from kernel.web.charts import daily_bar_chart
from tests.factories import UserFactory, page_login
from tests.inventory_factories import InventoryFactory, days_from_today, move
from tests.sterilization_factories import Sterilization


def test_empty_dashboard_says_so_plainly(client: TestClient[Litestar], users: UserFactory) -> None:
    page_login(client, users.create(Role.AUDITOR))
    page = client.get("/")
    assert page.status_code == 200
    assert "Every bin is above its reorder point." in page.text
    assert "No lot expires within 30 days." in page.text
    assert 'hx-get="/dashboard/usage"' in page.text
    assert (
        "Nothing was taken from stock in the last 8 weeks." in client.get("/dashboard/usage").text
    )
    assert "Open recalls" not in page.text


def test_dashboard_shows_what_needs_attention_from_both_domains(
    client: TestClient[Litestar], users: UserFactory, database: Database
) -> None:
    inv = InventoryFactory(database)
    inv.locations("EXAM1")
    ma = users.headers(Role.MA)
    inv.item("GLV/M", name="Gloves M", unit="box")
    inv.par("GLV/M", "EXAM1", 10, 4)
    inv.item("SUT-4", name="Suture 4-0", lot_tracked=True)
    for body in (
        {"sku": "GLV/M", "quantity": 6},
        {"sku": "SUT-4", "quantity": 3, "lot": "A1", "expires_on": days_from_today(10)},
    ):
        assert move(client, ma, kind="receive", location="EXAM1", **body).status_code == 201
    assert (
        move(client, ma, kind="consume", sku="GLV/M", location="EXAM1", quantity=3).status_code
        == 201
    )

    ster = Sterilization(client, users)
    steam = ster.sterilizer(kind="steam_prevac", name="Big Steam")
    other = ster.sterilizer(name="Small Steam")
    implant = ster.packs(1, implant=True)
    held = ster.run(steam["code"], implant, cycle_type="prevac_132_4", bi_lot="BI-5")
    bad = ster.run(other["code"], ster.packs(1), bi_lot="BI-6")
    ster.bi(bad["id"], "positive")

    page_login(client, users.create(Role.MA))
    page = client.get("/").text
    low = page[page.index('id="low-stock"') : page.index('id="expiring"')]
    assert "Gloves M" in low and 'href="/b/EXAM1/GLV%2FM"' in low
    expiring = page[page.index('id="expiring"') : page.index('id="usage"')]
    assert "Suture 4-0" in expiring and days_from_today(10).isoformat() in expiring
    sterilizers = page[page.index('id="sterilizers"') : page.index('id="awaiting-bi"')]
    assert "Big Steam" in sterilizers and "not today" in sterilizers
    assert "out of service" in sterilizers and "positive spore test" in sterilizers
    awaiting = page[page.index('id="awaiting-bi"') : page.index('id="low-stock"')]
    assert f'href="/cycles/{held["id"]}"' in awaiting and "implants held" in awaiting
    assert f'href="/cycles/{bad["id"]}"' not in awaiting  # its BI is read
    recalls = page[page.index('id="recalls"') : page.index('id="sterilizers"')]
    assert "Small Steam" in recalls and "positive spore test (BI) on cycle 1" in recalls
    assert not re.search(r"\sstyle=|<style|<script(?![^>]*\bsrc=)", page)
    usage = client.get("/dashboard/usage").text  # loaded by htmx once the page shows
    assert "<svg" in usage and 'class="chart-bar"' in usage
    assert "Gloves M" in usage and "3 box in total" in usage
    assert not re.search(r"\sstyle=|<style|<script", usage)


def test_daily_consumption_counts_clinic_days_for_the_top_items(database: Database) -> None:
    inv = InventoryFactory(database)
    inv.locations("EXAM1")
    for sku in ("A", "B", "C"):
        inv.item(sku)
    tz = ZoneInfo("America/Chicago")
    with database.session() as session:
        from inventory.schemas.stock import ConsumeStock, ReceiveStock

        today = dt.datetime.now(tz).date()
        for sku, quantity in (("A", 9), ("B", 5), ("C", 1)):
            ledger.record_movement(
                session, actor="t", today=today,
                data=ReceiveStock(sku=sku, location="EXAM1", quantity=20),
            )  # fmt: skip
            ledger.record_movement(
                session, actor="t", today=today,
                data=ConsumeStock(sku=sku, location="EXAM1", quantity=quantity),
            )  # fmt: skip
    with database.session(write=False) as session:
        first = today - dt.timedelta(days=6)
        series = stock_queries.daily_consumption(
            session, first_day=first, days=7, zone=ClinicTime(tz), top=2
        )
    assert [(s.sku, s.total, s.per_day) for s in series] == [
        ("A", 9, [0] * 6 + [9]),
        ("B", 5, [0] * 6 + [5]),
    ]


def test_bar_chart_geometry_scales_to_the_busiest_day_and_marks_mondays() -> None:
    monday = dt.date(2026, 11, 2)
    chart = daily_bar_chart([0, 5, 10, 1, 0, 0, 0, 4], monday, width=800, height=128)
    assert chart.peak == 10 and chart.peak_day == dt.date(2026, 11, 4)
    heights = [b.height for b in chart.bars]
    assert heights[2] == 100 and heights[1] == 50 and heights[0] == 0
    assert heights[3] >= 2  # small but visible
    assert [t.label for t in chart.ticks] == ["2 Nov", "9 Nov"]
    assert all(b.y + b.height == chart.baseline for b in chart.bars)


def test_domain_pages_have_no_inline_script_style_or_handlers(
    client: TestClient[Litestar], users: UserFactory, database: Database
) -> None:
    inv = InventoryFactory(database)
    inv.locations("EXAM1")
    inv.item("GLV/M", name="Gloves M", unit="box", lot_tracked=True)
    ster = Sterilization(client, users)
    sterilizer = ster.sterilizer()
    (code,) = ster.packs(1)
    cycle = ster.start(sterilizer["code"], [code], bi_lot="BI-1")
    page_login(client, users.create(Role.MA))
    paths = ["/", "/dashboard/usage", f"/p/{code}", "/b/EXAM1/GLV%2FM", "/cycles",
             "/cycles/new", f"/cycles/{cycle['id']}"]  # fmt: skip
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store"
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text), path
        assert not re.search(r"\sstyle=|<style", response.text), path
        assert not re.search(r"\son[a-z]+=", response.text), path
