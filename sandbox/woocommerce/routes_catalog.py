"""`/wp-json/wc/v3/products` and `/products/<id>/variations` routes of the WooCommerce sandbox.

Reads, and the two batch endpoints the connector writes meta through (`update` only, `meta_data` only:
other fields of an update are ignored). Like core, `products/batch` refuses a variation's id.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from sandbox.woocommerce.context import body_params, current, query_pairs, query_params, require, root
from sandbox.woocommerce.listing import ParamReader, in_date_window, paginate, pagination_headers, read_list_args, sort_records
from sandbox.woocommerce.present import API_ROOT, product_json, variation_json
from sandbox.woocommerce.rest_errors import WooRestError, invalid_params, json_response

catalog = Blueprint("woo_catalog", __name__)

PRODUCT_ORDERBY = ("date", "id", "include", "title", "slug", "modified", "price", "popularity", "rating", "menu_order")
STOCK_STATUSES = ("instock", "outofstock", "onbackorder")
_SORT_KEYS: dict[str, Any] = {
    "id": lambda p: p.id,
    "date": lambda p: p.date_created_gmt,
    "modified": lambda p: p.date_modified_gmt,
    "title": lambda p: getattr(p, "name", ""),
    "slug": lambda p: getattr(p, "slug", ""),
    "price": lambda p: float(p.price or 0),
}


def _listed(records: list[Any], collection: str, render: Any, extra_filter: Any) -> Response:
    reader = ParamReader(query_params())
    args = read_list_args(reader, PRODUCT_ORDERBY)
    sku = reader.params.get("sku")
    stock_status = reader.choice("stock_status", "", STOCK_STATUSES) if "stock_status" in reader.params else ""
    reader.finish()
    require("list")
    state = current().state
    skus = {part.strip() for part in sku.split(",")} if isinstance(sku, str) and sku else None

    def wanted(record: Any) -> bool:
        return (
            (skus is None or record.sku in skus)
            and (not args.include or record.id in args.include)
            and in_date_window(args, record.date_created_gmt, record.date_modified_gmt, state.gmt_offset_hours)
            and extra_filter(record, stock_status)
        )

    with state.lock:
        page = paginate(sort_records([r for r in records if wanted(r)], args, _SORT_KEYS), args)
        body = [render(record) for record in page.items]
    response = json_response(body)
    for name, value in pagination_headers(page, args, f"{root()}{API_ROOT}/{collection}", query_pairs()):
        response.headers.add(name, value)
    return response


@catalog.get("/products")
def list_products() -> Response:
    state = current().state
    with state.lock:
        products = list(state.products.values())

    def render(product: Any) -> dict[str, Any]:
        return product_json(state, product, root())

    def status_ok(product: Any, wanted_status: str) -> bool:
        return not wanted_status or render(product)["stock_status"] == wanted_status

    return _listed(products, "products", render, status_ok)


@catalog.get("/products/<int:product_id>")
def get_product(product_id: int) -> Response:
    require("view")
    state = current().state
    with state.lock:
        if product_id in state.products:
            return json_response(product_json(state, state.products[product_id], root()))
        if product_id in state.variations:
            # The products endpoint serves variations by id too.
            return json_response(variation_json(state, state.variations[product_id], root()))
    raise WooRestError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)


@catalog.get("/products/<int:product_id>/variations")
def list_variations(product_id: int) -> Response:
    state = current().state
    with state.lock:
        product = state.products.get(product_id)
        variations = [state.variations[vid] for vid in product.variation_ids] if product else []
    if product is None:
        require("list")
        raise WooRestError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)

    def render(variation: Any) -> dict[str, Any]:
        return variation_json(state, variation, root())

    def status_ok(variation: Any, wanted_status: str) -> bool:
        return not wanted_status or render(variation)["stock_status"] == wanted_status

    return _listed(variations, f"products/{product_id}/variations", render, status_ok)


@catalog.get("/products/<int:product_id>/variations/<int:variation_id>")
def get_variation(product_id: int, variation_id: int) -> Response:
    require("view")
    state = current().state
    with state.lock:
        variation = state.variations.get(variation_id)
        if variation is None or variation.parent_id != product_id:
            raise WooRestError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)
        return json_response(variation_json(state, variation, root()))


BATCH_LIMIT = 100


def _batch_updates() -> list[Any]:
    data = body_params()
    require("batch")
    updates = data.get("update") or []
    if not isinstance(updates, list):
        raise invalid_params({"update": "update is not of type array."})
    if len(updates) + len(data.get("create") or []) + len(data.get("delete") or []) > BATCH_LIMIT:
        raise WooRestError("woocommerce_rest_request_entity_too_large",
                           f"Unable to accept more than {BATCH_LIMIT} items for this request.", 413)
    return updates


def _meta_update(record: Any, item: dict[str, Any]) -> None:
    meta = item.get("meta_data")
    if meta is None:
        return
    if not isinstance(meta, list) or any(not isinstance(entry, dict) or "key" not in entry for entry in meta):
        raise invalid_params({"meta_data": "meta_data is not of type array."})
    current().state.update_catalog_meta(record, meta, current().now())



@catalog.post("/products/batch")
def batch_products() -> Response:
    state = current().state
    answered = []
    for item in _batch_updates():
        item_id = item.get("id") if isinstance(item, dict) else None
        try:
            with state.lock:
                if item_id in state.variations:
                    raise WooRestError("woocommerce_rest_invalid_product_id", "To manipulate product variations you "
                                       "should use the /products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.", 404)
                product = state.products.get(item_id) if isinstance(item_id, int) else None
                if product is None:
                    raise WooRestError("woocommerce_rest_product_invalid_id", "Invalid ID.", 400)
                _meta_update(product, item)
                answered.append(product_json(state, product, root()))
        except WooRestError as error:
            answered.append(error.batch_entry(item_id))
    return json_response({"update": answered})


@catalog.post("/products/<int:product_id>/variations/batch")
def batch_variations(product_id: int) -> Response:
    state = current().state
    if product_id not in state.products:
        raise WooRestError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
    answered = []
    for item in _batch_updates():
        item_id = item.get("id") if isinstance(item, dict) else None
        try:
            with state.lock:
                variation = state.variations.get(item_id) if isinstance(item_id, int) else None
                if variation is None or variation.parent_id != product_id:
                    raise WooRestError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 400)
                _meta_update(variation, item)
                answered.append(variation_json(state, variation, root()))
        except WooRestError as error:
            answered.append(error.batch_entry(item_id))
    return json_response({"update": answered})
