"""Money of a WooCommerce sandbox order as the store computes it: line and shipping tax, totals, what was refunded."""

from __future__ import annotations

from typing import Any

from sandbox.woocommerce.model import SHIPPING_LINE_OFFSET, LineItem, Order, Refund


def cents(value: float) -> float:
    return round(value + 1e-9, 2)


def money(value: float) -> str:
    return f"{cents(value):.2f}"


def line_tax(state: Any, line: LineItem) -> float:
    return cents(line.price * line.quantity * state.tax_rate_percent / 100)


def shipping_tax(state: Any, order: Order) -> float:
    return cents(order.shipping_total * state.tax_rate_percent / 100)


def order_total(state: Any, order: Order) -> float:
    lines = sum(line.price * line.quantity + line_tax(state, line) for line in order.line_items)
    return cents(lines + order.shipping_total + shipping_tax(state, order))


def refunded_total(order: Order) -> float:
    return cents(sum(refund.amount for refund in order.refunds))


def refunded_quantity(order: Order, item_id: int) -> int:
    return sum(line.quantity for refund in order.refunds for line in refund.lines if line.item_id == item_id)


def shipping_line_id(order: Order) -> int:
    return order.id + SHIPPING_LINE_OFFSET


def refund_summary(refund: Refund) -> dict[str, Any]:
    """The entry in an order's `refunds` list."""
    return {"id": refund.id, "reason": refund.reason, "total": money(-refund.amount)}


