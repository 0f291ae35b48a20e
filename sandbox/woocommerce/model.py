"""Records the WooCommerce sandbox keeps in memory: keys, products, variations, orders, notes, emails, webhooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Permission = Literal["read", "write", "read_write"]
ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "checkout-draft")
STATUS_LABELS = {
    "pending": "Pending payment",
    "processing": "Processing",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "failed": "Failed",
    "checkout-draft": "Draft",
    "trash": "Trash",
}
# Statuses on entering which WooCommerce reduces stock, and those on entering which it gives it back.
STOCK_REDUCING_STATUSES = frozenset({"processing", "on-hold", "completed"})
STOCK_RESTORING_STATUSES = frozenset({"cancelled", "pending"})
BACKORDER_SETTINGS = ("no", "notify", "yes")
WEBHOOK_STATUSES = ("active", "paused", "disabled")
WEBHOOK_RESOURCES = ("order", "product", "customer", "coupon")
WEBHOOK_EVENTS = ("created", "updated", "deleted", "restored")
BACKORDERED_META_KEY = "Backordered"  # English value of __('Backordered', 'woocommerce')
REDUCED_STOCK_META_KEY = "_reduced_stock"
GMT_FORMAT = "%Y-%m-%dT%H:%M:%S"


def gmt_string(epoch: float) -> str:
    """A naive ISO timestamp in GMT, the shape of WooCommerce's `*_gmt` fields."""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime(GMT_FORMAT)


def parse_naive(text: str) -> datetime:
    return datetime.strptime(text, GMT_FORMAT)


def shift_hours(text: str, hours: float) -> str:
    """Site-local time from a GMT string (or back, with a negative offset)."""
    return (parse_naive(text) + timedelta(hours=hours)).strftime(GMT_FORMAT)


@dataclass(slots=True)
class ApiKey:
    key_id: int
    user_id: int
    consumer_key: str
    consumer_secret: str = field(repr=False)
    permissions: Permission
    description: str = ""
    # nonce -> timestamp, kept for the 15-minute window.
    used_nonces: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def truncated_key(self) -> str:
        return self.consumer_key[-7:]


@dataclass(slots=True)
class MetaEntry:
    id: int
    key: str
    value: Any


@dataclass(slots=True)
class Product:
    id: int
    name: str
    type: Literal["simple", "variable"]
    sku: str
    price: str
    manage_stock: bool
    stock_quantity: int | None
    backorders: str
    stock_status: str
    date_created_gmt: str
    date_modified_gmt: str
    variation_ids: list[int] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)
    meta: list[MetaEntry] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return "-".join("".join(ch if ch.isalnum() else " " for ch in self.name.lower()).split())


@dataclass(slots=True)
class Variation:
    id: int
    parent_id: int
    sku: str
    price: str
    attributes: list[dict[str, str]]
    # Own setting only; when False and the parent manages stock, the REST view says "parent".
    manage_stock: bool
    stock_quantity: int | None
    backorders: str
    stock_status: str
    date_created_gmt: str
    date_modified_gmt: str
    meta: list[MetaEntry] = field(default_factory=list)


@dataclass(slots=True)
class LineItem:
    id: int
    name: str
    product_id: int
    variation_id: int
    quantity: int
    sku: str
    price: float
    meta: list[MetaEntry] = field(default_factory=list)

    def meta_value(self, key: str) -> Any:
        return next((entry.value for entry in self.meta if entry.key == key), None)


@dataclass(slots=True)
class Order:
    id: int
    number: str
    status: str
    date_created_gmt: str
    date_modified_gmt: str
    customer_id: int
    billing: dict[str, str]
    line_items: list[LineItem]
    meta: list[MetaEntry] = field(default_factory=list)
    currency: str = "USD"
    customer_note: str = ""
    date_paid_gmt: str | None = None
    date_completed_gmt: str | None = None
    shipping_total: float = 0.0
    payment_method: str = "bacs"
    refunds: list[Refund] = field(default_factory=list)


NO_AUTOMATIC_REFUNDS = frozenset({"bacs", "cheque", "cod"})
TAX_RATE_ID = 1
SHIPPING_LINE_OFFSET = 900_000  # the shipping line's item id: order id + this (WooCommerce items share one id space)


@dataclass(slots=True)
class RefundLine:
    item_id: int  # a line item's id, or the shipping line's
    quantity: int
    total: float
    tax: float


@dataclass(slots=True)
class Refund:
    id: int
    order_id: int
    amount: float
    reason: str
    refunded_payment: bool
    date_created_gmt: str
    lines: list[RefundLine] = field(default_factory=list)


@dataclass(slots=True)
class OrderNote:
    id: int
    order_id: int
    note: str
    customer_note: bool
    added_by_user: bool
    author: str
    date_created_gmt: str


@dataclass(slots=True)
class SentEmail:
    """An email the store would have sent (recorded, never sent)."""

    id: int
    kind: str
    to: str
    subject: str
    body: str
    order_id: int
    note_id: int
    sent_at_gmt: str


@dataclass(slots=True)
class Webhook:
    id: int
    name: str
    topic: str
    delivery_url: str
    secret: str = field(repr=False)
    status: str = "active"
    user_id: int = 1
    failure_count: int = 0
    date_created_gmt: str = ""
    date_modified_gmt: str = ""
    last_ping_status: int | None = None  # HTTP status of the creation ping, None if it never answered

    @property
    def resource(self) -> str:
        return self.topic.split(".", 1)[0]

    @property
    def event(self) -> str:
        return self.topic.split(".", 1)[1] if "." in self.topic else ""


@dataclass(slots=True)
class DeliveryRecord:
    """One webhook send attempt, kept for tests and the demo (kind: ping | delivery | dropped)."""

    webhook_id: int
    kind: str
    topic: str
    resource_id: int | None
    delivery_id: str | None
    status_code: int | None
    error: str | None
    at_gmt: str


@dataclass(slots=True, frozen=True)
class ChangeEvent:
    """Something a webhook topic may care about; resource is "order" or "product"."""

    resource: str
    event: str
    resource_id: int
