"""`/today`: the MA's checklist for the day (Bowie-Dick due, BIs to read with their
times, cycles running, recalls to act on, bins below their reorder point); each line
links to where it is resolved, and done lines tick off as the records arrive."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from kernel.auth.models import Role
from kernel.clock import FixedClock
from tests.factories import page_login
from tests.inventory_factories import InventoryFactory, move
from tests.sterilization_factories import Sterilization

CHICAGO = ZoneInfo("America/Chicago")
LINE = re.compile(
    r'<li class="today-line (?P<state>\w+)">.*?<a href="(?P<url>[^"]+)">(?P<text>[^<]+)</a>'
    r".*?(?:today-note\">(?P<note>[^<]*)</span>)?\s*</li>",
    re.S,
)


def section(html: str, name: str) -> list[dict[str, str]]:
    found = re.search(rf'id="today-{name}">(.*?)</section>', html, re.S)
    assert found, name
    return [m.groupdict() for m in LINE.finditer(found.group(1))]


@pytest.fixture
def tablet(app, client, users):
    app.state.clock = FixedClock(CHICAGO, dt.datetime(2026, 12, 3, 7, 30, tzinfo=CHICAGO))
    name = users.create(Role.MA)
    page_login(client, name)
    return client


def today(tablet) -> str:
    response = tablet.get("/today")
    assert response.status_code == 200
    return response.text


def test_the_bowie_dick_line_ticks_off_when_the_test_passes(app, tablet, users):
    steri = Sterilization(tablet, users)
    prevac = steri.sterilizer(kind="steam_prevac", name="Big Prevac")
    steri.sterilizer(kind="steam_gravity")  # no Bowie-Dick for gravity
    [line] = section(today(tablet), "bowie-dick")
    assert line["state"] == "todo" and line["text"] == "Bowie-Dick test on Big Prevac"
    assert line["url"] == f"/cycles/new?sterilizer={prevac['code']}"
    steri.run(prevac["code"], cycle_type="bowie_dick")
    [line] = section(today(tablet), "bowie-dick")
    # started 07:30; the 3.5-minute test and heating up end it at 07:43
    assert line["state"] == "done" and line["note"] == "passed 2026-12-03 07:43"
    app.state.clock.advance(dt.timedelta(days=1))  # a new day: due again
    assert section(today(tablet), "bowie-dick")[0]["state"] == "todo"


def test_bis_to_read_show_their_times_and_tick_off_when_read(app, tablet, users):
    steri = Sterilization(tablet, users)
    sterilizer = steri.sterilizer(name="Autoclave A")["code"]
    cycle = steri.start(sterilizer, bi_lot="LOT-5")
    [running] = section(today(tablet), "cycles")
    assert running["state"] == "todo" and running["note"] == "running since 2026-12-03 07:30"
    assert section(today(tablet), "bis") == []  # not ended: nothing to incubate yet
    app.state.clock.advance(dt.timedelta(minutes=45))
    steri.complete(cycle, ended_at=app.state.clock.now().isoformat())
    assert section(today(tablet), "cycles")[0]["state"] == "done"
    [bi] = section(today(tablet), "bis")
    assert bi["state"] == "todo" and bi["note"] == "read from 2026-12-04 08:15"
    assert bi["url"] == f"/cycles/{cycle['id']}"
    app.state.clock.advance(dt.timedelta(hours=24))
    [bi] = section(today(tablet), "bis")
    assert bi["state"] == "late" and bi["note"] == "ready to read since 2026-12-04 08:15"
    steri.bi(cycle["id"], "negative")
    [bi] = section(today(tablet), "bis")
    assert bi["state"] == "done" and bi["note"].endswith(": negative")


def test_a_cycle_running_over_two_hours_is_late(app, tablet, users):
    steri = Sterilization(tablet, users)
    steri.start(steri.sterilizer()["code"])
    app.state.clock.advance(dt.timedelta(hours=2, minutes=1))
    assert section(today(tablet), "cycles")[0]["state"] == "late"


def test_an_open_recall_is_on_the_list_until_resolved(app, tablet, users):
    steri = Sterilization(tablet, users)
    cycle = steri.run(steri.sterilizer(name="Autoclave R")["code"], steri.packs(2), bi_lot="L")
    app.state.clock.advance(dt.timedelta(hours=25))
    steri.bi(cycle["id"], "positive")
    [recall] = section(today(tablet), "recalls")
    assert recall["state"] == "late" and recall["text"] == "Recall on Autoclave R: 2 pack(s)"
    assert recall["url"] == f"/cycles/{cycle['id']}"


def test_bins_below_their_reorder_point_link_to_the_bin(app, tablet, users, database):
    inv = InventoryFactory(database)
    inv.location("EXAM1")
    sku = inv.item(name="Gauze 4x4")
    inv.par(sku, "EXAM1", par_level=20, reorder_point=5)
    buyer = users.headers(Role.PURCHASING)
    move(tablet, buyer, kind="receive", sku=sku, location="EXAM1", quantity=4)
    [line] = section(today(tablet), "bins")
    assert line["text"] == "Gauze 4x4 in EXAM1" and line["url"] == f"/b/EXAM1/{sku}"
    move(tablet, buyer, kind="receive", sku=sku, location="EXAM1", quantity=16)
    assert section(today(tablet), "bins") == []


def test_every_line_links_to_a_page_the_ma_can_open(app, tablet, users, database):
    steri = Sterilization(tablet, users)
    prevac = steri.sterilizer(kind="steam_prevac")["code"]
    cycle = steri.run(prevac, steri.packs(1), cycle_type="prevac_132_4", bi_lot="L")
    app.state.clock.advance(dt.timedelta(hours=25))
    steri.bi(cycle["id"], "positive")  # takes `prevac` out of service
    steri.sterilizer(kind="steam_prevac")  # due its Bowie-Dick test
    html = today(tablet)
    urls = {line["url"] for name in ("bowie-dick", "bis", "cycles", "recalls")
            for line in section(html, name)}  # fmt: skip
    assert len(urls) == 2  # the cycle (BI, cycle, recall) and the new cycle form
    for url in urls:
        assert tablet.get(url).status_code == 200, url
    assert 'hx-trigger="every 30s"' in html  # the list reloads itself
