"""The audit trail as CSV: the list's filters, streamed, and complete enough that the hash
chain can be recomputed from the file alone."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest

from kernel import audit
from kernel.audit.export import audit_csv_chunks
from kernel.audit.models import GENESIS_HASH
from kernel.audit.service import entry_hash
from kernel.auth.models import Role

COLUMNS = ["seq", "at", "actor", "action", "entity", "entity_id", "before", "after",
           "prev_hash", "hash"]  # fmt: skip


def plant(database, n: int, *, actor: str = "nurse", entity: str = "thing") -> None:
    with database.session() as session:
        for i in range(n):
            after = {"n": i + 1, "text": 'a,b\n"c"'}  # CSV quoting must survive
            audit.record(session, actor=actor, action=f"{entity}.change", entity=entity,
                         entity_id=i, before={"n": i}, after=after)  # fmt: skip


def read(client, headers, **params) -> pd.DataFrame:
    response = client.get("/api/v1/audit.csv", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "audit-trail-" in response.headers["content-disposition"]
    return pd.read_csv(io.StringIO(response.text), dtype=str, keep_default_na=False)


def test_audit_csv_recomputes_to_the_chain_head(client, users, database):
    plant(database, 7)
    headers = users.headers(Role.AUDITOR)
    frame = read(client, headers)
    assert list(frame.columns) == COLUMNS
    prev = GENESIS_HASH
    for row in frame.itertuples(index=False):
        assert row.prev_hash == prev
        digest = entry_hash(
            seq=int(row.seq), at=dt.datetime.fromisoformat(row.at), actor=row.actor,
            action=row.action, entity=row.entity, entity_id=row.entity_id,
            before=row.before or None, after=row.after or None, prev_hash=row.prev_hash,
        )  # fmt: skip
        assert digest == row.hash, row.seq
        prev = row.hash
    assert prev == client.get("/api/v1/audit/verify", headers=headers).json()["head"]
    assert frame["at"].str.contains(r"[+-]\d\d:\d\d$").all()  # clinic time with offset


def test_audit_csv_takes_the_same_filters_as_the_list(client, users, database):
    plant(database, 3, actor="alice", entity="pack")
    plant(database, 2, actor="bob", entity="cycle")
    headers = users.headers(Role.ADMIN)
    for params in ({"actor": "bob"}, {"entity": "pack"}, {"entity": "pack", "entity_id": "1"}):
        frame = read(client, headers, **params)
        listed = client.get("/api/v1/audit", params={**params, "limit": 500}, headers=headers)
        assert sorted(frame["seq"].astype(int)) == sorted(e["seq"] for e in listed.json()["items"])
    assert set(read(client, headers, actor="bob")["actor"]) == {"bob"}
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    assert read(client, headers, **{"from": future}).empty


def test_audit_csv_streams_in_batches(database, settings):
    plant(database, 12)
    chunks = list(audit_csv_chunks(database, [], settings.tz, batch=5))
    assert len(chunks) == 1 + 3  # header, then 5 + 5 + 2 entries
    assert sum(len(pd.read_csv(io.StringIO(chunks[0] + c))) for c in chunks[1:]) == 12


@pytest.mark.parametrize("role", [Role.MA, Role.PURCHASING])
def test_only_admins_and_auditors_read_the_audit_trail(client, users, role):
    for path in ("/api/v1/audit", "/api/v1/audit.csv", "/api/v1/audit/verify"):
        assert client.get(path, headers=users.headers(role)).status_code == 403
        assert client.get(path, headers=users.headers(Role.AUDITOR)).status_code == 200
