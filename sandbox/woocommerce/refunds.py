"""`/wp-json/wc/v3/orders/<id>/refunds` of the WooCommerce sandbox: order money, refunds, gateway refusals.

As WooCommerce does (`WC_REST_Order_Refunds_Controller`, `wc_create_refund`): the caller states the
refund `amount` and, per line item (or shipping line), `quantity`, `refund_total` and `refund_tax`
(a list of {id: tax rate id, refund_total}); the store checks the amount against what is left to
refund, then with `api_refund` (default true) asks the payment gateway. Gateways `bacs`, `cheque`
and `cod` cannot refund automatically; any other refunds unless a refusal is staged for the order
(`WooState.gateway_refusals`, the control API's `/_sandbox/gateway-refusal`). Every refusal answers
500 `woocommerce_rest_cannot_create_order_refund` with the gateway's message, and no refund is kept.
With `api_restock` (default true) refunded units go back to stock and leave `_reduced_stock`, so
cancelling the order afterwards does not restock them twice. A refund leaving nothing to refund
moves the order to `refunded`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from sandbox.woocommerce.context import body_params, current, require, root
from sandbox.woocommerce.model import (
    NO_AUTOMATIC_REFUNDS,
    REDUCED_STOCK_META_KEY,
    TAX_RATE_ID,
    MetaEntry,
    Order,
    Refund,
    RefundLine,
    gmt_string,
)
from sandbox.woocommerce.money import (
    cents,
    money,
    order_total,
    refunded_quantity,
    refunded_total,
    shipping_line_id,
)
from sandbox.woocommerce.rest_errors import WooRestError, json_response

refunds = Blueprint("woo_refunds", __name__)

CANNOT_REFUND = "woocommerce_rest_cannot_create_order_refund"
NO_GATEWAY_REFUNDS = "The payment gateway for this order does not support automatic refunds."


def refund_json(state: Any, order: Order, refund: Refund) -> dict[str, Any]:
    items = {line.id: line for line in order.line_items}
    line_items = []
    shipping_lines = []
    for part in refund.lines:
        taxes = [{"id": TAX_RATE_ID, "total": money(-part.tax), "subtotal": money(-part.tax)}] if part.tax else []
        if part.item_id in items:
            item = items[part.item_id]
            line_items.append({"id": part.item_id + 500_000, "name": item.name, "product_id": item.product_id,
                               "variation_id": item.variation_id, "quantity": -part.quantity, "sku": item.sku,
                               "subtotal": money(-part.total), "total": money(-part.total),
                               "total_tax": money(-part.tax), "taxes": taxes, "price": -item.price,
                               "meta_data": [{"id": 0, "key": "_refunded_item_id", "value": str(part.item_id)}]})
        else:
            shipping_lines.append({"id": part.item_id + 500_000, "method_title": "Flat rate", "method_id": "flat_rate",
                                   "total": money(-part.total), "total_tax": money(-part.tax), "taxes": taxes,
                                   "meta_data": [{"id": 0, "key": "_refunded_item_id", "value": str(part.item_id)}]})
    return {"id": refund.id, "date_created": state.local(refund.date_created_gmt),
            "date_created_gmt": refund.date_created_gmt, "amount": money(refund.amount), "reason": refund.reason,
            "refunded_by": 1, "refunded_payment": refund.refunded_payment, "meta_data": [],
            "line_items": line_items, "shipping_lines": shipping_lines, "tax_lines": [], "fee_lines": [],
            "_links": {"self": [{"href": f"{root()}/wp-json/wc/v3/orders/{order.id}/refunds/{refund.id}"}],
                       "up": [{"href": f"{root()}/wp-json/wc/v3/orders/{order.id}"}]}}


def _order(order_id: int) -> Order:
    order = current().state.orders.get(order_id)
    if order is None:
        raise WooRestError("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
    return order


@refunds.get("/orders/<int:order_id>/refunds")
def list_refunds(order_id: int) -> Response:
    require("view")
    state = current().state
    with state.lock:
        order = _order(order_id)
        return json_response([refund_json(state, order, refund) for refund in reversed(order.refunds)])


def _number(value: Any, what: str) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        raise WooRestError("rest_invalid_param", f"Invalid parameter(s): {what}", 400) from None


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


@refunds.post("/orders/<int:order_id>/refunds")
def create_refund(order_id: int) -> Response:
    data = body_params()
    require("create")
    sandbox = current()
    state = sandbox.state
    now = sandbox.now()
    with state.lock:
        order = _order(order_id)
        amount = _number(data.get("amount"), "amount")
        if amount < 0:
            raise WooRestError("woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero.", 400)
        parts = _parts(state, order, data.get("line_items") or [])
        if cents(amount) > cents(order_total(state, order) - refunded_total(order)):
            raise WooRestError(CANNOT_REFUND, "Invalid refund amount.", 500)
        api_refund = _flag(data.get("api_refund"), True)
        if api_refund and amount > 0:
            refusal = state.gateway_refusals.pop(order.id, None)
            if order.payment_method in NO_AUTOMATIC_REFUNDS:
                refusal = NO_GATEWAY_REFUNDS
            if refusal:
                raise WooRestError(CANNOT_REFUND, refusal, 500)
        refund = Refund(state.take_id("order"), order.id, cents(amount), str(data.get("reason") or ""), api_refund,
                        gmt_string(now), parts)
        order.refunds.append(refund)
        if _flag(data.get("api_restock"), True):
            _restock(state, order, parts, now)
        state._system_note(order, f"Refunded {money(amount)} {order.currency}"
                           + (f" – {refund.reason}" if refund.reason else ""), now)
        if cents(order_total(state, order) - refunded_total(order)) <= 0 and order.status != "refunded":
            state.update_order(order, now, status="refunded")
        order.date_modified_gmt = gmt_string(now)
        state.emit("order", "updated", order.id)
        return json_response(refund_json(state, order, refund), 201)


def _parts(state: Any, order: Order, raw: Any) -> list[RefundLine]:
    if not isinstance(raw, list):
        raise WooRestError("rest_invalid_param", "Invalid parameter(s): line_items", 400)
    items = {line.id: line for line in order.line_items}
    parts = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise WooRestError("rest_invalid_param", "Invalid parameter(s): line_items", 400)
        item_id = int(_number(entry.get("id"), "line_items"))
        quantity = int(_number(entry.get("quantity"), "line_items"))
        total = _number(entry.get("refund_total"), "line_items")
        taxes = entry.get("refund_tax") or []
        tax = sum(_number(t.get("refund_total"), "line_items") for t in taxes if isinstance(t, dict))
        if item_id in items:
            left = items[item_id].quantity - refunded_quantity(order, item_id)
            if quantity > left:
                raise WooRestError(CANNOT_REFUND, f"Cannot refund more than {left} of item #{item_id}.", 500)
        elif item_id != shipping_line_id(order) or order.shipping_total <= 0:
            raise WooRestError(CANNOT_REFUND, f"Invalid line item #{item_id}.", 500)
        parts.append(RefundLine(item_id, quantity, cents(total), cents(tax)))
    return parts


def _restock(state: Any, order: Order, parts: list[RefundLine], now: float) -> None:
    items = {line.id: line for line in order.line_items}
    for part in parts:
        line = items.get(part.item_id)
        holder = state.stock_holder(line.product_id, line.variation_id) if line else None
        if line is None or holder is None or part.quantity <= 0:
            continue
        reduced = line.meta_value(REDUCED_STOCK_META_KEY)
        if reduced is None:
            continue  # stock was never taken for it, so none goes back
        back = min(part.quantity, int(reduced))
        before = holder.stock_quantity or 0
        holder.stock_quantity = before + back
        state._restatus(holder)
        holder.date_modified_gmt = gmt_string(now)
        left = int(reduced) - back
        line.meta = [entry for entry in line.meta if entry.key != REDUCED_STOCK_META_KEY]
        if left > 0:
            line.meta.append(MetaEntry(state.take_id("meta"), REDUCED_STOCK_META_KEY, str(left)))
        state._system_note(order, f"Item #{line.id} stock increased from {before} to {holder.stock_quantity}.", now)
        state._item_event(holder)
