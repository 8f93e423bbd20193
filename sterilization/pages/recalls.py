"""A recall's page (`/recalls/{id}`): why it opened, every pack it covers with the
encounter it was used on, and the reusable trays involved — the trays to pull and
reprocess, and the patients each of them met."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.clock import Clock
from kernel.web.templating import render_page
from sterilization import recalls
from sterilization.sets import assets


@get("/recalls/{recall_id:int}", guards=[any_role], sync_to_thread=True)
def recall_page(
    request: Request[Any, Any, Any], recall_id: int, db_session: Session, clock: Clock
) -> Template:
    line = recalls.recall_line(db_session, recall_id)
    packs = recalls.recall_packs(db_session, recall_id)
    trays = assets.sets_in_packs(db_session, [p.id for p, _, _ in packs if p.set_id])
    zone = clock.zone
    return render_page(
        request,
        "sterilization/recall.html",
        line=line,
        recall=line.recall,
        opened=zone.local_text(line.recall.opened_at),
        packs=[
            {
                "code": p.code,
                "description": p.description,
                "status": p.status,
                "previous": previous,
                "cycle": number,
                "used": zone.local_text(p.used_at) if p.used_at else "",
                "encounter": p.encounter_ref or "",
            }
            for p, previous, number in packs
        ],
        trays=trays,
    )


page_handlers: list[Any] = [recall_page]
