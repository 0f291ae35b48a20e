"""The Shopify sandbox's in-memory records and global-id helpers (gid://shopify/<Type>/<number>)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

GID_PATTERN = re.compile(r"^gid://shopify/(?P<type>[A-Za-z]+)/(?P<number>\d+)(?:\?.*)?$")
QUANTITY_NAMES = ("available", "committed", "on_hand", "incoming", "reserved", "damaged", "safety_stock", "quality_control")
# `on_hand` is the sum of every state except `incoming` (and itself); the sandbox keeps it that way.
ON_HAND_PARTS = ("available", "committed", "reserved", "damaged", "safety_stock", "quality_control")


APP_NAMESPACE = "app--1"  # what Shopify substitutes for an omitted namespace (app id 1 here)


def app_namespace(namespace: str | None) -> str:
    """The namespace Shopify stores: an omitted one is the app's own, `$app:x` is the app's `x`."""
    if not namespace:
        return APP_NAMESPACE
    if namespace.startswith("$app:"):
        return f"{APP_NAMESPACE}--{namespace[len('$app:'):]}"
    return namespace


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: str) -> tuple[str, int] | None:
    """(type, number) for a well-formed Shopify global id, else None."""
    match = GID_PATTERN.match(value or "")
    if match is None:
        return None
    return match.group("type"), int(match.group("number"))


def iso(moment: datetime | None) -> str | None:
    """GraphQL `DateTime` rendering: UTC, seconds precision, `Z` suffix, as Shopify answers."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rest_time(moment: datetime | None) -> str | None:
    """REST/webhook rendering: seconds precision with an explicit offset."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_time(text: str) -> datetime:
    """An ISO-8601 date or date-time; naive values are taken as UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(slots=True)
class Location:
    id: int
    name: str
    fulfillment_service: bool = False  # a fulfillment service's (3PL) location


@dataclass(slots=True)
class Metafield:
    id: int
    namespace: str
    key: str
    type: str
    value: str
    created_at: datetime
    updated_at: datetime

    @property
    def compare_digest(self) -> str:
        return hashlib.sha256(f"{self.type}\0{self.value}\0{self.updated_at.isoformat()}".encode()).hexdigest()


@dataclass(slots=True)
class Variant:
    id: int
    product_id: int
    product_title: str
    sku: str | None
    title: str
    inventory_item_id: int
    tracked: bool = True
    inventory_policy: str = "DENY"  # DENY | CONTINUE
    price: str = "10.00"
    metafields: list[Metafield] = field(default_factory=list)

    def metafield(self, namespace: str, key: str) -> Metafield | None:
        return next((m for m in self.metafields if m.namespace == namespace and m.key == key), None)


@dataclass(slots=True)
class Customer:
    id: int
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    locale: str = "en"


@dataclass(slots=True)
class LineItem:
    id: int
    sku: str | None
    quantity: int
    unfulfilled_quantity: int
    title: str
    requires_shipping: bool = True
    variant_id: int | None = None
    current_quantity: int | None = None  # None: same as quantity (nothing removed)
    unit_price: Decimal = Decimal("0.00")

    @property
    def current(self) -> int:
        return self.quantity if self.current_quantity is None else self.current_quantity


@dataclass(slots=True)
class Hold:
    id: int
    reason: str
    reason_notes: str | None
    handle: str
    app: str = ""  # the client id of the app that placed it: only it sees `heldByRequestingApp`


@dataclass(slots=True)
class FulfillmentOrderLine:
    id: int
    line_item_id: int
    total_quantity: int
    remaining_quantity: int


@dataclass(slots=True)
class FulfillmentOrder:
    id: int
    order_id: int
    location_id: int
    created_at: datetime
    updated_at: datetime
    lines: list[FulfillmentOrderLine] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    closed: bool = False
    in_progress: bool = False  # a fulfillment request was accepted (a 3PL is picking it): no longer holdable

    @property
    def status(self) -> str:
        if self.closed:
            return "CLOSED"
        if self.in_progress:
            return "IN_PROGRESS"
        return "ON_HOLD" if self.holds else "OPEN"


@dataclass(slots=True)
class MetafieldDefinition:
    """A metafield definition an app created; `storefront` is its storefront access (NONE | PUBLIC_READ)."""

    id: int
    owner_type: str
    namespace: str
    key: str
    type: str
    storefront: str = "NONE"


@dataclass(slots=True)
class RefundLine:
    line_item_id: int
    quantity: int
    restock_type: str  # CANCEL, RETURN, NO_RESTOCK
    subtotal: Decimal
    tax: Decimal


@dataclass(slots=True)
class Refund:
    id: int
    transaction_id: int
    created_at: datetime
    note: str | None
    amount: Decimal
    lines: list[RefundLine] = field(default_factory=list)
    shipping: Decimal = Decimal("0.00")  # shipping refunded, its tax included
    idempotency_key: str | None = None
    error_code: str | None = None  # the gateway declined it: its transaction failed with this code


@dataclass(slots=True)
class Order:
    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    lines: list[LineItem]
    customer: Customer | None = None
    email: str | None = None
    cancelled_at: datetime | None = None
    closed: bool = False
    financial_status: str = "PAID"
    note: str | None = None
    tags: list[str] = field(default_factory=list)
    metafields: list[Metafield] = field(default_factory=list)
    fulfillment_orders: list[FulfillmentOrder] = field(default_factory=list)
    shipping_price: Decimal = Decimal("0.00")
    tax_rate: Decimal = Decimal(0)  # a fraction: 0.08 is 8 %, on the items and on shipping
    gateway: str = "shopify_payments"
    currency: str = "USD"
    sale_id: int = 0  # the SALE transaction refunds point at
    refunds: list[Refund] = field(default_factory=list)
    cancel_note: str | None = None

    @property
    def fulfillment_status(self) -> str:
        ordered = sum(line.current for line in self.lines)
        open_units = sum(line.unfulfilled_quantity for line in self.lines)
        if ordered == 0 or open_units == ordered:
            return "ON_HOLD" if any(fo.holds for fo in self.fulfillment_orders) else "UNFULFILLED"
        return "FULFILLED" if open_units == 0 else "PARTIALLY_FULFILLED"

    @property
    def locale(self) -> str | None:
        return self.customer.locale if self.customer else None

    def metafield(self, namespace: str, key: str) -> Metafield | None:
        return next((m for m in self.metafields if m.namespace == namespace and m.key == key), None)


@dataclass(slots=True)
class WebhookSubscription:
    id: int
    topic: str  # GraphQL enum name, e.g. ORDERS_CREATE
    uri: str
    format: str
    api_version: str
    created_at: datetime


@dataclass(slots=True)
class BulkOperation:
    id: int
    query: str
    status: str
    created_at: datetime
    completed_at: datetime | None = None
    url: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    body: bytes = b""
    error_code: str | None = None
    app: str = ""
    polls_left: int = 0  # status reads before it finishes (the sandbox's clock for a long export)
    ends: str = "COMPLETED"  # how it finishes: COMPLETED, FAILED, CANCELED or EXPIRED
    partial_url: str | None = None
