"""Plan -> the JSON contract printed by `connector plan --json` and `connector reconcile --json`."""

from __future__ import annotations

import json
from datetime import date
from json.encoder import encode_basestring_ascii as _text  # the C escaper json.dumps uses
from typing import Any

from connector.engine.availability import VariantAvailability, variant_to_dict
from connector.engine.types import LinePlan, OrderPlan, Plan


def _line_to_dict(line: LinePlan) -> dict[str, Any]:
    return {
        "line_id": line.line_id,
        "sku": line.sku,
        "ordered": line.ordered,
        "allocated": line.allocated,
        "backordered": line.backordered,
        "eta": line.eta.isoformat() if line.eta is not None else None,
        "eta_earliest": line.eta_earliest.isoformat() if line.eta_earliest is not None else None,
        "eta_latest": line.eta_latest.isoformat() if line.eta_latest is not None else None,
        "reason": line.reason,
    }


def order_plan_to_dict(order: OrderPlan) -> dict[str, Any]:
    """One order of the contract: ids as strings, dates ISO or null, only its tracked open lines."""
    return {
        "order_id": order.order_id,
        "order_name": order.order_name,
        "status": order.status,
        "eta": order.eta.isoformat() if order.eta is not None else None,
        "eta_earliest": order.eta_earliest.isoformat() if order.eta_earliest is not None else None,
        "eta_latest": order.eta_latest.isoformat() if order.eta_latest is not None else None,
        "lines": [_line_to_dict(line) for line in order.lines],
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """`{"as_of": ..., "orders": [...]}` exactly as documented; `eta_source` is not part of it."""
    return {"as_of": plan.as_of.isoformat(), "orders": [order_plan_to_dict(order) for order in plan.orders]}


class _IsoDates(dict[date | None, str]):
    """JSON text per date, each formatted once (a plan has few distinct dates)."""

    def __missing__(self, day: date | None) -> str:
        text = self[day] = "null" if day is None else f'"{day.isoformat()}"'
        return text


class _Reasons(dict[str | None, str]):
    """JSON text per reason code (a handful of distinct values)."""

    def __missing__(self, code: str | None) -> str:
        text = self[code] = "null" if code is None else _text(code)
        return text


def plan_to_json(plan: Plan, variants: list[VariantAvailability] | None = None) -> str:
    """`json.dumps(plan_to_dict(plan))`, character for character, written directly; with `variants`
    a last key `"variants"` follows `"orders"` (see `variant_to_dict`), every other field unchanged.

    Building a dict per line only to serialise it costs more than planning a large store, so this
    writer formats the same text itself, escaping strings with the json module's own encoder.
    """
    stamp = _IsoDates()
    reason_text = _Reasons()

    parts: list[str] = []
    add = parts.append
    for order in plan.orders:
        lines = ", ".join([
            f'{{"line_id": {_text(line.line_id)}, "sku": {_text(line.sku)}, "ordered": {line.ordered}, '
            f'"allocated": {line.allocated}, "backordered": {line.backordered}, "eta": {stamp[line.eta]}, '
            f'"eta_earliest": {stamp[line.eta_earliest]}, "eta_latest": {stamp[line.eta_latest]}, '
            f'"reason": {reason_text[line.reason]}}}'
            for line in order.lines
        ])
        add(f'{{"order_id": {_text(order.order_id)}, "order_name": {_text(order.order_name)}, '
            f'"status": "{order.status}", "eta": {stamp[order.eta]}, "eta_earliest": {stamp[order.eta_earliest]}, '
            f'"eta_latest": {stamp[order.eta_latest]}, "lines": [{lines}]}}')
    if variants is None:
        return f'{{"as_of": {stamp[plan.as_of]}, "orders": [{", ".join(parts)}]}}'
    listed = json.dumps([variant_to_dict(variant) for variant in variants])
    return f'{{"as_of": {stamp[plan.as_of]}, "orders": [{", ".join(parts)}], "variants": {listed}}}'
