"""The one interface every store platform implements, and the platform-neutral records it speaks.

Sync, reconcile and push-back code talks only to `Platform`; it never asks which platform it has.
Differences that matter to them are expressed as `Capabilities`, not as platform names.
API clients behind this interface never touch the database: what they need (credentials, the
API address) arrives as a `ShopAccess`, and what they learn that must be stored (a refreshed token)
leaves through a callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol, runtime_checkable

PlatformName = Literal["shopify", "woocommerce"]
HoldReason = Literal["INVENTORY_OUT_OF_STOCK", "UNKNOWN_DELIVERY_DATE"]

BACKORDER_TAG = "backordered"
HOLD_HANDLE = "backorder-connector"


@dataclass(frozen=True, slots=True)
class RemoteLine:
    """One order line as the store reports it."""

    platform_id: str
    sku: str | None
    quantity: int  # units ordered (after removals/refunds where the platform reports them)
    open_quantity: int  # units still to be fulfilled
    requires_shipping: bool = True
    variant_id: str | None = None
    title: str = ""
    # WooCommerce only: the store already took these units off stock_quantity (`_reduced_stock`).
    stock_reduced: int = 0


@dataclass(frozen=True, slots=True)
class RemoteOrder:
    """One order as the store reports it; times are timezone-aware UTC."""

    platform_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    is_open: bool  # not cancelled, not closed/completed, paid where the platform says so
    status: str  # the platform's own status words, for display only
    lines: tuple[RemoteLine, ...]
    customer_email: str | None = None
    customer_first_name: str | None = None
    customer_name: str | None = None
    locale: str | None = None
    customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class StockRecord:
    """Sellable physical units of one SKU at one location ("default" where there is one pool)."""

    sku: str
    location_id: str
    quantity: int
    tracked: bool = True
    item_ref: str | None = None  # the platform's inventory item / product id, for webhook lookups


@dataclass(frozen=True, slots=True)
class LineMark:
    line_id: str
    sku: str
    backordered: int
    eta: date | None


@dataclass(frozen=True, slots=True)
class OrderMarks:
    """What the connector writes on an order so the merchant sees the decision where they work."""

    status: Literal["backordered", "ok"]
    eta: date | None
    lines: tuple[LineMark, ...] = ()


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """Hold these backordered lines from fulfilment until stock arrives."""

    line_ids: tuple[str, ...]
    reason: HoldReason
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Capabilities:
    tags: bool  # orders carry free-form tags
    holds: bool  # fulfilment of individual lines can be held
    customer_notes: bool  # the platform itself emails the customer a note we write
    marks_batch_size: int = 1  # orders whose marks one request can write


@dataclass(frozen=True, slots=True)
class ShopProfile:
    """What a store says about itself. Reading it is one cheap call that proves the credentials work."""

    name: str  # the store's display name, as its customers know it


@dataclass(frozen=True, slots=True)
class ShopAccess:
    """Everything a client needs to reach one shop; built from the decrypted shop record."""

    platform: PlatformName
    domain: str  # Shopify: name.myshopify.com; WooCommerce: the store URL
    api_url: str | None = None  # explicit API base (sandbox, proxy, test server)
    access_token: str | None = field(default=None, repr=False)  # Shopify
    refresh_token: str | None = field(default=None, repr=False)  # Shopify expiring offline tokens
    token_expires_at: datetime | None = None
    consumer_key: str | None = field(default=None, repr=False)  # WooCommerce
    consumer_secret: str | None = field(default=None, repr=False)
    query_string_auth: bool = False  # WooCommerce hosts that strip Authorization
    api_version: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WebhookInfo:
    """One webhook subscription after `ensure_webhooks`; `secret` is set only when this call created
    it with a secret of its own, which the caller must store (the store never shows it again)."""

    id: str
    topic: str
    action: Literal["created", "reenabled", "unchanged"]
    secret: str | None = field(default=None, repr=False)


TokenSaver = Callable[[str, str | None, datetime | None], None]
"""Called with (access_token, refresh_token, expires_at) whenever a client refreshes its token."""


@runtime_checkable
class Platform(Protocol):
    """One store, reached through its API. Every write is idempotent: it reads before it writes
    and returns False when the store already showed what was asked."""

    name: PlatformName
    capabilities: Capabilities

    def shop_profile(self) -> ShopProfile:
        """The store's own name, in one read; raises AuthError (with the store's reason) for refused
        credentials. `connector shops add` verifies with it, and a first or full sync refreshes the name."""

    def iter_orders(self, updated_since: datetime | None) -> Iterator[RemoteOrder]:
        """Orders updated at or after `updated_since` (all when None), oldest update first."""

    def iter_all_orders(self) -> Iterator[RemoteOrder]:
        """Every order, for a first or full sync; through the store's bulk export where it has one."""

    def get_order(self, order_id: str) -> RemoteOrder | None:
        """One order, or None when the store no longer has it."""

    def iter_stock(self) -> Iterator[StockRecord]:
        """Every tracked and untracked SKU's stock, per location."""

    def add_tag(self, order_id: str, tag: str) -> bool: ...

    def remove_tag(self, order_id: str, tag: str) -> bool: ...

    def write_marks(self, items: Iterable[tuple[str, OrderMarks]]) -> dict[str, bool]:
        """Write status/ETA/lines markers on many orders (batched where the store allows);
        returns order id -> whether anything changed."""

    def write_note(self, order_id: str, text: str) -> bool:
        """Show `text` to the merchant on the order, keeping the merchant's own notes."""

    def hold(self, order_id: str, request: HoldRequest) -> bool: ...

    def release(self, order_id: str) -> bool:
        """Release only the holds this connector placed (never anyone else's)."""

    def send_customer_note(self, order_id: str, text: str, ref: str) -> bool:
        """Have the store email `text` to the customer; `ref` identifies the notice so a
        repeated call does not send it twice. Only where capabilities.customer_notes."""

    def ensure_webhooks(self, address: str, topics: Iterable[str]) -> list[WebhookInfo]:
        """Subscribe (or re-enable) the webhooks the connector needs."""

    def close(self) -> None: ...
