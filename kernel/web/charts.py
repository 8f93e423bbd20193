"""Server-rendered charts: the geometry of small SVG bar charts, drawn by a template.

No JavaScript and no inline styles (the CSP forbids both): the template writes plain SVG
elements with classes, and the stylesheet colours them. Every chart also says its numbers
in words (title, peak, total), so nobody depends on reading bar heights or colours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

CHART_WIDTH = 720
CHART_HEIGHT = 120
AXIS_HEIGHT = 22
TOP_PAD = 6


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: dt.date
    value: int


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    ticks: list[Tick]
    peak: int
    peak_day: dt.date | None


def daily_bar_chart(
    values: list[int],
    first_day: dt.date,
    *,
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
) -> BarChart:
    """One bar per day, scaled to the busiest day, with a tick at the start of each week
    (Mondays, labelled with the date)."""
    plot_height = height - AXIS_HEIGHT - TOP_PAD
    baseline = float(TOP_PAD + plot_height)
    slot = width / max(len(values), 1)
    gap = min(2.0, slot * 0.2)
    peak = max(values, default=0)
    bars = []
    ticks = []
    for index, value in enumerate(values):
        day = first_day + dt.timedelta(days=index)
        bar_height = round(plot_height * value / peak, 1) if peak else 0.0
        if value and bar_height < 2:
            bar_height = 2.0  # a day with any use stays visible
        x = round(index * slot + gap / 2, 1)
        bars.append(
            Bar(x, round(baseline - bar_height, 1), round(slot - gap, 1), bar_height, day, value)
        )
        if day.weekday() == 0:
            ticks.append(Tick(round(index * slot, 1), day.strftime("%d %b").lstrip("0")))
    peak_day = next((b.day for b in bars if b.value == peak), None) if peak else None
    return BarChart(width, height, baseline, bars, ticks, peak, peak_day)
