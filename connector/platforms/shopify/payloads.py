"""Shopify order JSON (REST shape, as sent in `orders/*` webhooks) -> RemoteOrder, validated with pydantic.

The schemas are TypedDicts checked by pydantic: validating a 100,000-order file straight from bytes
into dicts runs in pydantic's Rust core and is faster than `json.load`, where BaseModel instances
would cost several times more. Fields the connector does not use are skipped, not kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import (
    NonNegativeInt,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import NotRequired, TypedDict

from connector.engine.types import Order, OrderLine
from connector.errors import InputError
from connector.platforms.base import RemoteLine, RemoteOrder
from connector.platforms.payloads import (
    IDS_AS_TEXT,
    as_utc,
    clean_sku,
    describe_validation_error,
    price_of,
)


@with_config(IDS_AS_TEXT)
class ShopifyCustomer(TypedDict):
    id: NotRequired[str | None]
    first_name: NotRequired[str | None]
    last_name: NotRequired[str | None]
    email: NotRequired[str | None]
    locale: NotRequired[str | None]


@with_config(IDS_AS_TEXT)
class ShopifyPlanningLine(TypedDict):
    """The line fields planning needs."""

    id: str
    sku: NotRequired[str | None]
    quantity: NonNegativeInt
    fulfillable_quantity: NotRequired[NonNegativeInt | None]
    requires_shipping: NotRequired[bool | None]
    variant_id: NotRequired[str | None]  # present and null: a custom line, never backordered


@with_config(IDS_AS_TEXT)
class ShopifyLineItem(ShopifyPlanningLine):
    current_quantity: NotRequired[NonNegativeInt | None]  # quantity after removals (newer API versions)
    title: NotRequired[str | None]
    price: NotRequired[str | float | None]  # the unit price, as text in the shop's currency


@with_config(IDS_AS_TEXT)
class ShopifyPlanningOrder(TypedDict):
    """The order fields planning needs: what the offline planner validates, and nothing more."""

    id: str
    name: NotRequired[str | None]
    created_at: datetime
    cancelled_at: NotRequired[datetime | None]
    line_items: NotRequired[list[ShopifyPlanningLine]]


@with_config(IDS_AS_TEXT)
class ShopifyOrder(ShopifyPlanningOrder):
    order_number: NotRequired[str | None]
    updated_at: NotRequired[datetime | None]
    closed_at: NotRequired[datetime | None]
    financial_status: NotRequired[str | None]
    email: NotRequired[str | None]
    customer: NotRequired[ShopifyCustomer | None]
    customer_locale: NotRequired[str | None]
    line_items: NotRequired[list[ShopifyLineItem]]  # type: ignore[misc]  # the full line shape


ORDER_ADAPTER: TypeAdapter[ShopifyOrder] = TypeAdapter(ShopifyOrder)
ORDERS_ADAPTER: TypeAdapter[list[ShopifyOrder]] = TypeAdapter(list[ShopifyOrder])
PLANNING_ORDER_ADAPTER: TypeAdapter[ShopifyPlanningOrder] = TypeAdapter(ShopifyPlanningOrder)
PLANNING_ORDERS_ADAPTER: TypeAdapter[list[ShopifyPlanningOrder]] = TypeAdapter(list[ShopifyPlanningOrder])








def _quantities(item: ShopifyLineItem) -> tuple[int, int]:
    """(ordered, open): open is `fulfillable_quantity`, or all of it when Shopify omits that."""
    current = item.get("current_quantity")
    quantity = current if current is not None else item["quantity"]
    fulfillable = item.get("fulfillable_quantity")
    return quantity, (fulfillable if fulfillable is not None else quantity)


def line_from_payload(item: ShopifyLineItem) -> RemoteLine:
    """One line item as a platform-neutral record."""
    quantity, open_quantity = _quantities(item)
    # A line whose variant is null (a custom item, or its product was deleted) draws on no inventory
    # item, so it is never backordered: its SKU text is kept out, as the GraphQL sync does.
    variant_missing = "variant_id" in item and item["variant_id"] is None
    return RemoteLine(
        platform_id=item["id"],
        sku=None if variant_missing else clean_sku(item.get("sku")),
        quantity=quantity,
        open_quantity=open_quantity,
        requires_shipping=item.get("requires_shipping") is not False,
        variant_id=item.get("variant_id"),
        title=item.get("title") or "",
        unit_price=price_of(item.get("price")),
    )


def _order_name(name: str | None, number: str | None, order_id: str) -> str:
    return name or f"#{number or order_id}"


def order_from_payload(payload: ShopifyOrder) -> RemoteOrder:
    """The platform-neutral record; an order is open until it is cancelled."""
    created = as_utc(payload["created_at"])
    updated = payload.get("updated_at")
    cancelled = payload.get("cancelled_at") is not None
    state = "cancelled" if cancelled else ("closed" if payload.get("closed_at") is not None else "open")
    financial = payload.get("financial_status")
    customer: ShopifyCustomer = payload.get("customer") or {}
    first = customer.get("first_name") or None
    full_name = " ".join(part for part in (first, customer.get("last_name")) if part) or None
    return RemoteOrder(
        platform_id=payload["id"],
        name=_order_name(payload.get("name"), payload.get("order_number"), payload["id"]),
        created_at=created,
        updated_at=as_utc(updated) if updated is not None else created,
        is_open=not cancelled,
        status=f"{state}, {financial}" if financial else state,
        lines=tuple(line_from_payload(item) for item in payload.get("line_items", ())),
        customer_email=payload.get("email") or customer.get("email") or None,
        customer_first_name=first,
        customer_name=full_name,
        locale=payload.get("customer_locale") or customer.get("locale") or None,
        customer_id=customer.get("id"),
    )


def engine_order_from_payload(payload: ShopifyPlanningOrder) -> Order:
    """Straight to the engine's record, skipping RemoteOrder: the offline planner's fast path.
    Reads the planning fields the way `order_from_payload` does (inlined: it runs per line of a
    whole store's backlog). Without `fulfillable_quantity` the whole `quantity` is open."""
    lines = []
    for item in payload.get("line_items", ()):
        quantity = item["quantity"]
        open_quantity = item.get("fulfillable_quantity")
        sku = item.get("sku")
        if "variant_id" in item and item["variant_id"] is None:
            sku = None  # as in line_from_payload: no variant, no inventory, never backordered
        lines.append(OrderLine(
            item["id"],
            (sku.strip() or None) if sku else None,
            quantity,
            quantity if open_quantity is None else open_quantity,
            item.get("requires_shipping") is not False,
        ))
    return Order(payload["id"], _order_name(payload.get("name"), None, payload["id"]), payload["created_at"],
                 payload.get("cancelled_at") is None, tuple(lines))


def order_from_webhook(data: dict[str, Any], source: str = "shopify order") -> RemoteOrder:
    """Validate one decoded Shopify order (webhook body or REST `order`); InputError names what is wrong."""
    try:
        payload = ORDER_ADAPTER.validate_python(data)
    except ValidationError as error:
        raise InputError(source, describe_validation_error(error)) from None
    return order_from_payload(payload)


def bulk_finish_from_webhook(data: dict[str, Any], source: str = "bulk_operations/finish") -> tuple[str, str, str | None]:
    """(operation gid, status as the GraphQL enum spells it, error code) from a `bulk_operations/finish` body."""
    operation = data.get("admin_graphql_api_id")
    status = data.get("status")
    if not isinstance(operation, str) or not operation.startswith("gid://shopify/BulkOperation/"):
        raise InputError(source, "the body names no bulk operation (admin_graphql_api_id)")
    if not isinstance(status, str) or not status:
        raise InputError(source, "the body has no status")
    error_code = data.get("error_code")
    return operation, status.upper(), str(error_code).upper() if error_code else None
