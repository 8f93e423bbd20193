"""Anchors: signed copies of the chain heads kept outside the database, so cutting records
from the end (and moving the heads back) is caught.

An anchor is one JSON line: the time, the audit head (seq, hash), the seal head (seq, MAC),
and an HMAC over them with the seal key. `steristock audit checkpoint` appends one to
`<data dir>/audit_anchors.log` and prints it (keep copies elsewhere: mail, paper); every
audit CSV carries one in its `X-Audit-Anchor` header and the verify answer shows the
current one. Verify checks each anchor it is given is still a
point on the chains (the sealed entry and seal at its sequence numbers are unchanged).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.audit.evidence import RecordsReport, verify_records
from kernel.audit.keys import mac, seal_key
from kernel.audit.models import AuditEntry, AuditHead
from kernel.audit.seal_models import RecordSeal, RecordSealHead
from kernel.audit.service import ChainReport, verify_chain
from kernel.settings import Settings

ANCHOR_FILE = "audit_anchors.log"
_FIELDS = ("at", "audit_seq", "audit_hash", "seal_seq", "seal_mac")


def anchor_log(settings: Settings) -> Path:
    return settings.data_dir / ANCHOR_FILE


def _sign(body: dict[str, Any], key: bytes) -> str:
    return mac(key, json.dumps([body[f] for f in _FIELDS], separators=(",", ":")))


def current_anchor(session: Session, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The heads as they are now, signed."""
    audit = session.execute(select(AuditHead.seq, AuditHead.hash)).first()
    seals = session.execute(select(RecordSealHead.seq, RecordSealHead.mac)).first()
    body: dict[str, Any] = {
        "at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "audit_seq": audit.seq if audit else 0,
        "audit_hash": audit.hash if audit else "",
        "seal_seq": seals.seq if seals else 0,
        "seal_mac": seals.mac if seals else "",
    }
    body["mac"] = _sign(body, seal_key())
    return body


def anchor_text(anchor: dict[str, Any]) -> str:
    return json.dumps(anchor, separators=(",", ":"))


def append_anchor(path: Path, anchor: dict[str, Any]) -> str:
    """Append one anchor line (owner-only file) and return it."""
    import os

    line = anchor_text(anchor)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return line


def read_anchors(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The anchors of a log whose signature holds, and a problem for each line that is not."""
    if not path.is_file():
        return [], []
    key = seal_key()
    anchors, problems = [], []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            anchor = json.loads(line)
            good = isinstance(anchor, dict) and anchor.get("mac") == _sign(anchor, key)
        except (ValueError, KeyError, TypeError):
            good = False
        if good:
            anchors.append(anchor)
        else:
            problems.append(f"{path} line {number}: not an anchor signed with this key")
    return anchors, problems


def check_anchor(session: Session, anchor: dict[str, Any]) -> list[str]:
    """Problems if the chains no longer pass through this anchor."""
    problems = []
    when = anchor["at"]
    if anchor["seal_seq"]:
        sealed = session.execute(
            select(RecordSeal.mac).where(RecordSeal.seq == anchor["seal_seq"])
        ).scalar()
        if sealed is None:
            problems.append(
                f"anchor of {when}: seal {anchor['seal_seq']} is gone (records were cut from "
                "the end)"
            )
        elif sealed != anchor["seal_mac"]:
            problems.append(f"anchor of {when}: seal {anchor['seal_seq']} differs from the anchor")
    if anchor["audit_seq"]:
        entry = session.execute(
            select(AuditEntry.hash).where(AuditEntry.seq == anchor["audit_seq"])  # type: ignore[arg-type]
        ).scalar()
        if entry is None:
            problems.append(
                f"anchor of {when}: audit entry {anchor['audit_seq']} is gone (entries were cut "
                "from the end)"
            )
        elif entry != anchor["audit_hash"]:
            problems.append(
                f"anchor of {when}: audit entry {anchor['audit_seq']} differs from the anchor"
            )
    return problems


@dataclass
class Verification:
    """The whole verify: the audit chain, the record seals, the anchors."""

    chain: ChainReport
    records: RecordsReport
    anchors: int = 0
    anchor_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.records.ok and not self.anchor_problems

    def problems(self) -> list[str]:
        found = []
        if not self.chain.ok:
            found.append(
                f"audit_entries: chain FAILED at entry {self.chain.first_bad_entry}: "
                f"{self.chain.problem} ({self.chain.entries} entries verified before it)"
            )
        return found + self.records.problems + self.anchor_problems

    def problem_lines(self) -> list[str]:
        return [f"FAILED: {p}" for p in self.problems()]

    def summary(self) -> str:
        return (
            f"ok: {self.chain.entries} entries, head {self.chain.head}; "
            f"{self.records.seals} seals over {self.records.rows} evidence rows; "
            f"{self.anchors} anchors hold"
        )


def verify_all(session: Session, anchors_path: Path | None = None) -> Verification:
    chain = verify_chain(session)
    records = verify_records(session)
    result = Verification(chain, records)
    if anchors_path is not None:
        anchors, problems = read_anchors(anchors_path)
        result.anchor_problems.extend(problems)
        for anchor in anchors:
            result.anchor_problems.extend(check_anchor(session, anchor))
        result.anchors = len(anchors)
    return result


def checkpoint(session: Session, path: Path) -> str:
    """Verify, then append the current heads to the anchor log; refuse on a failed verify
    (an anchor must never bless tampered records)."""
    result = verify_all(session, path)
    if not result.ok:
        raise ValueError("verify failed, no anchor written:\n" + "\n".join(result.problems()))
    return append_anchor(path, current_anchor(session))
