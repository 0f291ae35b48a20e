"""Geometry for the SKU page's demand chart: weekly demand behind, incoming supply and projected stock ahead.

The past 13 weeks show units ordered per week (cancelled orders excluded, as the advice counts them).
The next 8 weeks show incoming supply per week and a line of projected stock at the end of each week:
on hand − open orders + arrivals so far − demand per day × days. The line crossing zero is where a
backorder becomes likely. The template draws the SVG server-side, like the ETA-week chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from connector.engine.reorder import Arrival
from connector.web.dashboard.chart import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, nice_step

WEEKS_BACK = 13
WEEKS_AHEAD = 8


@dataclass(frozen=True, slots=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str
    title: str
    kind: str  # "demand" (past) or "supply" (ahead)


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True, slots=True)
class DemandChart:
    width: int
    height: int
    left: int
    right_edge: float
    zero: float  # y of the zero line
    bottom: float  # y of the lowest value shown
    today_x: float
    columns: tuple[Column, ...]
    stock_line: str  # SVG polyline points
    stock_points: tuple[tuple[float, float, str], ...]  # x, y, tooltip
    ticks: tuple[Tick, ...]

    @property
    def empty(self) -> bool:
        return not any(column.value for column in self.columns) and not self.stock_points


def weekly_demand(daily: Sequence[int], as_of: date, weeks: int = WEEKS_BACK) -> list[tuple[date, int]]:
    """(first day, units) of each of the last `weeks` seven-day spans ending `as_of`; `daily` ends on `as_of`."""
    spans = []
    for index in range(weeks):
        end = len(daily) - 7 * (weeks - 1 - index)
        start = max(end - 7, 0)
        units = sum(daily[start:end]) if end > 0 else 0
        spans.append((as_of - timedelta(days=7 * (weeks - 1 - index) + 6), units))
    return spans


def demand_chart(daily: Sequence[int], as_of: date, free_now: int, arrivals: Sequence[Arrival], rate: float,
                 *, width: int = WIDTH, height: int = HEIGHT) -> DemandChart:
    """The chart for one SKU: `daily` is units ordered per day ending `as_of`, `free_now` on hand − open orders."""
    past = weekly_demand(daily, as_of)
    ahead: list[tuple[date, int, float]] = []  # week start, units arriving that week, projected stock at its end
    level = float(free_now)
    unbounded = False
    for week in range(WEEKS_AHEAD):
        start = as_of + timedelta(days=7 * week + 1)
        end = start + timedelta(days=6)
        units = 0
        for arrival in arrivals:
            if start <= arrival.day <= end or (week == 0 and arrival.day <= as_of):
                if arrival.units is None:
                    unbounded = True
                else:
                    units += arrival.units
        level += units - rate * 7
        ahead.append((start, units, level))
    values = [units for _start, units in past] + [units for _start, units, _level in ahead]
    levels = [] if unbounded else [level for *_rest, level in ahead]
    high = max([*values, *levels, float(free_now), 1.0])
    low = min([0.0, *levels])
    step = nice_step(int(max(high - low, 1)))
    top_value = step * max(1, -(-int(high) // step))
    bottom_value = -step * (-int(low) // step) if low < 0 else 0
    plot_width = width - LEFT - RIGHT
    plot_height = height - TOP - BOTTOM
    span = top_value - bottom_value

    def y_of(value: float) -> float:
        return round(TOP + plot_height * (top_value - value) / span, 1)

    zero = y_of(0)
    slots = len(past) + len(ahead)
    slot = plot_width / slots
    bar_width = max(4.0, min(36.0, slot * 0.7))
    columns = []
    for index, (start, units) in enumerate(past):
        x = round(LEFT + slot * index + (slot - bar_width) / 2, 1)
        columns.append(Column(x, y_of(units), round(bar_width, 1), round(zero - y_of(units), 1), units,
                              f"{start:%d %b}", f"Week from {start:%d %b %Y}: {units} ordered", "demand"))
    points: list[tuple[float, float, str]] = []
    for offset, (start, units, projected) in enumerate(ahead):
        index = len(past) + offset
        x = round(LEFT + slot * index + (slot - bar_width) / 2, 1)
        columns.append(Column(x, y_of(units), round(bar_width, 1), round(zero - y_of(units), 1), units,
                              f"{start:%d %b}", f"Week from {start:%d %b %Y}: {units} arriving", "supply"))
        if not unbounded:
            points.append((round(x + bar_width / 2, 1), y_of(projected),
                           f"End of week from {start:%d %b}: {projected:.0f} projected in stock"))
    today_x = round(LEFT + slot * len(past), 1)
    if points:
        points.insert(0, (today_x, y_of(free_now), f"Today: {free_now} free in stock"))
    ticks = tuple(Tick(y_of(value), value) for value in range(bottom_value, top_value + 1, step))
    return DemandChart(
        width=width, height=height, left=LEFT, right_edge=float(width - RIGHT), zero=zero, bottom=y_of(bottom_value),
        today_x=today_x, columns=tuple(columns), stock_line=" ".join(f"{x},{y}" for x, y, _ in points),
        stock_points=tuple(points), ticks=ticks,
    )
