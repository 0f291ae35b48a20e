"""Turns supplier feed rows into dated supply events per SKU, merged across feeds in arrival order."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from connector.engine.lateness import DEFAULT_CONFIDENCE, LatenessModel
from connector.engine.types import Policy, SupplyRow

_UNBOUNDED_SORT = float("inf")


@dataclass(frozen=True, slots=True)
class SupplyEvent:
    """Units of one SKU reaching the store on `arrival`; `quantity` None means no known limit."""

    arrival: date
    quantity: int | None
    source: str
    # The arrival at the lateness model's p50 and p90 (None: the same as `arrival`, no model applied).
    earliest: date | None = None
    latest: date | None = None


def rows_by_sku(rows: Iterable[SupplyRow], skus: Collection[str] | None = None) -> dict[str, list[SupplyRow]]:
    """Feed rows grouped by SKU (only `skus` when given), in the order they came."""
    grouped: dict[str, list[SupplyRow]] = {}
    for row in rows:
        if skus is None or row.sku in skus:
            grouped.setdefault(row.sku, []).append(row)
    return grouped


def events_from_rows(rows: Iterable[SupplyRow], as_of: date, policy: Policy,
                     lateness: LatenessModel | None = None,
                     confidence: float = DEFAULT_CONFIDENCE) -> list[SupplyEvent]:
    """One SKU's supply events, sorted by arrival.

    One row can give two events:
    - `available` > 0: that many units, arriving `as_of + lead`;
    - `restock_date` set: arriving `max(restock_date, as_of) + lead` (a restock date in the past is
      overdue, so it counts from today). Its quantity is `restock_qty`; a restock row without
      `restock_qty` is read as "the supplier restocks this SKU then" with no stated limit, so it
      covers every unit still waiting. A `restock_qty` without a `restock_date` cannot be placed
      in time and gives no event.
    `lead` is the row's `lead_time_days`, or the policy default when the row has none.

    With a `lateness` model, a restock is a promise: its promised arrival `restock_date + lead` moves
    to `promised + max(0, lateness at confidence)` (never earlier than the overdue rule above), and
    its `earliest` and `latest` are the same at p50 and p90. An empty model changes nothing.

    Events arriving on the same day are ordered by supplier name, then "available now" before
    restocks, then restock date, lead and quantity (unbounded last), so the result never depends on
    the order the rows came in.
    """
    keyed: list[tuple[int, str, int, int, int, float, int]] = []
    events: list[SupplyEvent] = []
    today = as_of.toordinal()
    model = lateness if lateness is not None and not lateness.empty else None
    for row in rows:
        lead = row.lead_time_days if row.lead_time_days is not None else policy.default_lead_time_days
        lead = max(lead, 0)
        if row.available is not None and row.available > 0:
            arrival = today + lead
            event = SupplyEvent(
                date.fromordinal(arrival), row.available, f"supplier {row.supplier}: available now (+{lead}d lead)"
            )
            keyed.append((arrival, row.supplier, 0, 0, lead, row.available, len(events)))
            events.append(event)
        if row.restock_date is not None and (row.restock_qty is None or row.restock_qty > 0):
            promised = row.restock_date.toordinal()
            arrival = max(promised, today) + lead
            overdue = " overdue" if promised < today else ""
            source = f"supplier {row.supplier}: restock {row.restock_date.isoformat()}{overdue} (+{lead}d lead)"
            earliest = latest = None
            if model is not None:
                due = promised + lead
                due_day = date.fromordinal(due)
                shift = model.shift_days(row.supplier, row.sku, confidence, due_day)
                if shift:
                    source += f" +{shift}d learned lateness"
                arrival = max(arrival, due + shift)
                low = max(max(promised, today) + lead, due + model.shift_days(row.supplier, row.sku, 0.5, due_day))
                high = max(max(promised, today) + lead, due + model.shift_days(row.supplier, row.sku, 0.9, due_day))
                earliest, latest = date.fromordinal(min(low, arrival)), date.fromordinal(max(high, arrival))
            event = SupplyEvent(date.fromordinal(arrival), row.restock_qty, source, earliest, latest)
            quantity_key = _UNBOUNDED_SORT if row.restock_qty is None else row.restock_qty
            keyed.append((arrival, row.supplier, 1, promised, lead, quantity_key, len(events)))
            events.append(event)
    keyed.sort()  # the last item only keeps identical events apart; it never decides between different ones
    return [events[item[6]] for item in keyed]


def supply_events(
    rows: Iterable[SupplyRow],
    as_of: date,
    policy: Policy,
    skus: Collection[str] | None = None,
    lateness: LatenessModel | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, list[SupplyEvent]]:
    """Supply events per SKU (only `skus` when given), each list sorted by arrival (see `events_from_rows`)."""
    result: dict[str, list[SupplyEvent]] = {}
    for sku, sku_rows in rows_by_sku(rows, skus).items():
        events = events_from_rows(sku_rows, as_of, policy, lateness, confidence)
        if events:
            result[sku] = events
    return result
