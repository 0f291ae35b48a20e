"""Availability ETA per variant: when a unit ordered now would be ready, behind every open line ahead of it."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from connector.engine.lateness import LatenessModel
from connector.engine.planner import cumulative_supply
from connector.engine.supply import events_from_rows, rows_by_sku
from connector.engine.types import NO_SUPPLY, SUPPLY_RUNS_OUT, Plan, Policy, SupplyRow


@dataclass(frozen=True, slots=True)
class VariantAvailability:
    """What the storefront may promise for one tracked SKU.

    `available_now` is the units left once every open order line has taken its share. When it is
    above zero the variant is in stock and has no ETA (`in_stock`). Otherwise `eta` is the date the
    next unit ordered would be ready under the same rules as an order line's ETA, or None when the
    known supply runs out before reaching it; `eta_source` says which supply event (or why none).
    `eta_earliest`/`eta_latest` are the range the supplier's learned lateness gives that event (p50 to
    p90, plus handling), None where no lateness model applies to it.
    """

    sku: str
    available_now: int
    eta: date | None
    eta_source: str | None
    eta_earliest: date | None = None
    eta_latest: date | None = None

    @property
    def in_stock(self) -> bool:
        return self.available_now > 0


def variant_availability(
    plan: Plan,
    stock: Mapping[str, int],
    supply: Iterable[SupplyRow],
    policy: Policy = Policy(),
    skus: Collection[str] | None = None,
    lateness: LatenessModel | None = None,
    confidence: float | None = None,
) -> list[VariantAvailability]:
    """The availability of every tracked SKU (each key of `stock`, or only `skus`), sorted by SKU.

    `plan` must be `make_plan(orders, stock, supply, plan.as_of, policy, lateness, confidence)` over the
    same stock, supply and lateness model: its lines say how many units each SKU has already handed out and how many are waiting.
    The next unit is unit number `waiting + 1` of the SKU's supply, so its ETA can never be earlier
    than that of a waiting line, and with nothing waiting it is the next arrival plus handling.
    """
    allocated: dict[str, int] = {}
    waiting: dict[str, int] = {}
    for order in plan.orders:
        for line in order.lines:
            allocated[line.sku] = allocated.get(line.sku, 0) + line.allocated
            if line.backordered:
                waiting[line.sku] = waiting.get(line.sku, 0) + line.backordered
    wanted = sorted(stock if skus is None else (sku for sku in skus if sku in stock))
    short = [sku for sku in wanted if max(stock[sku], 0) - allocated.get(sku, 0) <= 0]
    supply_rows = rows_by_sku(supply, set(short))
    if confidence is None:
        confidence = policy.eta_confidence
    handling = timedelta(days=policy.handling_days)
    found: dict[str, VariantAvailability] = {}
    for sku in short:
        totals, events = cumulative_supply(
            events_from_rows(supply_rows.get(sku, ()), plan.as_of, policy, lateness, confidence))
        index = bisect_left(totals, waiting.get(sku, 0) + 1)
        if index == len(totals):
            found[sku] = VariantAvailability(sku, 0, None, SUPPLY_RUNS_OUT if totals else NO_SUPPLY)
        else:
            event = events[index]
            ranged = event.earliest is not None and event.latest is not None
            found[sku] = VariantAvailability(
                sku, 0, event.arrival + handling, event.source,
                event.earliest + handling if ranged and event.earliest else None,
                event.latest + handling if ranged and event.latest else None)
    return [
        found.get(sku) or VariantAvailability(sku, max(stock[sku], 0) - allocated.get(sku, 0), None, None)
        for sku in wanted
    ]


def variant_to_dict(variant: VariantAvailability) -> dict[str, object]:
    """One entry of `connector plan --json`'s `variants`: `eta` is left out while the SKU is in stock
    and is null when supply runs out; `eta_earliest`/`eta_latest` follow only where a range exists."""
    entry: dict[str, object] = {"sku": variant.sku, "available_now": variant.available_now}
    if not variant.in_stock:
        entry["eta"] = variant.eta.isoformat() if variant.eta is not None else None
        if variant.eta_earliest is not None and variant.eta_latest is not None:
            entry["eta_earliest"] = variant.eta_earliest.isoformat()
            entry["eta_latest"] = variant.eta_latest.isoformat()
    return entry
