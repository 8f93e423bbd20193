"""The clinic's shelf-life setting for sterile packs.

Event-related by default: a pack stays good until something happens to it (torn, wet,
dropped). With `STERISTOCK_PACK_SHELF_LIFE_DAYS=N` it is time-related: the pack expires N
days after the clinic day it was sterilized on (the day in the clinic's zone, so the
`kernel.clock.ClinicTime` that says which day that was comes with the question).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
