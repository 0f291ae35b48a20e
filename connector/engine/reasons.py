"""Why a line is backordered: exactly one reason code per backordered line, from evidence the plan already has.

The first rule that holds decides, in this order:

1. `supplier_delay`   the supplier promise the line waits on has slipped (its date moved later);
2. `demand_surge`     the SKU's demand surged (see `demand.SurgeRule`: last 14 days at least twice the
                      90-day rate, and at least 3 units in those 14 days);
3. `awaiting_restock` a supplier promise covers the line (it has an ETA);
4. `no_supplier_date` nothing does: no promise at all, or the promises run out before this line.

A slipped promise comes first because it is what moved the customer's date; a surge comes before
plain restocking because it is why the stock ran out when it did.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from connector.engine.types import LinePlan, Plan

ReasonCode = Literal["supplier_delay", "demand_surge", "awaiting_restock", "no_supplier_date"]
REASON_CODES: tuple[ReasonCode, ...] = ("supplier_delay", "demand_surge", "awaiting_restock", "no_supplier_date")


@dataclass(frozen=True, slots=True)
class LineEvidence:
    """What is known about one plan line when its reason is decided."""

    backordered: int
    eta: date | None
    promise_slipped: bool = False  # the promise that dates the line moved later at least once
    demand_surge: bool = False  # the line's SKU is surging (`demand.is_demand_surge`)


def line_reason(evidence: LineEvidence) -> ReasonCode | None:
    """The one reason for a backordered line; None for a line that is not backordered."""
    if evidence.backordered <= 0:
        return None
    if evidence.promise_slipped and evidence.eta is not None:
        return "supplier_delay"
    if evidence.demand_surge:
        return "demand_surge"
    if evidence.eta is not None:
        return "awaiting_restock"
    return "no_supplier_date"


SlipCheck = Callable[[LinePlan], bool]


def _never_slipped(_line: LinePlan) -> bool:
    return False


def plan_reasons(
    plan: Plan, surging_skus: Collection[str] = (), slipped: SlipCheck = _never_slipped
) -> dict[tuple[str, str], ReasonCode]:
    """The reason of every backordered line of `plan`, keyed by (order id, line id). `slipped(line)`
    says whether the promise that dates `line` slipped (from the promise history)."""
    reasons: dict[tuple[str, str], ReasonCode] = {}
    for order in plan.orders:
        for line in order.lines:
            if line.backordered <= 0:
                continue
            reason = line_reason(LineEvidence(line.backordered, line.eta, slipped(line), line.sku in surging_skus))
            if reason is not None:
                reasons[(order.order_id, line.line_id)] = reason
    return reasons


def apply_reasons(plan: Plan, surging_skus: Collection[str] = (), slipped: SlipCheck = _never_slipped) -> Plan:
    """Fill in `reason` on every backordered line of `plan` (the one step that sets it) and return the plan."""
    reasons = plan_reasons(plan, surging_skus, slipped)
    for order in plan.orders:
        for line in order.lines:
            line.reason = reasons.get((order.order_id, line.line_id))
    return plan


def waiting_supplier(eta_source: str | None) -> str | None:
    """The supplier a backordered line waits on, from its `eta_source` ("supplier NAME: ..."); None when
    no supplier event dates it."""
    if not eta_source or not eta_source.startswith("supplier "):
        return None
    name, sep, _rest = eta_source[len("supplier "):].partition(": ")
    return name if sep and name else None


def slipped_promises(promises: Iterable[tuple[str, str, date]]) -> SlipCheck:
    """A `SlipCheck` from the (supplier, SKU, current restock date) of each promise that slipped.

    A line waits on the restock whose supply event dated it; `supply.events_from_rows` names that event
    "supplier NAME: restock YYYY-MM-DD ...", so the line's `eta_source` says which promise it is."""
    prefixes: dict[str, set[str]] = {}
    for supplier, sku, restock_date in promises:
        prefixes.setdefault(sku, set()).add(f"supplier {supplier}: restock {restock_date.isoformat()}")

    def check(line: LinePlan) -> bool:
        source = line.eta_source or ""
        return line.eta is not None and any(source.startswith(prefix) for prefix in prefixes.get(line.sku, ()))

    return check
