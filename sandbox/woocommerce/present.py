"""REST v3 representations of sandbox records, shaped like WooCommerce's own responses and webhook payloads."""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.woocommerce.model import (
    SHIPPING_LINE_OFFSET,
    TAX_RATE_ID,
    LineItem,
    MetaEntry,
    Order,
    OrderNote,
    Product,
    Variation,
    Webhook,
)
from sandbox.woocommerce.money import (
    line_tax,
    order_total,
    refund_summary,
    shipping_line_id,
    shipping_tax,
)
from sandbox.woocommerce.state import WooState

API_ROOT = "/wp-json/wc/v3"
_ADDRESS_FIELDS = ("first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode", "country")


GATEWAY_TITLES = {"bacs": "Direct bank transfer", "cheque": "Check payments", "cod": "Cash on delivery",
                  "stripe": "Credit card (Stripe)"}

def site_root(state: WooState, fallback: str) -> str:
    """The store URL as the store sees itself (the seed's site_url, else the address it was reached on)."""
    return (state.site_url or fallback).rstrip("/")


def _money(value: float) -> str:
    return f"{value:.2f}"


def _meta(entries: list[MetaEntry], with_display: bool) -> list[dict[str, Any]]:
    out = []
    for entry in entries:
        item: dict[str, Any] = {"id": entry.id, "key": entry.key, "value": entry.value}
        if with_display:
            item["display_key"] = entry.key
            item["display_value"] = entry.value
        out.append(item)
    return out


def _dates(state: WooState, prefix: str, gmt: str | None) -> dict[str, str | None]:
    return {prefix: state.local(gmt), f"{prefix}_gmt": gmt}


def line_json(state: WooState, line: LineItem) -> dict[str, Any]:
    total = _money(line.price * line.quantity)
    tax = line_tax(state, line)
    parent = state.products.get(line.product_id)
    return {
        "id": line.id,
        "name": line.name,
        "product_id": line.product_id,
        "variation_id": line.variation_id,
        "quantity": line.quantity,
        "tax_class": "",
        "subtotal": total,
        "subtotal_tax": _money(tax),
        "total": total,
        "total_tax": _money(tax),
        "taxes": [{"id": TAX_RATE_ID, "total": _money(tax), "subtotal": _money(tax)}] if tax else [],
        "meta_data": _meta(line.meta, with_display=True),
        "sku": line.sku,
        "price": line.price,
        "image": {"id": "", "src": ""},
        "parent_name": parent.name if line.variation_id and parent else None,
    }


def order_json(state: WooState, order: Order, root: str) -> dict[str, Any]:
    total = _money(order_total(state, order))
    cart_tax = sum(line_tax(state, line) for line in order.line_items)
    ship_tax = shipping_tax(state, order)
    billing = {name: order.billing.get(name, "") for name in _ADDRESS_FIELDS}
    billing["email"] = order.billing.get("email", "")
    billing["phone"] = order.billing.get("phone", "")
    shipping = {name: order.billing.get(name, "") for name in _ADDRESS_FIELDS} | {"phone": ""}
    order_key = "wc_order_" + hashlib.sha1(f"order-{order.id}".encode()).hexdigest()[:13]
    body: dict[str, Any] = {
        "id": order.id,
        "parent_id": 0,
        "status": order.status,
        "currency": order.currency,
        "version": "9.0.0",
        "prices_include_tax": False,
        "date_created": state.local(order.date_created_gmt),
        "date_modified": state.local(order.date_modified_gmt),
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": _money(order.shipping_total),
        "shipping_tax": _money(ship_tax),
        "cart_tax": _money(cart_tax),
        "total": total,
        "total_tax": _money(cart_tax + ship_tax),
        "customer_id": order.customer_id,
        "order_key": order_key,
        "billing": billing,
        "shipping": shipping,
        "payment_method": order.payment_method,
        "payment_method_title": GATEWAY_TITLES.get(order.payment_method, order.payment_method.title()),
        "transaction_id": "",
        "customer_ip_address": "127.0.0.1",
        "customer_user_agent": "",
        "created_via": "checkout",
        "customer_note": order.customer_note,
        "date_completed": state.local(order.date_completed_gmt),
        "date_paid": state.local(order.date_paid_gmt),
        "cart_hash": "",
        "number": order.number,
        "meta_data": _meta(order.meta, with_display=False),
        "line_items": [line_json(state, line) for line in order.line_items],
        "tax_lines": [{"id": order.id + SHIPPING_LINE_OFFSET + 1, "rate_code": "STANDARD", "rate_id": TAX_RATE_ID,
                       "label": "Tax", "compound": False, "tax_total": _money(cart_tax), "shipping_tax_total": _money(ship_tax),
                       "rate_percent": state.tax_rate_percent}] if cart_tax or ship_tax else [],
        "shipping_lines": [{"id": shipping_line_id(order), "method_title": "Flat rate", "method_id": "flat_rate",
                            "instance_id": "1", "total": _money(order.shipping_total), "total_tax": _money(ship_tax),
                            "taxes": [{"id": TAX_RATE_ID, "total": _money(ship_tax), "subtotal": ""}] if ship_tax else [],
                            "meta_data": []}] if order.shipping_total else [],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [refund_summary(refund) for refund in reversed(order.refunds)],
        "payment_url": f"{root}/checkout/order-pay/{order.id}/?pay_for_order=true&key={order_key}",
        "is_editable": order.status in {"pending", "on-hold", "checkout-draft"},
        "needs_payment": order.status in {"pending", "failed"},
        "needs_processing": True,
        "date_created_gmt": order.date_created_gmt,
        "date_modified_gmt": order.date_modified_gmt,
        "date_completed_gmt": order.date_completed_gmt,
        "date_paid_gmt": order.date_paid_gmt,
        "currency_symbol": "$" if order.currency == "USD" else order.currency,
        "_links": _links(root, f"orders/{order.id}", "orders"),
    }
    return body


def note_json(state: WooState, note: OrderNote, root: str) -> dict[str, Any]:
    return {
        "id": note.id,
        "author": note.author,
        "date_created": state.local(note.date_created_gmt),
        "date_created_gmt": note.date_created_gmt,
        "note": note.note,
        "customer_note": note.customer_note,
        "_links": _links(root, f"orders/{note.order_id}/notes/{note.id}", f"orders/{note.order_id}/notes")
        | {"up": [{"href": f"{root}{API_ROOT}/orders/{note.order_id}"}]},
    }


def _stock_fields(manage_stock: bool | str, quantity: int | None, backorders: str, status: str) -> dict[str, Any]:
    return {
        "manage_stock": manage_stock,
        "stock_quantity": quantity,
        "stock_status": status,
        "backorders": backorders,
        "backorders_allowed": backorders != "no",
        "backordered": status == "onbackorder",
        "low_stock_amount": None,
    }


def variable_parent_status(state: WooState, product: Product) -> str:
    """A variable product that does not manage stock shows the best status among its variations."""
    statuses = {variation_view(state, state.variations[vid])["stock_status"] for vid in product.variation_ids if vid in state.variations}
    for candidate in ("instock", "onbackorder"):
        if candidate in statuses:
            return candidate
    return "outofstock" if statuses else product.stock_status


def variation_view(state: WooState, variation: Variation) -> dict[str, Any]:
    """The stock fields WooCommerce shows for a variation, the parent's when the parent manages stock."""
    parent = state.products.get(variation.parent_id)
    if not variation.manage_stock and parent is not None and parent.manage_stock:
        return _stock_fields("parent", parent.stock_quantity, parent.backorders, parent.stock_status)
    return _stock_fields(variation.manage_stock, variation.stock_quantity if variation.manage_stock else None,
                         variation.backorders, variation.stock_status)


def product_json(state: WooState, product: Product, root: str) -> dict[str, Any]:
    status = product.stock_status
    if product.type == "variable" and not product.manage_stock:
        status = variable_parent_status(state, product)
    body: dict[str, Any] = {
        "id": product.id,
        "name": product.name,
        "slug": product.slug,
        "permalink": f"{root}/product/{product.slug}/",
        "date_created": state.local(product.date_created_gmt),
        "date_created_gmt": product.date_created_gmt,
        "date_modified": state.local(product.date_modified_gmt),
        "date_modified_gmt": product.date_modified_gmt,
        "type": product.type,
        "status": "publish",
        "sku": product.sku,
        "price": product.price,
        "regular_price": product.price if product.type == "simple" else "",
        "sale_price": "",
        "parent_id": 0,
        "attributes": product.attributes,
        "variations": list(product.variation_ids),
        "meta_data": _meta(product.meta, with_display=False),
        "_links": _links(root, f"products/{product.id}", "products"),
    }
    body.update(_stock_fields(product.manage_stock, product.stock_quantity if product.manage_stock else None,
                              product.backorders, status))
    return body


def variation_json(state: WooState, variation: Variation, root: str) -> dict[str, Any]:
    parent = state.products.get(variation.parent_id)
    options = ", ".join(attr.get("option", "") for attr in variation.attributes)
    body: dict[str, Any] = {
        "id": variation.id,
        "parent_id": variation.parent_id,
        "name": f"{parent.name if parent else ''} - {options}".strip(" -"),
        "date_created": state.local(variation.date_created_gmt),
        "date_created_gmt": variation.date_created_gmt,
        "date_modified": state.local(variation.date_modified_gmt),
        "date_modified_gmt": variation.date_modified_gmt,
        "description": "",
        "permalink": f"{root}/product/{parent.slug if parent else variation.id}/",
        "sku": variation.sku,
        "price": variation.price,
        "regular_price": variation.price,
        "sale_price": "",
        "status": "publish",
        "attributes": [{"id": 0, "name": attr.get("name", ""), "option": attr.get("option", "")} for attr in variation.attributes],
        "meta_data": _meta(variation.meta, with_display=False),
        "_links": _links(root, f"products/{variation.parent_id}/variations/{variation.id}", f"products/{variation.parent_id}/variations")
        | {"up": [{"href": f"{root}{API_ROOT}/products/{variation.parent_id}"}]},
    }
    body.update(variation_view(state, variation))
    return body


def webhook_json(state: WooState, hook: Webhook, root: str) -> dict[str, Any]:
    """Never includes the secret: WooCommerce treats it as write-only."""
    return {
        "id": hook.id,
        "name": hook.name,
        "status": hook.status,
        "topic": hook.topic,
        "resource": hook.resource,
        "event": hook.event,
        "hooks": [f"woocommerce_{hook.event}_{hook.resource}"] if hook.resource in {"order", "product"} else [],
        "delivery_url": hook.delivery_url,
        "date_created": state.local(hook.date_created_gmt),
        "date_created_gmt": hook.date_created_gmt,
        "date_modified": state.local(hook.date_modified_gmt),
        "date_modified_gmt": hook.date_modified_gmt,
        "_links": _links(root, f"webhooks/{hook.id}", "webhooks"),
    }


def resource_payload(state: WooState, resource: str, resource_id: int, root: str) -> dict[str, Any]:
    """What a webhook delivers, built when it is delivered; a vanished resource is just `{"id": N}`."""
    with state.lock:
        if resource == "order" and resource_id in state.orders:
            return order_json(state, state.orders[resource_id], root)
        if resource == "product" and resource_id in state.products:
            return product_json(state, state.products[resource_id], root)
        if resource == "product" and resource_id in state.variations:
            return variation_json(state, state.variations[resource_id], root)
    return {"id": resource_id}


def _links(root: str, own: str, collection: str) -> dict[str, list[dict[str, str]]]:
    return {
        "self": [{"href": f"{root}{API_ROOT}/{own}"}],
        "collection": [{"href": f"{root}{API_ROOT}/{collection}"}],
    }
