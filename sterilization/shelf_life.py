"""The clinic's shelf-life setting for sterile packs.

Event-related by default: a pack stays good until something happens to it (torn, wet,
dropped). With `STERISTOCK_PACK_SHELF_LIFE_DAYS=N` it is time-related: the pack expires N
days after the clinic day it was sterilized on (the day in the clinic's zone, so the
`kernel.clock.ClinicTime` that says which day that was comes with the question).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from sterilization.models import Pack

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kernel.clock import ClinicTime
    from kernel.settings import Settings


@dataclass(frozen=True)
class ShelfLife:
    days: int | None = None  # None: event-related

    @classmethod
    def from_settings(cls, settings: Settings) -> ShelfLife:
        return cls(settings.pack_shelf_life_days)

    def expiry_for(self, sterilized_at: dt.datetime, zone: ClinicTime) -> dt.date | None:
        """The last day the pack may be used; None for event-related shelf life."""
        if self.days is None:
            return None
        return zone.local_date(sterilized_at) + dt.timedelta(days=self.days)


def apply_template_shelf_lives(session: Session, pack_ids: Sequence[int], zone: ClinicTime) -> None:
    """Packs counted against a set template with its own time-related shelf life (wrap 30
    days, pouch 180...) expire by it, counted from their own sterilization day; the rest
    keep the clinic-wide setting. Called right after packs are released as sterile."""
    if not pack_ids:
        return
    rows = session.execute(
        select(Pack.id, Pack.shelf_life_days, Pack.sterilized_at).where(
            Pack.id.in_(list(pack_ids)),
            Pack.shelf_life_days.is_not(None),
            Pack.sterilized_at.is_not(None),
        )
    ).all()
    by_expiry: dict[dt.date, list[int]] = {}
    for pack_id, days, sterilized_at in rows:
        expiry = ShelfLife(days).expiry_for(sterilized_at, zone)
        assert expiry is not None
        by_expiry.setdefault(expiry, []).append(pack_id)
    for expires_on, ids in by_expiry.items():
        session.execute(
            update(Pack)
            .where(Pack.id.in_(ids))
            .values(expires_on=expires_on)
            .execution_options(synchronize_session=False)
        )
