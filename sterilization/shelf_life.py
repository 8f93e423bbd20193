"""The clinic settings sterilization rules depend on: its time zone (what "today" and "this
week" mean for Bowie-Dick and BI checks) and the optional time-related shelf life.

The time helpers here overlap `kernel.clock.ClinicTime` (same names, same results); new
code calls the kernel's clock (the `clock` dependency) and keeps only the shelf life here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from kernel.settings import Settings


@dataclass(frozen=True)
class Clinic:
    tz: ZoneInfo
    shelf_life_days: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Clinic:
        return cls(tz=settings.tz, shelf_life_days=settings.pack_shelf_life_days)

    def local_date(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.tz).date()

    def local_text(self, at: dt.datetime) -> str:
        return at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def expiry_for(self, sterilized_at: dt.datetime) -> dt.date | None:
        """Time-related shelf life counts from the day of sterilization; None when the
        clinic uses event-related shelf life (a pack stays good until it is compromised)."""
        if self.shelf_life_days is None:
            return None
        return self.local_date(sterilized_at) + dt.timedelta(days=self.shelf_life_days)

    def start_of_day(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=self.tz).astimezone(dt.UTC)
