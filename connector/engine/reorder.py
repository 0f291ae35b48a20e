"""Safety stock, reorder point, suggested quantity, order-by date and the "backorder likely" check per SKU.

Safety stock combines demand variability and lead-time variability (demand and lead time treated
as independent and normal; Chopra & Meindl, *Supply Chain Management*, ch. 12, "safety inventory
when demand and lead time are uncertain"; King, "Crack the Code", APICS Magazine, 2011):

    SS  = z · sqrt(L · σd² + d² · σL²)
    ROP = d · L + SS

d and σd are demand per day and its standard deviation (`DemandStats`), L and σL the lead time in
days and its standard deviation, z the standard normal quantile of the service level. With a
learned lateness model (`Lateness`), L is the stated lead time plus the median lateness and
σL = (p90 − p50) / 1.2816, the normal spread those two percentiles imply. Without one σL is 0:
the advice then covers demand variability only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from statistics import NormalDist
from typing import Literal

from connector.engine.lateness import LatenessModel
from connector.engine.supply import events_from_rows
from connector.engine.types import Policy, SupplyRow

Z_P90 = NormalDist().inv_cdf(0.9)  # 1.2816: p90 − p50 of a normal distribution, in standard deviations
MIN_SERVICE_LEVEL = 0.5
MAX_SERVICE_LEVEL = 0.9999

AdviceStatus = Literal["backordered", "likely", "ok"]


@dataclass(frozen=True, slots=True)
class Lateness:
    """A supplier's learned lateness (arrival − promised arrival) in days, as percentiles."""

    p50: float
    p80: float
    p90: float


@dataclass(frozen=True, slots=True)
class LeadTime:
    """Days from placing a purchase order to the goods being sellable: mean and standard deviation."""

    days: float
    std_days: float = 0.0


def lead_time(stated_days: float, lateness: Lateness | None = None) -> LeadTime:
    """The lead time to plan with: the stated days, shifted by the median lateness and spread by
    p90 − p50 when a lateness model is known (never below zero days)."""
    if lateness is None:
        return LeadTime(max(float(stated_days), 0.0), 0.0)
    spread = max(lateness.p90 - lateness.p50, 0.0) / Z_P90
    return LeadTime(max(float(stated_days) + lateness.p50, 0.0), spread)


def service_z(service_level: float) -> float:
    """The standard normal quantile of `service_level` (0.95 → 1.645)."""
    if not MIN_SERVICE_LEVEL <= service_level <= MAX_SERVICE_LEVEL:
        raise ValueError(
            f"service level must be between {MIN_SERVICE_LEVEL} and {MAX_SERVICE_LEVEL} (e.g. 0.95), not {service_level}"
        )
    return NormalDist().inv_cdf(service_level)


def safety_stock(rate: float, std: float, lead: LeadTime, service_level: float) -> float:
    """SS = z · sqrt(L·σd² + d²·σL²), in units (not rounded)."""
    if rate < 0 or std < 0 or lead.days < 0 or lead.std_days < 0:
        raise ValueError("demand, its spread and the lead time must not be negative")
    z = service_z(service_level)
    return z * math.sqrt(lead.days * std * std + rate * rate * lead.std_days * lead.std_days)


def reorder_point(rate: float, std: float, lead: LeadTime, service_level: float) -> float:
    """ROP = d·L + SS: the stock position at which to order."""
    return rate * lead.days + safety_stock(rate, std, lead, service_level)


@dataclass(frozen=True, slots=True)
class Arrival:
    """Units of a SKU expected on a day (a supply event as the planner dates it)."""

    day: date
    units: int | None  # None: the supplier gave no limit


def incoming_arrivals(rows: Iterable[SupplyRow], as_of: date, policy: Policy,
                      lateness: LatenessModel | None = None) -> tuple[Arrival, ...]:
    """Units on order for one SKU: its restock promises, dated as the planner dates them (with a
    lateness model, at the median lateness: the expected arrival). Stock a supplier merely has
    `available` is not on order, so it is not incoming."""
    promised = [replace(row, available=None) for row in rows if row.restock_date is not None]
    events = events_from_rows(promised, as_of, policy, lateness, 0.5)
    return tuple(Arrival(event.arrival, event.quantity) for event in events)


def reorder_supplier(rows: Sequence[SupplyRow], policy: Policy) -> tuple[str | None, int]:
    """(supplier, stated lead days) to reorder one SKU from: the feed row with the shortest lead time
    (ties by supplier name); no row gives (None, the policy's default lead time)."""
    if not rows:
        return None, policy.default_lead_time_days
    def lead(row: SupplyRow) -> int:
        return max(row.lead_time_days if row.lead_time_days is not None else policy.default_lead_time_days, 0)
    best = min(rows, key=lambda row: (lead(row), row.supplier))
    return best.supplier, lead(best)


@dataclass(frozen=True, slots=True)
class SkuPosition:
    """Everything the advice for one SKU needs; plain numbers so the engine stays free of I/O."""

    sku: str
    on_hand: int
    open_demand: int  # units of open orders not yet shipped (allocated or backordered)
    arrivals: tuple[Arrival, ...]  # known incoming supply, any order
    rate: float  # demand per day
    std: float  # its standard deviation per day
    lead_days: float  # the supplier's stated lead time for a new purchase order
    lateness: Lateness | None = None
    supplier: str | None = None


@dataclass(frozen=True, slots=True)
class Advice:
    """The reorder advice for one SKU. Units are whole (rounded up); `likely_on` is the first day the
    projected stock goes below zero before the next arrival or within the lead time."""

    sku: str
    supplier: str | None
    on_hand: int
    incoming: int  # bounded incoming units (an unbounded promise counts as covering everything)
    incoming_unbounded: bool
    open_demand: int
    rate: float
    std: float
    lead: LeadTime
    safety_stock: int
    reorder_point: int
    position: int  # on hand + incoming − open demand
    suggested: int
    order_by: date | None  # None: no demand, nothing to order
    status: AdviceStatus
    likely_on: date | None
    next_arrival: date | None
    arrivals: tuple[Arrival, ...] = ()


@dataclass(frozen=True, slots=True)
class AdviceSettings:
    """Merchant settings for the advice: service level and how many days of demand one order covers."""

    service_level: float = 0.95
    cover_days: int = 30
    horizon_days: int = 90  # the furthest the projection looks ahead


def project_stock(
    free_now: float, arrivals: Iterable[Arrival], rate: float, as_of: date, horizon_days: int, from_day: int = 0
) -> tuple[date | None, float]:
    """Walk the projected stock (free stock + arrivals so far − rate × days) day by day over the
    horizon: (the first day it is below zero or None, its lowest level from day `from_day` on). An
    unbounded arrival ends the risk from its day on."""
    by_day: dict[int, float] = {}
    for arrival in arrivals:
        offset = max((arrival.day - as_of).days, 0)
        if offset > horizon_days:
            continue
        amount = math.inf if arrival.units is None else float(arrival.units)
        by_day[offset] = by_day.get(offset, 0.0) + amount
    level = free_now + by_day.get(0, 0.0)
    first: date | None = as_of if level < 0 else None
    lowest = level if from_day <= 0 else math.inf
    for offset in range(1, horizon_days + 1):
        level += by_day.get(offset, 0.0) - rate
        if offset >= from_day:
            lowest = min(lowest, level)
        if first is None and level < -1e-9:
            first = as_of + timedelta(days=offset)
    return first, lowest


def projected_shortage(
    free_now: float, arrivals: Iterable[Arrival], rate: float, as_of: date, horizon_days: int
) -> date | None:
    """The first day within the horizon whose projected stock is below zero (see `project_stock`)."""
    return project_stock(free_now, arrivals, rate, as_of, horizon_days)[0]


def advise(position: SkuPosition, as_of: date, settings: AdviceSettings | None = None) -> Advice:
    """Safety stock, reorder point, suggested quantity, order-by date and status for one SKU.

    position = on hand + incoming − open demand. When it is at or below the reorder point the SKU
    should be ordered today: suggested = ROP + d × cover_days − position. Above it, nothing is due
    yet and `order_by` is the day demand brings the position down to the ROP. `status` is
    "backordered" when open demand already exceeds stock on hand, "likely" when the projection
    (stock + arrivals − d × days, over the lead time or up to the next arrival, whichever is later)
    goes below zero, else "ok". A likely backorder means the stock on order comes too late, so the
    suggestion is at least the projection's deepest shortfall from one lead time ahead on (what an
    order placed now can still cover) plus the safety stock, to be ordered a lead time before the
    shortage starts (today at the latest).
    """
    settings = settings or AdviceSettings()
    lead = lead_time(position.lead_days, position.lateness)
    ss = safety_stock(position.rate, position.std, lead, settings.service_level)
    rop = position.rate * lead.days + ss
    unbounded = any(arrival.units is None for arrival in position.arrivals)
    incoming = sum(arrival.units or 0 for arrival in position.arrivals)
    level = position.on_hand + incoming - position.open_demand
    safety_units = math.ceil(ss - 1e-9)
    rop_units = math.ceil(rop - 1e-9)
    if unbounded:
        suggested, order_by = 0, None
    elif level <= rop_units and (position.rate > 0 or level < 0):
        suggested = max(math.ceil(rop + position.rate * settings.cover_days - level - 1e-9), 0)
        order_by = as_of
    elif position.rate > 0:
        suggested = 0
        order_by = as_of + timedelta(days=math.floor((level - rop) / position.rate))
    else:
        suggested, order_by = 0, None
    upcoming = sorted(arrival.day for arrival in position.arrivals if arrival.day >= as_of)
    next_arrival = upcoming[0] if upcoming else None
    horizon = max(math.ceil(lead.days), (next_arrival - as_of).days if next_arrival else 0, 1)
    horizon = min(horizon, settings.horizon_days)
    status: AdviceStatus
    likely_on: date | None = None
    if position.open_demand > max(position.on_hand, 0):
        status = "backordered"
    else:
        lead_days = math.ceil(lead.days - 1e-9)
        likely_on, lowest = project_stock(
            float(position.on_hand - position.open_demand), position.arrivals, position.rate, as_of, horizon,
            from_day=lead_days,
        )
        status = "likely" if likely_on is not None else "ok"
        if likely_on is not None:
            # Stock on order arrives too late: an order placed now arrives after the lead time, so it
            # can bridge the shortfall from then on (plus the safety stock); earlier than that only
            # expediting helps. It is due a lead time before the shortage starts.
            if lowest < 0:
                suggested = max(suggested, math.ceil(ss - lowest - 1e-9))
            latest = max(as_of, likely_on - timedelta(days=lead_days))
            order_by = min(order_by, latest) if order_by is not None else latest
    return Advice(
        sku=position.sku,
        supplier=position.supplier,
        on_hand=position.on_hand,
        incoming=incoming,
        incoming_unbounded=unbounded,
        open_demand=position.open_demand,
        rate=position.rate,
        std=position.std,
        lead=lead,
        safety_stock=safety_units,
        reorder_point=rop_units,
        position=level,
        suggested=suggested,
        order_by=order_by,
        status=status,
        likely_on=likely_on,
        next_arrival=next_arrival,
        arrivals=position.arrivals,
    )


_STATUS_ORDER = {"backordered": 1, "likely": 0, "ok": 2}


def advice_order(advice: Advice) -> tuple[int, str, str]:
    """Listing order: "backorder likely" first (soonest first), then already backordered, then the rest by order-by date."""
    day = advice.likely_on if advice.status == "likely" else advice.order_by
    return (_STATUS_ORDER[advice.status], day.isoformat() if day else "9999-12-31", advice.sku)


@dataclass(frozen=True, slots=True)
class PurchaseSuggestion:
    """What to order from one supplier now: the SKUs whose position is at or below the reorder point."""

    supplier: str | None  # None: SKUs no feed names a supplier for
    skus: int
    units: int
    order_by: date | None  # the earliest order-by date among them
    likely: int  # of which flagged "backorder likely"
    lines: tuple[Advice, ...]


def purchase_suggestions(advice: Iterable[Advice]) -> list[PurchaseSuggestion]:
    """The suggested quantities grouped per supplier, suppliers with the earliest order-by date first."""
    grouped: dict[str | None, list[Advice]] = {}
    for item in advice:
        if item.suggested > 0:
            grouped.setdefault(item.supplier, []).append(item)
    suggestions = []
    for supplier, items in grouped.items():
        items.sort(key=advice_order)
        dates = [item.order_by for item in items if item.order_by is not None]
        suggestions.append(PurchaseSuggestion(
            supplier=supplier, skus=len(items), units=sum(item.suggested for item in items),
            order_by=min(dates) if dates else None, likely=sum(1 for item in items if item.status == "likely"),
            lines=tuple(items),
        ))
    suggestions.sort(key=lambda s: (s.order_by or date.max, s.supplier is None, s.supplier or ""))
    return suggestions
