"""The one interface every store platform implements, and the platform-neutral records it speaks.

Sync, reconcile and push-back code talks only to `Platform`; it never asks which platform it has.
Differences that matter to them are expressed as `Capabilities`, not as platform names.
API clients behind this interface never touch the database: what they need (credentials, the
API address) arrives as a `ShopAccess`, and what they learn that must be stored (a refreshed token)
leaves through a callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol, runtime_checkable

from connector.engine.types import Order as EngineOrder
from connector.engine.types import OrderLine as EngineLine

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
    unit_price: float | None = None  # in the shop's currency where the store reports it (for revenue waiting)


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
    # The store withheld the customer's contact details from this app (protected customer data): the
    # order is tracked and marked as usual, but the customer cannot be emailed.
    contact_withheld: bool = False

    def engine_order(self) -> EngineOrder:
        """The engine's view of this order (ids and times carried over unchanged)."""
        return EngineOrder(
            order_id=self.platform_id,
            name=self.name,
            created_at=self.created_at,
            is_open=self.is_open,
            lines=tuple(
                EngineLine(line.platform_id, line.sku, line.quantity, line.open_quantity, line.requires_shipping)
                for line in self.lines
            ),
        )


@dataclass(frozen=True, slots=True)
class StockRecord:
    """Sellable physical units of one SKU at one location ("default" where there is one pool)."""

    sku: str
    location_id: str
    quantity: int
    tracked: bool = True
    item_ref: str | None = None  # the platform's inventory item / product id, for webhook lookups
    # Where the storefront reads this SKU's availability ETA: Shopify the variant id; WooCommerce the
    # product id, or "<parent id>/<variation id>" for a variation with stock of its own.
    storefront_ref: str | None = None


@dataclass(frozen=True, slots=True)
class LineMark:
    line_id: str
    sku: str
    backordered: int
    eta: date | None
    eta_earliest: date | None = None  # the range told to the customer; None (or the ETA itself): no range
    eta_latest: date | None = None

    @property
    def ranged(self) -> bool:
        return has_range(self.eta, self.eta_earliest, self.eta_latest)


def has_range(eta: date | None, earliest: date | None, latest: date | None) -> bool:
    """A learned range wider than the ETA itself (written as `eta_earliest` / `eta_latest`)."""
    return eta is not None and earliest is not None and latest is not None and (earliest, latest) != (eta, eta)


def line_entry(line: LineMark) -> dict[str, Any]:
    """One line of the marks' `lines` JSON, as both platforms store it: its range only while it has one."""
    entry: dict[str, Any] = {"line_id": line.line_id, "sku": line.sku, "backordered": line.backordered,
                             "eta": line.eta.isoformat() if line.eta else None}
    if line.ranged and line.eta_earliest and line.eta_latest:
        entry["eta_earliest"], entry["eta_latest"] = line.eta_earliest.isoformat(), line.eta_latest.isoformat()
    return entry


@dataclass(frozen=True, slots=True)
class OrderMarks:
    """What the connector writes on an order so the merchant sees the decision where they work."""

    status: Literal["backordered", "ok"]
    eta: date | None
    lines: tuple[LineMark, ...] = ()
    eta_earliest: date | None = None
    eta_latest: date | None = None

    @property
    def ranged(self) -> bool:
        return has_range(self.eta, self.eta_earliest, self.eta_latest)


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """Hold these backordered lines from fulfilment until stock arrives."""

    line_ids: tuple[str, ...]
    reason: HoldReason
    notes: str = ""


@dataclass(frozen=True, slots=True)
class StorefrontEta:
    """What the storefront shows for one variant (`target`, a `StockRecord.storefront_ref`).

    `eta` None clears what was shown (back in stock, or no date known): the storefront then shows nothing.
    `earliest`/`latest` give a range when both are set; `text` is the shop's own sentence, if any.
    """

    target: str
    eta: date | None
    earliest: date | None = None
    latest: date | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class CancelLine:
    line_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """Cancel and refund these units of an order (all of it with `whole_order`: refund, restock, cancel).

    `marker` is the connector's unique reference for this cancel. It goes into the store's refund (its
    note or reason, and Shopify's idempotency key), so a re-read finds a refund already made."""

    lines: tuple[CancelLine, ...]
    whole_order: bool
    marker: str
    restock: bool = True
    note: str = ""
    # Markers of earlier attempts the merchant asked to retry: a refund carrying one that went through
    # after all counts as done; one the gateway declined is passed over.
    earlier_markers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What the store refunded: `amount` as the store states it (tax and, for a whole order, shipping
    included); `already_done` when the re-read found the connector's refund already there."""

    refund_id: str
    amount: str
    currency: str
    already_done: bool = False
    shipping: str = "0.00"


@dataclass(frozen=True, slots=True)
class ReadySplit:
    """Ship these in-stock units now; the backordered ones (`held`) stay behind, held with `reason`."""

    ready: tuple[CancelLine, ...]
    held: tuple[CancelLine, ...]
    reason: HoldReason = "INVENTORY_OUT_OF_STOCK"
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Capabilities:
    tags: bool  # orders carry free-form tags
    holds: bool  # fulfilment of individual lines can be held
    customer_notes: bool  # the platform itself emails the customer a note we write
    marks_batch_size: int = 1  # orders whose marks one request can write
    storefront_batch_size: int = 1  # variants whose storefront ETA one request can write
    # Orders whose store writes (tag, marks, note, hold, release) one `write_batch` call takes; 0: the
    # platform has no `write_batch` and each write is its own call.
    write_batch_size: int = 0


WriteKind = Literal["tag", "untag", "marks", "note", "hold", "release"]


@dataclass(frozen=True, slots=True)
class WriteRequest:
    """One store write of a batch; its outcome comes back under `key` (the caller's action id)."""

    key: int
    order_id: str
    kind: WriteKind
    marks: OrderMarks | None = None
    text: str = ""  # the note
    hold: HoldRequest | None = None


# Per request: True written, False nothing to change, or the exception that settles it alone
# (Skipped, NotFoundError, a UserError the store gave for it, a TransportError worth a retry).
WriteOutcome = bool | Exception


class BatchWriting(Protocol):
    """A platform whose `capabilities.write_batch_size` is set: many orders' writes in few requests."""

    def write_batch(self, requests: Sequence[WriteRequest]) -> dict[int, WriteOutcome]:
        """Read the current state of the requests' orders (after the caller claimed them), write what
        differs, and give each request its outcome. At most one request per order and kind family
        (tag/untag, hold/release). Raises when nothing of the batch can be known to be settled (the
        store throttled or refused the whole request): the caller then retries every request."""

    def prepare_customer_notes(self, items: Sequence[tuple[str, str]]) -> None:
        """Before `send_customer_note` is called for these (order id, notice reference) pairs: do
        their bookkeeping in bulk (a platform with none does nothing)."""


@dataclass(frozen=True, slots=True)
class ShopProfile:
    """What a store says about itself. Reading it is one cheap call that proves the credentials work."""

    name: str  # the store's display name, as its customers know it


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What a store's token endpoint answered (Shopify's expiring offline tokens); tokens stay out of reprs."""

    access_token: str = field(repr=False)
    scope: str
    expires_at: datetime | None = None
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_at: datetime | None = None


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
    # Shopify: the access scopes the connector needs (SHOPIFY_SCOPES), and those the store last said it
    # granted (None: not known yet, asked when it matters).
    required_scopes: tuple[str, ...] = ()
    granted_scopes: tuple[str, ...] | None = None
    extra: dict[str, str] = field(default_factory=dict)


WebhookAction = Literal["created", "reenabled", "unchanged", "removed", "paused", "disabled"]


@dataclass(frozen=True, slots=True)
class WebhookInfo:
    """One webhook subscription after `ensure_webhooks`; `secret` is set only when this call created
    it with a secret of its own, which the caller must store (the store never shows it again).

    `removed`: a stale or duplicate subscription this call deleted. `paused`: the merchant paused it and
    it is left so. `disabled`: the store disabled it after failed deliveries and it stays disabled (a test
    delivery to the intake did not get through); `note` says why.
    """

    id: str
    topic: str
    action: WebhookAction
    secret: str | None = field(default=None, repr=False)
    note: str | None = None


@dataclass(frozen=True, slots=True)
class AccessProblem:
    """Something the store does not let the connector do, and what is skipped because of it."""

    key: str  # a scope handle, or a name such as "protected_customer_data"
    title: str
    detail: str


@dataclass(frozen=True, slots=True)
class AccessReport:
    """What the store grants the connector, checked at install and on every sync rather than assumed.

    `readable_since`: orders created before it are invisible to the connector (Shopify's 60-day window
    without `read_all_orders`); None when every order is readable.
    """

    granted: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    problems: tuple[AccessProblem, ...] = ()
    readable_since: datetime | None = None

    def as_setting(self) -> dict[str, object]:
        """The JSON kept in the shop's settings (`access`), read by the dashboard and `shops list`."""
        return {"granted": list(self.granted), "missing": list(self.missing),
                "problems": [{"key": p.key, "title": p.title, "detail": p.detail} for p in self.problems],
                "readable_since": self.readable_since.isoformat() if self.readable_since else None}


StagedRow = tuple[str, str | None, str]
"""One line of a bulk export: (record id, parent id or None, the line's JSON text)."""


@dataclass(frozen=True, slots=True)
class PendingExport:
    operation_id: str
    finished: bool  # the store said it finished (a webhook), so its result can be read now


class ExportStore(Protocol):
    """Where a platform keeps a bulk export while it runs: which export is in flight (so a finish webhook
    or the next sync adopts it instead of starting another), and its result lines, staged so records and
    their children arriving in any order are joined without holding the file in memory.

    The pipeline hands one to the platform (database-backed, `connector.store.exports`): platform code
    never touches the database itself.
    """

    def pending(self) -> PendingExport | None:
        """The export last started or adopted and not yet read, if any."""

    def remember(self, operation_id: str) -> None:
        """This export is now in flight."""

    def finished(self, operation_id: str) -> bool:
        """Whether the store has said (by webhook) that the export finished."""

    def stage(self, operation_id: str, rows: Iterable[StagedRow]) -> int:
        """Store the result lines (in batches); returns how many. The export counts as read from now on."""

    def parents(self, operation_id: str, batch: int) -> Iterator[list[tuple[str, str]]]:
        """The staged lines without a parent, (record id, JSON), in arrival order, `batch` at a time."""

    def children(self, operation_id: str, parent_ids: Sequence[str]) -> dict[str, list[str]]:
        """The staged JSON lines of these parents' children, in arrival order."""

    def discard(self) -> None:
        """Drop every staged line (after the result is read, or left over from a run that died)."""


TokenSaver = Callable[[str, str | None, datetime | None], None]
"""Called with (access_token, refresh_token, expires_at) whenever a client refreshes its token."""


@runtime_checkable
class Platform(Protocol):
    """One store, reached through its API. Every write is idempotent: it reads before it writes
    and returns False when the store already showed what was asked."""

    @property
    def name(self) -> PlatformName:
        """Which platform (the adapters take it, and the capabilities, from their `PlatformKind`)."""

    @property
    def capabilities(self) -> Capabilities: ...

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
        """Every tracked and untracked SKU's stock, per location; raises `errors.Skipped` when the store
        does not let the connector read stock (the stored stock is then kept)."""

    def check_access(self) -> AccessReport:
        """What the store grants the connector now (scopes, protected data), and what that rules out."""

    def add_tag(self, order_id: str, tag: str) -> bool: ...

    def remove_tag(self, order_id: str, tag: str) -> bool: ...

    def write_marks(self, items: Iterable[tuple[str, OrderMarks]]) -> dict[str, bool]:
        """Write status/ETA/lines markers on many orders (batched where the store allows);
        returns order id -> whether anything changed."""

    def write_note(self, order_id: str, text: str) -> bool:
        """Show `text` to the merchant on the order, keeping the merchant's own notes."""

    def prepare_storefront(self) -> None:
        """Make the store ready to serve storefront ETAs (Shopify: the metafield definition with
        storefront read access); harmless to repeat."""

    def write_storefront_etas(self, items: Sequence[StorefrontEta]) -> dict[str, str | None]:
        """Write (or clear) the storefront ETA of each variant, `capabilities.storefront_batch_size` per
        request; returns target -> None when written, or the store's reason when it refused that one.
        A whole request the store refuses raises, like every other write."""

    def hold(self, order_id: str, request: HoldRequest) -> bool: ...

    def release(self, order_id: str) -> bool:
        """Release only the holds this connector placed (never anyone else's)."""

    def send_customer_note(self, order_id: str, text: str, ref: str) -> bool:
        """Have the store email `text` to the customer; `ref` identifies the notice so a
        repeated call does not send it twice. Only where capabilities.customer_notes."""

    def cancel_units(self, order_id: str, request: CancelRequest) -> CancelOutcome:
        """Re-read the order, then refund and cancel the units asked (the whole order with its shipping
        when `whole_order`); a refund carrying `request.marker` already there is returned as done.
        A refund the payment gateway refuses raises `errors.RefundRefused` with the gateway's message."""

    def ship_ready(self, order_id: str, split: ReadySplit) -> bool:
        """Let the in-stock units ship now while the backordered ones wait (see `ReadySplit`)."""

    def ensure_webhooks(self, address: str, topics: Iterable[str], *,
                        secrets: Mapping[str, str] | None = None) -> list[WebhookInfo]:
        """Subscribe the webhooks the connector needs, and only those: stale or duplicate ones are removed,
        one the merchant paused is left paused, one the store disabled after failed deliveries is turned
        back on only after a test delivery (signed with `secrets[webhook id]`, else `secrets["*"]`) reached
        `address`."""

    def close(self) -> None: ...
