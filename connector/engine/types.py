"""The engine's plain records: what goes into a plan (orders, supply, policy) and what comes out.

Per-order and per-line records are slots dataclasses but not frozen: a plan of a large store builds
hundreds of thousands of them, and a frozen dataclass costs about five times as much to construct.
Treat them as read-only all the same; the engine never changes a record it has handed out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

OrderStatus = Literal["backordered", "ok"]

IN_STOCK = "in stock"
NO_SUPPLY = "no supply known"
SUPPLY_RUNS_OUT = "supply runs out"


@dataclass(slots=True)
class OrderLine:
    """One order line as the engine sees it; `open_quantity` is what is still unfulfilled."""

    line_id: str
    sku: str | None
    quantity: int
    open_quantity: int
    requires_shipping: bool = True


@dataclass(slots=True)
class Order:
    """One order; `created_at` is timezone-aware (naive times are read as UTC)."""

    order_id: str
    name: str
    created_at: datetime
    is_open: bool
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True, slots=True)
class SupplyRow:
    """One supplier feed row: stock the supplier can ship now and/or an expected restock."""

    supplier: str
    sku: str
    available: int | None = None
    restock_date: date | None = None
    restock_qty: int | None = None
    lead_time_days: int | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """Shop settings the ETA depends on."""

    handling_days: int = 1  # days between stock arriving and the order leaving the store
    default_lead_time_days: int = 7  # supplier-to-store days when a feed row gives none
    eta_confidence: float = 0.8  # the learned-lateness quantile an ETA is dated at (see engine.lateness)
    learn_lateness: bool = True  # date promises from learned supplier lateness (False: the feed's word only)


@dataclass(slots=True)
class LinePlan:
    """The decision for one tracked open line.

    `ordered` is the line's open quantity. A fully allocated line has `eta` None (it ships from
    stock, nothing is awaited) and `eta_source` "in stock". A backordered line's `eta` is None when
    the known supply runs out before its last unit; `eta_source` then says why.
    """

    line_id: str
    sku: str
    ordered: int
    allocated: int
    backordered: int
    eta: date | None
    eta_source: str | None
    # The range a customer is told: the ETA at the lateness model's p50 and p90 (both the `eta` itself
    # when no model applies; None whenever `eta` is).
    eta_earliest: date | None = None
    eta_latest: date | None = None
    # Why the line is backordered (`reasons.REASON_CODES`), set by `reasons.apply_reasons`; None when
    # it is not backordered or no reasons were worked out.
    reason: str | None = None


@dataclass(slots=True)
class OrderPlan:
    """The decision for one open order: `eta` is the latest backordered line's ETA (None if any is unknown)."""

    order_id: str
    order_name: str
    status: OrderStatus
    eta: date | None
    lines: tuple[LinePlan, ...]
    eta_earliest: date | None = None  # the latest backordered line's range ends (None with `eta`)
    eta_latest: date | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """Every open order with a tracked open line, in priority order."""

    as_of: date
    orders: tuple[OrderPlan, ...]
