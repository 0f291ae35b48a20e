"""Turns Shopify Admin GraphQL nodes into the platform-neutral records of connector.platforms.base."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from connector.errors import InputError
from connector.platforms.base import RemoteLine, RemoteOrder, StockRecord
from connector.platforms.payloads import clean_sku

SOURCE = "Shopify order"
# What Shopify shows in place of a name the app may not read (protected customer data).
REDACTED = "•••"


def numeric_id(gid: str) -> str:
    """`gid://shopify/Order/123` -> `123`, the id webhooks (REST shape) carry; plain ids pass through."""
    tail = gid.rsplit("/", 1)[-1]
    return tail.split("?", 1)[0]


def gid(kind: str, platform_id: str) -> str:
    """`("Order", "123")` -> `gid://shopify/Order/123`; a gid passes through unchanged."""
    return platform_id if platform_id.startswith("gid://") else f"gid://shopify/{kind}/{platform_id}"


def parse_time(value: Any, source: str, what: str) -> datetime:
    """An ISO-8601 timestamp from Shopify as an aware UTC datetime."""
    if not isinstance(value, str):
        raise InputError(source, f"{what} is missing")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(source, f"{what} {value!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def line_from_node(node: dict[str, Any]) -> RemoteLine:
    variant = node.get("variant")
    # without a variant the SKU cannot be tied to stock: such lines are kept but never backordered
    sku = clean_sku(node.get("sku")) if isinstance(variant, dict) else None
    quantity = int(node.get("currentQuantity", node.get("quantity", 0)) or 0)
    unfulfilled = int(node.get("unfulfilledQuantity", 0) or 0)
    return RemoteLine(
        platform_id=numeric_id(str(node["id"])),
        sku=sku,
        quantity=max(0, quantity),
        open_quantity=max(0, min(unfulfilled, quantity)),
        requires_shipping=bool(node.get("requiresShipping", True)),
        variant_id=numeric_id(str(variant["id"])) if isinstance(variant, dict) and variant.get("id") else None,
        title=str(node.get("title") or ""),
    )


def _name_part(value: Any) -> str | None:
    """A customer name field, or None when it is missing or redacted ("•••")."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return None if not text or text == REDACTED or set(text) <= {"•", "*"} else text


def order_from_node(node: dict[str, Any], line_nodes: Iterable[dict[str, Any]], *,
                    contact_withheld: bool = False) -> RemoteOrder:
    """One GraphQL Order (with every one of its line items already gathered) as a RemoteOrder.

    `contact_withheld`: Shopify denied this app the customer's contact details (protected customer data);
    the order is kept, marked so its notices are skipped.
    """
    if not isinstance(node.get("id"), str):
        raise InputError(SOURCE, "order without an id")
    source = f"{SOURCE} {node.get('name') or node['id']}"
    cancelled = node.get("cancelledAt") is not None
    customer: dict[str, Any] = node["customer"] if isinstance(node.get("customer"), dict) else {}
    first, last = _name_part(customer.get("firstName")), _name_part(customer.get("lastName"))
    full_name = " ".join(part for part in (first, last) if part) or _name_part(customer.get("displayName"))
    # the same words as payloads.order_from_payload gives webhook orders, so both read alike
    state = "cancelled" if cancelled else ("closed" if node.get("closed") else "open")
    financial = str(node.get("displayFinancialStatus") or "").lower()
    status = f"{state}, {financial}" if financial else state
    return RemoteOrder(
        platform_id=numeric_id(node["id"]),
        name=str(node.get("name") or numeric_id(node["id"])),
        created_at=parse_time(node.get("createdAt"), source, "createdAt"),
        updated_at=parse_time(node.get("updatedAt"), source, "updatedAt"),
        is_open=not cancelled,
        status=status,
        lines=tuple(line_from_node(line) for line in line_nodes),
        customer_email=None if contact_withheld else (node.get("email") or None),
        customer_first_name=first,
        customer_name=full_name,
        locale=node.get("customerLocale") or None,
        customer_id=numeric_id(customer["id"]) if customer.get("id") else None,
        contact_withheld=contact_withheld,
    )


def stock_from_item(item: dict[str, Any], level_nodes: Iterable[dict[str, Any]]) -> Iterator[StockRecord]:
    """One inventory item's sellable units (available + committed) per location."""
    sku = clean_sku(item.get("sku"))
    if sku is None:
        return
    tracked = bool(item.get("tracked"))
    item_ref = numeric_id(str(item["id"]))
    variants = ((item.get("variants") or {}).get("nodes") or [])
    variant_ref = numeric_id(str(variants[0]["id"])) if variants and variants[0].get("id") else None
    seen = False
    for level in level_nodes:
        location = level.get("location") or {}
        if not location.get("id"):
            continue
        quantities = {q.get("name"): int(q.get("quantity") or 0) for q in level.get("quantities") or []}
        seen = True
        yield StockRecord(
            sku=sku,
            location_id=numeric_id(location["id"]),
            quantity=quantities.get("available", 0) + quantities.get("committed", 0) if tracked else 0,
            tracked=tracked,
            item_ref=item_ref,
            storefront_ref=variant_ref,
        )
    if not seen:
        # stocked at no location: still reported, so the SKU is known (with nothing on hand)
        yield StockRecord(sku=sku, location_id="default", quantity=0, tracked=tracked, item_ref=item_ref,
                          storefront_ref=variant_ref)
