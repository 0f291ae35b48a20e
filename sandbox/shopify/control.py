"""The sandbox's own control API under `/_sandbox/` (not Shopify's): place orders, set stock, inject faults, inspect.

    GET  /_sandbox/health                      shop domain and counts
    GET  /_sandbox/orders                      every order's marks: tags, note, metafields, holds
    GET  /_sandbox/orders/<id>                 one order's marks (numeric id)
    POST /_sandbox/orders                      place an order (seed.NewOrder); fires orders/create
    POST /_sandbox/orders/<id>/cancel|fulfill  cancel or ship it; fires orders/cancelled|fulfilled + updated
    GET  /_sandbox/inventory                   quantities per SKU and location
    POST /_sandbox/inventory                   set named quantities (seed.StockChange); fires inventory_levels/update
    GET|POST /_sandbox/faults                  read or change the FaultPlan
    GET|POST /_sandbox/bucket                  read or change bucket_size, restore_rate, currently_available
    GET  /_sandbox/webhooks                    deliveries so far (with status); POST .../flush waits for the queue
    POST /_sandbox/uninstall                   revoke every token and send app/uninstalled
    GET|POST /_sandbox/bulk                    read or change the bulk rules (bulk.BulkRules); POST may also
                                               carry {"occupy": {"query": ..., "polls": n}}: a bulk query run as
                                               if started earlier (by another process or another query), which
                                               holds a slot for n status reads
    POST /_sandbox/bulk/finish                 finish every running bulk operation now (sends the webhooks)
    GET|POST /_sandbox/access                  {"protected_data": bool, "static_scopes": "a,b",
                                               "withheld_scopes": [...]}: what apps are granted
    GET  /_sandbox/tokens                      {"rotations", "access_tokens", "refresh_tokens"}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, jsonify, request
from pydantic import ValidationError

from sandbox.shopify.model import Order, gid, iso
from sandbox.shopify.seed import NewOrder, StockChange

if TYPE_CHECKING:
    from sandbox.shopify.app import ShopifySandbox


def order_marks(order: Order) -> dict[str, Any]:
    """What the connector wrote on an order, as a merchant would see it."""
    return {
        "id": gid("Order", order.id), "legacy_id": order.id, "name": order.name, "updated_at": iso(order.updated_at),
        "cancelled": order.cancelled_at is not None, "fulfillment_status": order.fulfillment_status,
        "tags": list(order.tags), "note": order.note,
        "metafields": {f"{m.namespace}.{m.key}": {"type": m.type, "value": m.value} for m in order.metafields},
        "holds": [{"fulfillment_order": gid("FulfillmentOrder", fo.id), "id": gid("FulfillmentHold", h.id),
                   "handle": h.handle, "reason": h.reason, "reason_notes": h.reason_notes}
                  for fo in order.fulfillment_orders for h in fo.holds],
        "lines": [{"id": gid("LineItem", line.id), "sku": line.sku, "quantity": line.quantity,
                   "unfulfilled": line.unfulfilled_quantity} for line in order.lines],
    }


def _bad_request(message: str) -> tuple[Any, int]:
    return jsonify({"error": message}), 400


def _validation_message(error: ValidationError) -> str:
    detail = error.errors()[0]
    return f"{'.'.join(str(p) for p in detail['loc']) or 'body'}: {detail['msg']}"


def register_control(app: Flask, sandbox: ShopifySandbox) -> None:
    state = sandbox.state

    @app.get("/_sandbox/health")
    def health() -> Any:
        with state.lock:
            return jsonify({"shop": state.shop, "orders": len(state.orders), "variants": len(state.variants)})

    @app.get("/_sandbox/orders")
    def list_orders() -> Any:
        with state.lock:
            return jsonify([order_marks(order) for order in sorted(state.orders.values(), key=lambda o: o.id)])

    @app.get("/_sandbox/orders/<int:order_id>")
    def show_order(order_id: int) -> Any:
        with state.lock:
            order = state.orders.get(order_id)
            return (jsonify(order_marks(order)), 200) if order else (jsonify({"error": "no such order"}), 404)

    @app.post("/_sandbox/orders")
    def place_order() -> Any:
        try:
            spec = NewOrder.model_validate(request.get_json(silent=True) or {})
        except ValidationError as error:
            return _bad_request(_validation_message(error))
        order = state.create_order(spec)
        with state.lock:
            return jsonify(order_marks(order)), 201

    @app.post("/_sandbox/orders/<int:order_id>/<action>")
    def change_order(order_id: int, action: str) -> Any:
        operations = {"cancel": state.cancel_order, "fulfill": state.fulfill_order}
        if action not in operations:
            return jsonify({"error": f"unknown action {action!r}; use cancel or fulfill"}), 404
        try:
            order = operations[action](order_id)
        except KeyError:
            return jsonify({"error": "no such order"}), 404
        with state.lock:
            return jsonify(order_marks(order))

    @app.get("/_sandbox/inventory")
    def list_inventory() -> Any:
        with state.lock:
            return jsonify([{"sku": v.sku, "variant_id": v.id, "tracked": v.tracked,
                             "inventory_policy": v.inventory_policy, "inventory_item_id": v.inventory_item_id,
                             "levels": {str(loc.id): q for loc, q in state.item_levels(v.inventory_item_id)},
                             "metafields": {f"{m.namespace}.{m.key}": {"type": m.type, "value": m.value}
                                            for m in v.metafields}}
                            for v in state.variants.values()])

    @app.post("/_sandbox/inventory")
    def set_inventory() -> Any:
        try:
            change = StockChange.model_validate(request.get_json(silent=True) or {})
            quantities = state.set_stock(change)
        except ValidationError as error:
            return _bad_request(_validation_message(error))
        except KeyError as error:
            return jsonify({"error": str(error.args[0])}), 404
        return jsonify({"sku": change.sku, "quantities": quantities})

    @app.route("/_sandbox/faults", methods=["GET", "POST"])
    def faults() -> Any:
        if request.method == "POST":
            values = request.get_json(silent=True)
            if not isinstance(values, dict):
                return _bad_request("body must be a JSON object of fault settings")
            try:
                with state.lock:
                    sandbox.faults.update(values)
            except (TypeError, ValueError) as error:
                return _bad_request(str(error))
        return jsonify(sandbox.faults.as_dict())

    @app.route("/_sandbox/bucket", methods=["GET", "POST"])
    def bucket() -> Any:
        if request.method == "POST":
            values = request.get_json(silent=True) or {}
            unknown = set(values) - {"bucket_size", "restore_rate", "currently_available"}
            if unknown:
                return _bad_request(f"unknown bucket settings: {', '.join(sorted(unknown))}")
            try:
                with state.lock:
                    sandbox.bucket.configure(size=values.get("bucket_size"), restore_rate=values.get("restore_rate"),
                                             available=values.get("currently_available"))
            except (TypeError, ValueError) as error:
                return _bad_request(str(error))
        with state.lock:
            return jsonify(sandbox.bucket.status())

    @app.get("/_sandbox/webhooks")
    def list_webhooks() -> Any:
        with state.lock:
            deliveries = list(sandbox.webhooks.deliveries)
        return jsonify([delivery.summary() for delivery in deliveries])

    @app.post("/_sandbox/webhooks/flush")
    def flush_webhooks() -> Any:
        return jsonify({"flushed": sandbox.webhooks.flush()})

    @app.route("/_sandbox/bulk", methods=["GET", "POST"])
    def bulk_rules() -> Any:
        if request.method == "POST":
            values = request.get_json(silent=True)
            if not isinstance(values, dict):
                return _bad_request("body must be a JSON object of bulk settings")
            occupy = values.pop("occupy", None)
            try:
                with state.lock:
                    sandbox.bulk.rules.update(values)
                    if isinstance(occupy, dict):
                        query = str(occupy.get("query") or "{ productVariants { edges { node { id sku } } } }")
                        records = sandbox.bulk.records(query, {"protected_denied": not sandbox.access.protected_data})
                        if isinstance(records, str):
                            return _bad_request(records)
                        op = sandbox.bulk.start(query, "", records, base_url=request.host_url,
                                                polls=max(1, int(occupy.get("polls", 3))))
                        op.ends = "COMPLETED"
            except (TypeError, ValueError) as error:
                return _bad_request(str(error))
        with state.lock:
            return jsonify(sandbox.bulk.rules.as_dict())

    @app.post("/_sandbox/bulk/finish")
    def bulk_finish() -> Any:
        with state.lock:
            return jsonify({"finished": sandbox.bulk.finish_all()})

    @app.route("/_sandbox/access", methods=["GET", "POST"])
    def access() -> Any:
        if request.method == "POST":
            values = request.get_json(silent=True)
            if not isinstance(values, dict) or set(values) - {"protected_data", "static_scopes", "withheld_scopes"}:
                return _bad_request("expected protected_data, static_scopes and/or withheld_scopes")
            with state.lock:
                if "protected_data" in values:
                    sandbox.access.protected_data = bool(values["protected_data"])
                if "static_scopes" in values:
                    sandbox.tokens.set_static_scope(str(values["static_scopes"]))
                if "withheld_scopes" in values:
                    sandbox.tokens.withheld = {str(scope) for scope in values["withheld_scopes"] or []}
        with state.lock:
            return jsonify({"protected_data": sandbox.access.protected_data,
                            "withheld_scopes": sorted(sandbox.tokens.withheld)})

    @app.get("/_sandbox/tokens")
    def tokens() -> Any:
        return jsonify(sandbox.tokens.stats())

    @app.post("/_sandbox/uninstall")
    def uninstall() -> Any:
        with state.lock:
            sandbox.tokens.revoke_all()
            sandbox.webhooks.emit("app/uninstalled", {"id": 1, "name": state.shop.split(".")[0],
                                                      "domain": None, "myshopify_domain": state.shop})
        return jsonify({"uninstalled": True})
