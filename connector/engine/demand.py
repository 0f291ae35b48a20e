"""Demand per SKU from order history: units per day, its day-to-day spread, and the recent 14-day rate.

The window is the `window_days` (default 90) days ending on `as_of`, today included. It starts later
when the history does (`history_start`: the first day orders were synced for the shop), so a shop
connected a month ago is not read as having sold nothing for two months. Cancelled orders count for
nothing. Each day's units are totalled per SKU, and one outlier rule keeps a single bulk order from
setting the rate: a day counts at most

    mean + 4 · max(stdev, sqrt(mean), 1)      (mean and stdev of the window's *other* days)

The sqrt(mean) term is the spread of a Poisson count, so ordinary lumpiness of a slow seller is
never cut. A run of high days (a real surge) raises the other days' figures too and is kept.
`recent_rate` is the plain, uncapped rate over the last `recent_days` (default 14): a surge is
exactly what an outlier rule would hide.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from connector.engine.types import Order

WINDOW_DAYS = 90
RECENT_DAYS = 14
OUTLIER_SIGMAS = 4.0

# Order statuses that are not demand: Shopify's "cancelled" and WooCommerce's ended-without-sale ones.
CANCELLED_STATUSES = frozenset({"cancelled", "refunded", "failed", "trash"})


def is_cancelled(status: str | None) -> bool:
    """Whether a stored order status (Shopify "cancelled, paid", WooCommerce "cancelled") means no sale."""
    return (status or "").split(",")[0].strip().lower() in CANCELLED_STATUSES


@dataclass(frozen=True, slots=True)
class Sale:
    """Units of one SKU ordered on one day; `cancelled` sales are history but not demand."""

    sku: str
    day: date
    units: int
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class DemandStats:
    """One SKU's demand over the window. `rate` and `std` are units per day after the outlier cap."""

    sku: str
    rate: float
    std: float
    days: int  # days in the window (after `history_start`)
    units: int  # units ordered in the window, before the cap
    capped_days: int  # days the outlier rule cut
    recent_rate: float  # uncapped units per day over the last `recent_days`
    recent_days: int
    daily: tuple[int, ...]  # uncapped units per day, oldest first, `days` long


def _mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 with fewer than two values)."""
    count = len(values)
    if count == 0:
        return 0.0, 0.0
    mean = sum(values) / count
    if count < 2:
        return mean, 0.0
    variance = sum((value - mean) ** 2 for value in values) / (count - 1)
    return mean, math.sqrt(variance)


def outlier_caps(daily: list[int]) -> list[float]:
    """The most each day may count: mean + 4·max(stdev, sqrt(mean), 1) of the other days."""
    count = len(daily)
    if count < 2:
        return [float("inf")] * count
    total = float(sum(daily))
    squares = float(sum(value * value for value in daily))
    caps: list[float] = []
    others = count - 1
    for value in daily:
        rest_total = total - value
        rest_squares = squares - value * value
        mean = rest_total / others
        variance = (rest_squares - others * mean * mean) / (others - 1) if others > 1 else 0.0
        spread = max(math.sqrt(max(variance, 0.0)), math.sqrt(mean), 1.0)
        caps.append(mean + OUTLIER_SIGMAS * spread)
    return caps


def window_days(as_of: date, history_start: date | None, window: int = WINDOW_DAYS) -> tuple[date, int]:
    """(first day, number of days) of the demand window ending on `as_of`; at least one day."""
    if window < 1:
        raise ValueError(f"the demand window must be at least one day, not {window}")
    first = as_of - timedelta(days=window - 1)
    if history_start is not None and history_start > first:
        first = min(history_start, as_of)
    return first, (as_of - first).days + 1


def demand_stats(
    sales: Iterable[Sale],
    as_of: date,
    *,
    history_start: date | None = None,
    window: int = WINDOW_DAYS,
    recent: int = RECENT_DAYS,
    skus: Iterable[str] = (),
) -> dict[str, DemandStats]:
    """Demand per SKU over the window ending `as_of` (see the module text for the window and cap).

    Every SKU with a sale in the window gets stats, and so does each of `skus` (with zero demand when
    it sold nothing), so a SKU that stopped selling reads as a zero rate rather than as unknown.
    """
    if recent < 1:
        raise ValueError(f"the recent-demand window must be at least one day, not {recent}")
    first, days = window_days(as_of, history_start, window)
    start = first.toordinal()
    per_sku: dict[str, list[int]] = {sku: [0] * days for sku in skus}
    for sale in sales:
        if sale.cancelled or sale.units <= 0:
            continue
        index = sale.day.toordinal() - start
        if 0 <= index < days:
            per_sku.setdefault(sale.sku, [0] * days)[index] += sale.units
    recent_span = min(recent, days)
    result: dict[str, DemandStats] = {}
    for sku, daily in per_sku.items():
        caps = outlier_caps(daily)
        counted = [min(float(value), cap) for value, cap in zip(daily, caps, strict=True)]
        rate, std = _mean_std(counted)
        result[sku] = DemandStats(
            sku=sku,
            rate=rate,
            std=std,
            days=days,
            units=sum(daily),
            capped_days=sum(1 for value, cap in zip(daily, caps, strict=True) if value > cap),
            recent_rate=sum(daily[-recent_span:]) / recent_span,
            recent_days=recent_span,
            daily=tuple(daily),
        )
    return result


@dataclass(frozen=True, slots=True)
class SurgeRule:
    """A SKU's demand surged when its last-14-day rate is at least `ratio` times its 90-day rate
    and at least `min_units` units were ordered in those 14 days (so one order of a slow seller
    is not a surge)."""

    ratio: float = 2.0
    min_units: int = 3


def is_demand_surge(stats: DemandStats | None, rule: SurgeRule | None = None) -> bool:
    """Whether `stats` show a surge by `rule`; no stats is no surge."""
    if stats is None:
        return False
    rule = rule or SurgeRule()
    recent_units = stats.recent_rate * stats.recent_days
    if recent_units + 1e-9 < rule.min_units:
        return False
    # The 90-day rate includes the recent days; the uncapped rate keeps the rule about real orders.
    baseline = stats.units / stats.days
    return stats.recent_rate >= rule.ratio * baseline - 1e-9


def surging_skus(stats: dict[str, DemandStats], rule: SurgeRule | None = None) -> set[str]:
    """The SKUs of `stats` whose demand surged by `rule`."""
    return {sku for sku, found in stats.items() if is_demand_surge(found, rule)}


def sales_from_orders(orders: Iterable[Order]) -> tuple[list[Sale], date | None]:
    """Sales from engine orders (an order that is not open counts as cancelled), and the first order's
    day (UTC). Used where only the engine's view of the orders is at hand (`connector plan`)."""
    sales: list[Sale] = []
    first: date | None = None
    for order in orders:
        created = order.created_at if order.created_at.tzinfo is not None else order.created_at.replace(tzinfo=UTC)
        day = created.astimezone(UTC).date()
        if first is None or day < first:
            first = day
        for line in order.lines:
            if line.sku:
                sales.append(Sale(line.sku, day, line.quantity, cancelled=not order.is_open))
    return sales, first
