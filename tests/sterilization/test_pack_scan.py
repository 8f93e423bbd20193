"""The scan (`GET /api/v1/packs/{code}`) reads rows without a Session (`pack_scan`): it must
answer exactly as the pack read through the ORM (`packs.get_pack_view`, the pages'), and
keep to the user's sites as they are at each request."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import text

from kernel.auth.models import Role
from sterilization.packs import get_pack_view
from sterilization.responses import pack_out

TOKYO = {"code": "TYO", "name": "Tokyo clinic", "timezone": "Asia/Tokyo"}


def orm_answer(database, clock, code: str) -> dict:
    with database.session(write=False) as session:
        view = get_pack_view(session, code, zone=clock.zone, now=clock.now())
        return msgspec.json.decode(msgspec.json.encode(pack_out(view)))


def test_the_scan_answers_as_the_orm_read_in_every_state(steri, client, database):
    ster = steri.sterilizer("steam_gravity", name="Autoclave A")["code"]
    admin = steri.admin
    assert client.post("/api/v1/sites", json=TOKYO, headers=admin).status_code == 201
    assembled, sterile, used, compromised, expired, sent, recalled = steri.packs(7)
    steri.run(ster, [sterile, used, compromised, expired, sent])
    assert steri.use(used, "ENC-7").status_code == 200
    steri.ok(client.post(f"/api/v1/packs/{compromised}/compromise",
                         json={"reason": "torn wrap"}, headers=steri.ma))  # fmt: skip
    steri.ok(client.post(f"/api/v1/packs/{sent}/transfer", json={"to_site": "TYO"},
                         headers=admin))  # fmt: skip
    other = steri.sterilizer("steam_gravity", name="Autoclave B")["code"]
    cycle = steri.run(other, [recalled], bi_lot="LOT-1")  # its positive BI recalls only it
    steri.bi(cycle["id"], "positive")
    clock = client.app.state.clock
    yesterday = clock.zone.local_date(clock.now()) - dt.timedelta(days=1)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE packs SET expires_on = :day WHERE code IN (:a, :b)"),
                     {"day": yesterday, "a": expired, "b": sent})  # fmt: skip
    answers = {}
    for code in (assembled, sterile, used, compromised, expired, sent, recalled):
        scanned = client.get(f"/api/v1/packs/{code.lower()}", headers=admin)
        assert scanned.status_code == 200, scanned.text
        assert scanned.json() == orm_answer(database, clock, code)
        answers[code] = scanned.json()
    assert answers[recalled]["status"] == "recalled" and "positive spore test" in "".join(
        answers[recalled]["reasons"]
    )
    assert answers[sterile]["usable"] is True and answers[expired]["usable"] is False
    assert answers[expired]["reasons"] == [f"expired {yesterday.isoformat()}"]
    assert answers[sent]["site"] == "TYO" and answers[sent]["cycle"] is not None
    assert answers[used]["encounter_ref"] == "ENC-7" and answers[used]["used_at"] is not None
    missing = client.get("/api/v1/packs/PK-999999", headers=admin)
    assert missing.status_code == 404 and "PK-999999" in missing.json()["detail"]


def test_a_site_taken_from_a_user_hides_its_packs_from_their_next_scan(steri, client, users):
    admin = steri.admin
    assert client.post("/api/v1/sites", json=TOKYO, headers=admin).status_code == 201
    made = client.post("/api/v1/packs", json={"description": "Kit", "site": "TYO"}, headers=admin)
    code = made.json()["items"][0]["code"]
    users.create(Role.MA, "kenji", sites=["MAIN", "TYO"])
    headers = {"Authorization": f"Bearer {users.token('kenji')}"}
    for _ in range(2):  # the second from the remembered scope
        assert client.get(f"/api/v1/packs/{code}", headers=headers).status_code == 200
    changed = client.patch("/api/v1/users/kenji", json={"sites": ["MAIN"]}, headers=admin)
    assert changed.status_code == 200
    hidden = client.get(f"/api/v1/packs/{code}", headers=headers)
    assert hidden.status_code == 404 and hidden.json()["detail"] == f"No pack with code {code!r}."
