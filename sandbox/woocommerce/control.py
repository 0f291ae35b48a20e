"""`/_sandbox/` control API (no auth, loopback only): place orders, set stock, set faults, read what the store did."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, request

from sandbox.woocommerce.context import current, root
from sandbox.woocommerce.model import BACKORDER_SETTINGS, ORDER_STATUSES, Product, Variation
from sandbox.woocommerce.present import order_json, product_json, variation_json
from sandbox.woocommerce.rest_errors import json_response

control = Blueprint("woo_control", __name__, url_prefix="/_sandbox")


class ControlError(Exception):
    """A control request the sandbox cannot act on; answered 400 (or 404) with the reason."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@control.errorhandler(ControlError)
def _control_error(error: ControlError) -> Response:
    return json_response({"code": "sandbox_bad_request", "message": str(error)}, error.status)


def _json() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None and request.get_data():
        raise ControlError("body must be a JSON object")
    if data is not None and not isinstance(data, dict):
        raise ControlError("body must be a JSON object")
    return data or {}


@control.get("/state")
def summary() -> Response:
    sandbox = current()
    state = sandbox.state
    with state.lock:
        body = {
            "site_url": root(),
            "https_mode": state.https_mode,
            "orders": len(state.orders),
            "products": len(state.products),
            "variations": len(state.variations),
            "notes": len(state.notes),
            "emails": len(state.emails),
            "webhooks": len(state.webhooks),
            "keys": len(state.keys),
            "pending_deliveries": sandbox.dispatcher.pending(),
            "faults": sandbox.faults.as_dict(),
        }
    return json_response(body)


@control.route("/faults", methods=["GET", "PUT", "POST"])
def faults() -> Response:
    plan = current().faults
    if request.method != "GET":
        try:
            plan.update(_json())
        except (TypeError, ValueError) as exc:
            raise ControlError(f"faults: {exc}") from None
    return json_response(plan.as_dict())


@control.post("/orders")
def place_order() -> Response:
    """Place an order as a shopper would: {status, billing, customer_id, line_items: [{sku | product_id[, variation_id], quantity}]}."""
    data = _json()
    sandbox = current()
    state = sandbox.state
    status = data.get("status", "processing")
    if status not in ORDER_STATUSES:
        raise ControlError(f"status must be one of {', '.join(ORDER_STATUSES)}")
    raw_lines = data.get("line_items")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise ControlError("line_items must be a non-empty list")
    with state.lock:
        lines = []
        for index, raw in enumerate(raw_lines):
            if not isinstance(raw, dict):
                raise ControlError(f"line_items[{index}] must be an object")
            item = _find_item(raw, f"line_items[{index}]")
            quantity = raw.get("quantity", 1)
            if not isinstance(quantity, int) or quantity < 1:
                raise ControlError(f"line_items[{index}].quantity must be a positive integer")
            product_id, variation_id = (item.parent_id, item.id) if isinstance(item, Variation) else (item.id, 0)
            if isinstance(item, Product) and item.type == "variable":
                raise ControlError(f"line_items[{index}] names a variable product; name one of its variations")
            lines.append(state.new_line(product_id, variation_id, quantity))
        raw_billing = data.get("billing")
        billing = raw_billing if isinstance(raw_billing, dict) else {}
        order = state.create_order(lines, sandbox.now(), status=status, billing={k: str(v) for k, v in billing.items()},
                                   customer_id=int(data.get("customer_id", 0)))
        body = order_json(state, order, root())
    return json_response(body, 201)


@control.route("/orders/<int:order_id>", methods=["PUT", "POST"])
def change_order(order_id: int) -> Response:
    data = _json()
    sandbox = current()
    state = sandbox.state
    status = data.get("status")
    if status is not None and status not in ORDER_STATUSES:
        raise ControlError(f"status must be one of {', '.join(ORDER_STATUSES)}")
    with state.lock:
        order = state.orders.get(order_id)
        if order is None:
            raise ControlError(f"no order {order_id}", 404)
        state.update_order(order, sandbox.now(), status=status)
        return json_response(order_json(state, order, root()))


@control.get("/orders/<int:order_id>")
def read_order(order_id: int) -> Response:
    state = current().state
    with state.lock:
        order = state.orders.get(order_id)
        if order is None:
            raise ControlError(f"no order {order_id}", 404)
        body = order_json(state, order, root())
        body["notes"] = [asdict(note) for note in state.notes_for(order_id)]
        body["emails"] = [asdict(email) for email in state.emails if email.order_id == order_id]
        return json_response(body)


def _find_item(data: dict[str, Any], where: str) -> Product | Variation:
    state = current().state
    if data.get("sku"):
        item = state.find_by_sku(str(data["sku"]))
        if item is None:
            raise ControlError(f"{where}: no product or variation with sku {data['sku']!r}", 404)
        return item
    for name in ("variation_id", "product_id"):
        if data.get(name):
            item_id = int(data[name])
            found = state.variations.get(item_id) or state.products.get(item_id)
            if found is None:
                raise ControlError(f"{where}: no product or variation {item_id}", 404)
            return found
    raise ControlError(f"{where}: give sku, variation_id or product_id")


@control.post("/stock")
def set_stock() -> Response:
    """Set stock as the merchant would: {sku | product_id | variation_id, stock_quantity?, backorders?, manage_stock?}."""
    data = _json()
    sandbox = current()
    state = sandbox.state
    quantity = data.get("stock_quantity")
    if quantity is not None and not isinstance(quantity, int):
        raise ControlError("stock_quantity must be an integer")
    backorders = data.get("backorders")
    if backorders is not None and backorders not in BACKORDER_SETTINGS:
        raise ControlError(f"backorders must be one of {', '.join(BACKORDER_SETTINGS)}")
    manage = data.get("manage_stock")
    if manage is not None and not isinstance(manage, bool):
        raise ControlError("manage_stock must be true or false")
    with state.lock:
        item = _find_item(data, "stock")
        state.set_stock(item, sandbox.now(), quantity=quantity, backorders=backorders, manage_stock=manage)
        render = variation_json if isinstance(item, Variation) else product_json
        return json_response(render(state, item, root()))  # type: ignore[arg-type]


@control.get("/notes")
def notes() -> Response:
    state = current().state
    order_id = request.args.get("order_id", type=int)
    with state.lock:
        return json_response([asdict(n) for n in state.notes if order_id is None or n.order_id == order_id])


@control.get("/emails")
def emails() -> Response:
    state = current().state
    with state.lock:
        return json_response([asdict(email) for email in state.emails])


@control.get("/webhooks")
def webhook_states() -> Response:
    """Webhooks with their failure counts and ping results; secrets are never shown."""
    state = current().state
    with state.lock:
        body = [
            {"id": h.id, "name": h.name, "topic": h.topic, "delivery_url": h.delivery_url, "status": h.status,
             "failure_count": h.failure_count, "last_ping_status": h.last_ping_status}
            for h in state.webhooks.values()
        ]
    return json_response(body)


@control.get("/deliveries")
def deliveries() -> Response:
    state = current().state
    with state.lock:
        return json_response([asdict(record) for record in state.deliveries])


@control.post("/webhooks/flush")
def flush() -> Response:
    timeout = float(_json().get("timeout", 10))
    return json_response({"flushed": current().dispatcher.flush(timeout)})


@control.get("/keys")
def keys() -> Response:
    """API keys without their secrets (to see what the wc-auth flow created or deleted)."""
    state = current().state
    with state.lock:
        return json_response([
            {"key_id": k.key_id, "user_id": k.user_id, "truncated_key": k.truncated_key, "permissions": k.permissions,
             "description": k.description}
            for k in state.keys.values()
        ])
