"""`/wp-json/wc/v3/orders` routes of the WooCommerce sandbox: list, read, create, update, delete, batch and notes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from sandbox.woocommerce.context import body_params, current, query_pairs, query_params, require, root
from sandbox.woocommerce.listing import ParamReader, in_date_window, paginate, pagination_headers, read_list_args, sort_records, wp_list
from sandbox.woocommerce.model import ORDER_STATUSES, LineItem, Order
from sandbox.woocommerce.present import API_ROOT, note_json, order_json
from sandbox.woocommerce.rest_errors import WooRestError, invalid_params, json_response, missing_params

orders = Blueprint("woo_orders", __name__)

BATCH_LIMIT = 100
STATUS_FILTERS = ("any", "trash", *ORDER_STATUSES)
ORDER_ORDERBY = ("date", "id", "include", "title", "slug", "modified")


def _order_or_404(order_id: int) -> Order:
    order = current().state.orders.get(order_id)
    if order is None:
        raise WooRestError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
    return order


@orders.get("/orders")
def list_orders() -> Response:
    reader = ParamReader(query_params())
    args = read_list_args(reader, ORDER_ORDERBY)
    statuses = set(reader.enum_list("status", STATUS_FILTERS, ["any"]))
    customer = reader.integer("customer", None)
    reader.finish()
    require("list")
    sandbox = current()
    state = sandbox.state

    def wanted(order: Order) -> bool:
        if "any" in statuses and order.status != "trash":
            status_ok = True
        else:
            status_ok = order.status in statuses
        return (
            status_ok
            and (customer is None or order.customer_id == customer)
            and (not args.include or order.id in args.include)
            and in_date_window(args, order.date_created_gmt, order.date_modified_gmt, state.gmt_offset_hours)
        )

    keys: dict[str, Any] = {
        "id": lambda o: o.id,
        "date": lambda o: o.date_created_gmt,
        "modified": lambda o: o.date_modified_gmt,
    }
    with state.lock:
        page = paginate(sort_records([o for o in state.orders.values() if wanted(o)], args, keys), args)
        body = [order_json(state, order, root()) for order in page.items]
    response = json_response(body)
    for name, value in pagination_headers(page, args, f"{root()}{API_ROOT}/orders", query_pairs()):
        response.headers.add(name, value)
    return response


@orders.get("/orders/<int:order_id>")
def get_order(order_id: int) -> Response:
    require("view")
    state = current().state
    with state.lock:
        return json_response(order_json(state, _order_or_404(order_id), root()))


@orders.post("/orders")
def create_order() -> Response:
    data = body_params()
    require("create")
    order = _create(data)
    state = current().state
    with state.lock:
        body = order_json(state, order, root())
    return json_response(body, 201, {"Location": f"{root()}{API_ROOT}/orders/{order.id}"})


@orders.route("/orders/<int:order_id>", methods=["PUT", "PATCH", "POST"])
def update_order(order_id: int) -> Response:
    data = body_params()
    require("edit")
    return json_response(_update(order_id, data))


@orders.delete("/orders/<int:order_id>")
def delete_order(order_id: int) -> Response:
    force = ParamReader(query_params()).boolean("force", False)
    require("delete")
    return json_response(_delete(order_id, force))


@orders.post("/orders/batch")
def batch_orders() -> Response:
    data = body_params()
    require("batch")
    groups = {name: data.get(name) or [] for name in ("create", "update", "delete")}
    if any(not isinstance(items, list) for items in groups.values()):
        raise invalid_params({name: f"{name} is not of type array." for name, items in groups.items() if not isinstance(items, list)})
    if sum(len(items) for items in groups.values()) > BATCH_LIMIT:
        raise WooRestError("woocommerce_rest_request_entity_too_large",
                           f"Unable to accept more than {BATCH_LIMIT} items for this request.", 413)
    state = current().state
    result: dict[str, list[dict[str, Any]]] = {}
    for name, items in groups.items():
        if name not in data:
            continue
        result[name] = [_batch_item(name, item, state) for item in items]
    return json_response(result)


def _batch_item(kind: str, item: Any, state: Any) -> dict[str, Any]:
    item_id = item.get("id", 0) if isinstance(item, dict) else item
    try:
        if kind == "create":
            if not isinstance(item, dict):
                raise invalid_params({"create": "Each item must be an object."})
            order = _create(item)
            with state.lock:
                return order_json(state, order, root())
        if kind == "update":
            if not isinstance(item, dict):
                raise invalid_params({"update": "Each item must be an object."})
            return _update(_as_id(item.get("id")), item)
        return _delete(_as_id(item), force=True)
    except WooRestError as error:
        return error.batch_entry(item_id)


def _as_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _status_param(value: Any) -> str:
    if value not in ORDER_STATUSES:
        raise invalid_params({"status": f"status is not one of {wp_list(list(ORDER_STATUSES))}."})
    return str(value)


def _meta_param(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise invalid_params({"meta_data": "meta_data is not of type array."})
    for index, entry in enumerate(value):
        if not isinstance(entry, dict) or ("key" not in entry and "id" not in entry):
            raise invalid_params({"meta_data": f"meta_data[{index}] is not of type object."})
    return value


def _update(order_id: int, data: dict[str, Any]) -> dict[str, Any]:
    sandbox = current()
    state = sandbox.state
    status = _status_param(data["status"]) if data.get("status") is not None else None
    meta = _meta_param(data["meta_data"]) if data.get("meta_data") is not None else None
    billing = data.get("billing") if isinstance(data.get("billing"), dict) else None
    note = data.get("customer_note") if isinstance(data.get("customer_note"), str) else None
    with state.lock:
        order = state.orders.get(order_id)
        if order is None:
            # CRUD controllers answer 400, not 404, when the id to update does not exist.
            raise WooRestError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 400)
        state.update_order(order, sandbox.now(), status=status, meta_updates=meta,
                           billing={k: str(v) for k, v in billing.items()} if billing else None, customer_note=note)
        return order_json(state, order, root())


def _delete(order_id: int, force: bool) -> dict[str, Any]:
    sandbox = current()
    state = sandbox.state
    with state.lock:
        order = _order_or_404(order_id)
        if not force and order.status == "trash":
            raise WooRestError("woocommerce_rest_already_trashed", "The shop_order has already been deleted.", 410)
        body = order_json(state, order, root())
        state.delete_order(order, sandbox.now(), force=force)
        if not force:
            body = order_json(state, order, root())
        return body


def _create(data: dict[str, Any]) -> Order:
    sandbox = current()
    state = sandbox.state
    status = _status_param(data.get("status", "pending"))
    if ParamReader({"set_paid": str(data.get("set_paid", "false")).lower()}).boolean("set_paid", False) and status == "pending":
        status = "processing"
    raw_lines = data.get("line_items") or []
    if not isinstance(raw_lines, list):
        raise invalid_params({"line_items": "line_items is not of type array."})
    meta = _meta_param(data.get("meta_data") or [])
    with state.lock:
        lines = [_line(state, raw) for raw in raw_lines]
        raw_billing = data.get("billing")
        billing = raw_billing if isinstance(raw_billing, dict) else {}
        return state.create_order(lines, sandbox.now(), status=status, billing={k: str(v) for k, v in billing.items()},
                                  customer_id=_as_id(data.get("customer_id", 0)),
                                  meta=[(str(m["key"]), m.get("value")) for m in meta if "key" in m],
                                  customer_note=str(data.get("customer_note", "")))


def _line(state: Any, raw: Any) -> LineItem:
    if not isinstance(raw, dict):
        raise invalid_params({"line_items": "line_items[0] is not of type object."})
    product_id, variation_id = _as_id(raw.get("product_id")), _as_id(raw.get("variation_id"))
    if not product_id and raw.get("sku"):
        item = state.find_by_sku(str(raw["sku"]))
        if item is not None:
            product_id, variation_id = (item.parent_id, item.id) if hasattr(item, "parent_id") else (item.id, 0)
    if not product_id:
        raise WooRestError("woocommerce_rest_required_product_reference", "Product ID or SKU is required.", 400)
    product = state.products.get(product_id)
    variation = state.variations.get(variation_id) if variation_id else None
    if product is None or (variation_id and (variation is None or variation.parent_id != product_id)):
        raise WooRestError("woocommerce_rest_invalid_product_id", "Product ID is invalid.", 400)
    quantity = _as_id(raw.get("quantity", 1))
    if quantity < 1:
        raise WooRestError("woocommerce_rest_invalid_product_quantity", "Product quantity must be a positive value.", 400)
    return state.new_line(product_id, variation_id, quantity)


# ---- order notes -------------------------------------------------------------------------------


def _order_for_notes(order_id: int) -> Order:
    order = current().state.orders.get(order_id)
    if order is None:
        raise WooRestError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
    return order


@orders.get("/orders/<int:order_id>/notes")
def list_notes(order_id: int) -> Response:
    reader = ParamReader(query_params())
    kind = reader.choice("type", "any", ("any", "customer", "internal"))
    reader.finish()
    require("list")
    state = current().state
    with state.lock:
        _order_for_notes(order_id)
        notes = [n for n in state.notes_for(order_id) if kind == "any" or (kind == "customer") == n.customer_note]
        body = [note_json(state, note, root()) for note in sorted(notes, key=lambda n: n.id, reverse=True)]
    return json_response(body)


@orders.get("/orders/<int:order_id>/notes/<int:note_id>")
def get_note(order_id: int, note_id: int) -> Response:
    require("view")
    state = current().state
    with state.lock:
        _order_for_notes(order_id)
        note = next((n for n in state.notes_for(order_id) if n.id == note_id), None)
        if note is None:
            raise WooRestError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
        return json_response(note_json(state, note, root()))


@orders.post("/orders/<int:order_id>/notes")
def create_note(order_id: int) -> Response:
    data = body_params()
    text = data.get("note")
    if text is None or text == "":
        raise missing_params(["note"])
    flags = ParamReader({name: str(data[name]).lower() for name in ("customer_note", "added_by_user") if name in data})
    customer_note = flags.boolean("customer_note", False)
    added_by_user = flags.boolean("added_by_user", False)
    flags.finish()
    require("create")
    sandbox = current()
    state = sandbox.state
    with state.lock:
        order = _order_for_notes(order_id)
        note = state.add_note(order, str(text), sandbox.now(), customer_note=customer_note, added_by_user=added_by_user)
        body = note_json(state, note, root())
    return json_response(body, 201, {"Location": f"{root()}{API_ROOT}/orders/{order_id}/notes/{note.id}"})


@orders.delete("/orders/<int:order_id>/notes/<int:note_id>")
def delete_note(order_id: int, note_id: int) -> Response:
    force = ParamReader(query_params()).boolean("force", False)
    require("delete")
    if not force:
        raise WooRestError("woocommerce_rest_trash_not_supported", "Order notes do not support trashing.", 501)
    state = current().state
    with state.lock:
        _order_for_notes(order_id)
        note = next((n for n in state.notes_for(order_id) if n.id == note_id), None)
        if note is None:
            raise WooRestError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
        body = note_json(state, note, root())
        state.notes.remove(note)
    return json_response(body)
