"""Plan -> the JSON contract printed by `connector plan --json` and `connector reconcile --json`."""

from __future__ import annotations

from typing import Any

from connector.engine.types import LinePlan, OrderPlan, Plan


def _line_to_dict(line: LinePlan) -> dict[str, Any]:
    return {
        "line_id": line.line_id,
        "sku": line.sku,
        "ordered": line.ordered,
        "allocated": line.allocated,
        "backordered": line.backordered,
        "eta": line.eta.isoformat() if line.eta is not None else None,
    }


def order_plan_to_dict(order: OrderPlan) -> dict[str, Any]:
    """One order of the contract: ids as strings, dates ISO or null, only its tracked open lines."""
    return {
        "order_id": order.order_id,
        "order_name": order.order_name,
        "status": order.status,
        "eta": order.eta.isoformat() if order.eta is not None else None,
        "lines": [_line_to_dict(line) for line in order.lines],
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """`{"as_of": ..., "orders": [...]}` exactly as documented; `eta_source` is not part of it."""
    return {"as_of": plan.as_of.isoformat(), "orders": [order_plan_to_dict(order) for order in plan.orders]}
