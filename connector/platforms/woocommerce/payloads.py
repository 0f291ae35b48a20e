"""WooCommerce REST v3 order JSON -> RemoteOrder, validated with pydantic (TypedDict schemas, see Shopify's)."""

from __future__ import annotations

import html
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

OPEN_STATUSES = frozenset({"processing", "on-hold"})
# Statuses whose lines will never ship: nothing is left to fulfil.
FINISHED_STATUSES = frozenset({"completed", "cancelled", "refunded", "failed", "trash"})
REDUCED_STOCK_KEY = "_reduced_stock"


class WooMeta(TypedDict):
    key: str
    value: NotRequired[Any]


@with_config(IDS_AS_TEXT)
class WooBilling(TypedDict):
    first_name: NotRequired[str | None]
    last_name: NotRequired[str | None]
    email: NotRequired[str | None]


@with_config(IDS_AS_TEXT)
class WooPlanningLine(TypedDict):
    """The line fields planning needs."""

    id: str
    sku: NotRequired[str | None]
    quantity: NonNegativeInt


@with_config(IDS_AS_TEXT)
class WooLineItem(WooPlanningLine):
    product_id: NotRequired[str | None]
    variation_id: NotRequired[str | None]
    name: NotRequired[str | None]
    meta_data: NotRequired[list[WooMeta]]
    price: NotRequired[str | float | None]  # the unit price after discounts


@with_config(IDS_AS_TEXT)
class WooPlanningOrder(TypedDict):
    """The order fields planning needs: what the offline planner validates, and nothing more."""

    id: str
    number: NotRequired[str | None]
    status: str
    date_created_gmt: datetime  # naive, in GMT
    line_items: NotRequired[list[WooPlanningLine]]


@with_config(IDS_AS_TEXT)
class WooOrder(WooPlanningOrder):
    date_modified_gmt: NotRequired[datetime | None]
    customer_id: NotRequired[str | None]
    billing: NotRequired[WooBilling | None]
    line_items: NotRequired[list[WooLineItem]]  # type: ignore[misc]  # the full line shape


ORDER_ADAPTER: TypeAdapter[WooOrder] = TypeAdapter(WooOrder)
ORDERS_ADAPTER: TypeAdapter[list[WooOrder]] = TypeAdapter(list[WooOrder])
PLANNING_ORDER_ADAPTER: TypeAdapter[WooPlanningOrder] = TypeAdapter(WooPlanningOrder)
PLANNING_ORDERS_ADAPTER: TypeAdapter[list[WooPlanningOrder]] = TypeAdapter(list[WooPlanningOrder])


def _reduced_stock(item: WooLineItem) -> int:
    for entry in item.get("meta_data", ()):
        if entry["key"] == REDUCED_STOCK_KEY:
            try:
                return int(str(entry.get("value")).strip())
            except ValueError:
                return 0  # a plugin wrote something odd; treat as "not reduced" rather than refuse the order
    return 0


def _nonzero(value: str | None) -> str | None:
    """WooCommerce writes 0 for "none" (no variation, guest customer)."""
    return value if value not in (None, "", "0") else None


def _open_quantity(item: WooPlanningLine, status: str) -> int:
    """WooCommerce tracks no per-line fulfilment: an unfinished order's whole quantity is open.
    Refunds live on separate refund objects; the adapter takes refunded units off the line first."""
    return 0 if status in FINISHED_STATUSES else item["quantity"]


def line_from_payload(item: WooLineItem, status: str) -> RemoteLine:
    """One line item as a platform-neutral record; `_reduced_stock` meta becomes `stock_reduced`."""
    return RemoteLine(
        platform_id=item["id"],
        sku=clean_sku(item.get("sku")),
        quantity=item["quantity"],
        open_quantity=_open_quantity(item, status),
        requires_shipping=True,
        variant_id=_nonzero(item.get("variation_id")) or _nonzero(item.get("product_id")),
        title=html.unescape(item.get("name") or ""),
        stock_reduced=_reduced_stock(item),
        unit_price=price_of(item.get("price")),
    )


def order_from_payload(payload: WooOrder) -> RemoteOrder:
    """The platform-neutral record; open means status `processing` or `on-hold`."""
    created = as_utc(payload["date_created_gmt"])
    modified = payload.get("date_modified_gmt")
    billing: WooBilling = payload.get("billing") or {}
    first = billing.get("first_name") or None
    full_name = " ".join(part for part in (first, billing.get("last_name")) if part) or None
    status = payload["status"]
    return RemoteOrder(
        platform_id=payload["id"],
        name=f"#{payload.get('number') or payload['id']}",
        created_at=created,
        updated_at=as_utc(modified) if modified is not None else created,
        is_open=status in OPEN_STATUSES,
        status=status,
        lines=tuple(line_from_payload(item, status) for item in payload.get("line_items", ())),
        customer_email=billing.get("email") or None,
        customer_first_name=first,
        customer_name=full_name,
        locale=None,
        customer_id=_nonzero(payload.get("customer_id")),
    )


def engine_order_from_payload(payload: WooPlanningOrder) -> Order:
    """Straight to the engine's record, skipping RemoteOrder: the offline planner's fast path."""
    status = payload["status"]
    lines = tuple(
        OrderLine(item["id"], clean_sku(item.get("sku")), item["quantity"], _open_quantity(item, status), True)
        for item in payload.get("line_items", ())
    )
    return Order(payload["id"], f"#{payload.get('number') or payload['id']}", as_utc(payload["date_created_gmt"]),
                 status in OPEN_STATUSES, lines)


def order_from_rest(data: dict[str, Any], source: str = "woocommerce order") -> RemoteOrder:
    """Validate one decoded WooCommerce REST v3 order (or webhook body); InputError names what is wrong."""
    try:
        payload = ORDER_ADAPTER.validate_python(data)
    except ValidationError as error:
        raise InputError(source, describe_validation_error(error)) from None
    return order_from_payload(payload)
