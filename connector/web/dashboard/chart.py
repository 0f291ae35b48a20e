"""Geometry for the server-rendered SVG bar charts (units per ETA week, rates per week, lateness); the template draws them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from connector.web.dashboard.queries import week_start

WIDTH = 720
HEIGHT = 240
LEFT = 44  # room for the value axis labels
RIGHT = 12
TOP = 14
BOTTOM = 40  # room for the week labels


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str  # under the bar
    title: str  # tooltip
    unknown: bool
    kind: str = "demand"  # "supply": incoming units, drawn beside the waiting ones


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    left: int
    right_edge: float
    baseline: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    caption: str = "ETA week (Monday)"
    suffix: str = ""  # after each bar's value ("%")

    @property
    def empty(self) -> bool:
        return not self.bars


def nice_step(maximum: int, steps: int = 4) -> int:
    """A round tick step (1, 2, 5 times a power of ten) giving about `steps` ticks up to `maximum`."""
    raw = max(maximum / steps, 1)
    power = 1
    while power * 10 <= raw:
        power *= 10
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


def _label(week: str) -> tuple[str, str]:
    monday = week_start(week)
    if monday is None:
        return "unknown", "ETA unknown"
    return f"{monday:%d %b}", f"Week of {monday:%d %b %Y}"


def _units_title(long: str, value: int) -> str:
    return f"{long}: {value} unit{'s' if value != 1 else ''} backordered"


def bar_chart(points: Sequence[tuple[str, int]], *, width: int = WIDTH, height: int = HEIGHT,
              label: Callable[[str], tuple[str, str]] = _label, title: Callable[[str, int], str] = _units_title,
              caption: str = "ETA week (Monday)", suffix: str = "") -> BarChart:
    """Bars for (key, value) points, scaled to fit, with round value ticks. By default a key is an ISO week
    or "unknown" and a value backordered units; `label` gives a key's (short, long) label and `title` the
    tooltip from the long label and the value."""
    plot_width = width - LEFT - RIGHT
    plot_height = height - TOP - BOTTOM
    baseline = float(TOP + plot_height)
    if not points:
        return BarChart(width, height, LEFT, float(width - RIGHT), baseline, (), (), caption, suffix)
    step = nice_step(max(value for _, value in points))
    top_value = step * max(1, -(-max(value for _, value in points) // step))
    slot = plot_width / len(points)
    bar_width = max(4.0, min(48.0, slot * 0.7))
    bars = []
    for index, (week, value) in enumerate(points):
        bar_height = plot_height * value / top_value
        short, long = label(week)
        bars.append(
            Bar(
                x=round(LEFT + slot * index + (slot - bar_width) / 2, 1),
                y=round(baseline - bar_height, 1),
                width=round(bar_width, 1),
                height=round(bar_height, 1),
                value=value,
                label=short,
                title=title(long, value),
                unknown=week == "unknown",
            )
        )
    ticks = tuple(
        Tick(y=round(baseline - plot_height * value / top_value, 1), value=value)
        for value in range(0, top_value + 1, step)
    )
    return BarChart(width, height, LEFT, float(width - RIGHT), baseline, tuple(bars), ticks, caption, suffix)


def waiting_supply_chart(waiting: Sequence[tuple[str, int]], supply: Sequence[tuple[str, int]], *,
                         width: int = WIDTH, height: int = HEIGHT) -> BarChart:
    """Per ISO week: units waiting with their ETA in it beside units arriving in it (an "unknown" week last)."""
    wait, come = dict(waiting), dict(supply)
    weeks = sorted(set(wait) | set(come), key=lambda week: (week == "unknown", week))
    plot_width, plot_height = width - LEFT - RIGHT, height - TOP - BOTTOM
    baseline = float(TOP + plot_height)
    values = [*wait.values(), *come.values()]
    if not weeks or not any(values):
        return BarChart(width, height, LEFT, float(width - RIGHT), baseline, (), (), "ETA or arrival week (Monday)")
    step = nice_step(max(values))
    top_value = step * max(1, -(-max(values) // step))
    slot = plot_width / len(weeks)
    bar_width = max(3.0, min(24.0, slot * 0.35))
    bars = []
    for index, week in enumerate(weeks):
        short, long = _label(week)
        for offset, (kind, units, what) in enumerate((("demand", wait.get(week, 0), "waiting"),
                                                      ("supply", come.get(week, 0), "arriving"))):
            bar_height = plot_height * units / top_value
            bars.append(Bar(x=round(LEFT + slot * index + slot / 2 - bar_width + offset * bar_width, 1),
                            y=round(baseline - bar_height, 1), width=round(bar_width, 1), height=round(bar_height, 1),
                            value=units, label=short if offset == 0 else "", title=f"{long}: {units} {what}",
                            unknown=week == "unknown" and kind == "demand", kind=kind))
    ticks = tuple(Tick(y=round(baseline - plot_height * value / top_value, 1), value=value)
                  for value in range(0, top_value + 1, step))
    return BarChart(width, height, LEFT, float(width - RIGHT), baseline, tuple(bars), ticks,
                    "units waiting (blue) by ETA week · incoming supply (green) by arrival week")
