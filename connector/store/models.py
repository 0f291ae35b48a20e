"""SQLAlchemy models: shops, synced orders and stock, supplier feeds, decisions, inbox, outbox and schedule.

Every external id has a unique key, so repeated syncs and deliveries are idempotent through the
database itself (upserts and insert-or-ignore), never through check-then-insert.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    or_,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Ids are INTEGER columns: PostgreSQL's is 32-bit signed, the smaller of the two databases. A larger
# number cannot name a row and would overflow the driver, so request paths are bounded by it.
MAX_ID = 2**31 - 1

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def naive_utc(value: datetime) -> datetime:
    """`value` as the naive UTC a UTC column stores; a naive `value` is refused (its zone would be a guess)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC and hands back aware UTC, the same on SQLite (no zones) and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else naive_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# Marks a column holding SecretBox-sealed text: `connector db rotate-key` re-seals every column so marked.
SEALED: dict[str, Any] = {"sealed": True}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    __table__: ClassVar[Table]  # every model here maps one plain table (SQLAlchemy types it as any FromClause)


class Shop(Base):
    __tablename__ = "shops"
    __table_args__ = (UniqueConstraint("platform", "domain", name="uq_shops_platform_domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    domain: Mapped[str] = mapped_column(String(255))  # name.myshopify.com or the WooCommerce store URL
    name: Mapped[str] = mapped_column(String(255), default="")
    api_url: Mapped[str | None] = mapped_column(String(500))
    credentials: Mapped[str | None] = mapped_column(Text, info=SEALED)  # SecretBox-sealed JSON
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Paused by the operator (`connector shops disable`): no sync, reconcile or store writes until enabled.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Health of the polling sync, in the operator's words (shown in the dashboard banner).
    sync_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the last good sync
    sync_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # set while the last sync failed
    sync_error: Mapped[str | None] = mapped_column(Text)
    sync_hint: Mapped[str | None] = mapped_column(Text)

    @property
    def label(self) -> str:
        """How people see the shop: its display name, else its domain."""
        return self.name or self.domain

    def setting(self, key: str, default: Any) -> Any:
        return (self.settings or {}).get(key, default)

    def set_setting(self, key: str, value: Any) -> None:
        """Change one key of the JSON settings (None removes it); reassigned so SQLAlchemy sees it."""
        settings = dict(self.settings or {})
        if value is None:
            settings.pop(key, None)
        else:
            settings[key] = value
        self.settings = settings


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "platform_id", name="uq_orders_shop_platform_id"),
        Index("ix_orders_shop_open", "shop_id", "is_open"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    platform_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())  # as the store reported it
    is_open: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(40), default="")
    customer_id: Mapped[str | None] = mapped_column(String(64))
    customer_email: Mapped[str | None] = mapped_column(String(320))
    customer_first_name: Mapped[str | None] = mapped_column(String(200))
    customer_name: Mapped[str | None] = mapped_column(String(400))
    locale: Mapped[str | None] = mapped_column(String(20))
    # The store withholds the customer's contact details from this app (Shopify's protected customer data):
    # the order is still tracked and marked, but its customer notices are recorded as skipped.
    contact_withheld: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When the store stopped showing the order to this app (Shopify's 60-day window without read_all_orders);
    # kept, never deleted, and cleared when the store shows it again.
    out_of_reach_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "platform_id", name="uq_order_lines_order_platform_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    platform_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str | None] = mapped_column(String(255), index=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    open_quantity: Mapped[int] = mapped_column(Integer)
    requires_shipping: Mapped[bool] = mapped_column(Boolean, default=True)
    variant_id: Mapped[str | None] = mapped_column(String(64))
    stock_reduced: Mapped[int] = mapped_column(Integer, default=0)
    unit_price: Mapped[float | None] = mapped_column(Float)  # in the shop's currency, for "revenue waiting"

    order: Mapped[Order] = relationship(back_populates="lines")


class InventoryLevel(Base):
    __tablename__ = "inventory_levels"
    __table_args__ = (UniqueConstraint("shop_id", "sku", "location_id", name="uq_inventory_levels_shop_sku_location"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(255))
    location_id: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    tracked: Mapped[bool] = mapped_column(Boolean, default=True)
    item_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    # Where the storefront reads this SKU's ETA (see StockRecord.storefront_ref); None: nowhere known.
    storefront_ref: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StorefrontEta(Base):
    """A SKU's availability ETA as the storefront should show it, and what was last pushed there.

    The row is its own outbox entry: `status` "pending" means `value` still has to reach the store
    (None clears what was written), and only rows whose `fingerprint` moved away from
    `pushed_fingerprint` ever become pending, so a push writes only what changed.
    """

    __tablename__ = "storefront_etas"
    __table_args__ = (
        UniqueConstraint("shop_id", "sku", name="uq_storefront_etas_shop_sku"),
        Index("ix_storefront_etas_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(255))
    target: Mapped[str | None] = mapped_column(String(100))  # the variant / product the value is written on
    available_now: Mapped[int] = mapped_column(Integer, default=0)
    eta: Mapped[date | None] = mapped_column(Date)
    eta_source: Mapped[str | None] = mapped_column(String(300))
    value: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # what the storefront is to show; None: nothing
    fingerprint: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    pushed_fingerprint: Mapped[str | None] = mapped_column(String(64))
    pushed_value: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="done")  # pending | done | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)


class Supplier(Base):
    __tablename__ = "suppliers"
    __table_args__ = (UniqueConstraint("scope", "name", name="uq_suppliers_scope_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))  # "all" or "shop:<id>"
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(1000))  # a path, or a URL without credentials
    # The feed URL's credentials (user name and password, secret headers and query values), SecretBox-sealed:
    # connector.feeds.credentials.
    credentials: Mapped[str | None] = mapped_column(Text, info=SEALED)
    column_map: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    unit_count: Mapped[int] = mapped_column(Integer, default=0)  # available + restock_qty over the rows in force
    rejected: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # the first rejected rows
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)
    # The last import that was refused (newer than imported_at while it is the latest word), and why.
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refused_reason: Mapped[str | None] = mapped_column(Text)

    items: Mapped[list[SupplyItem]] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    @property
    def is_refused(self) -> bool:
        """The latest import attempt was refused, so older rows are still in force."""
        return self.refused_at is not None and (self.imported_at is None or self.refused_at >= self.imported_at)


class FeedImport(Base):
    """One import attempt of a supplier feed that changed something or was refused (history for operators)."""

    __tablename__ = "feed_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))  # imported, refused
    rows: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)


class SupplyItem(Base):
    __tablename__ = "supply_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(255), index=True)
    available: Mapped[int | None] = mapped_column(Integer)
    restock_date: Mapped[date | None] = mapped_column(Date)
    restock_qty: Mapped[int | None] = mapped_column(Integer)
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
    line_no: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(200))  # the feed's optional purchase-order number


class SupplyPromise(Base):
    """A supplier's word that units of a SKU arrive on a date: one per restock row, kept across imports.

    `promised_on` is the arrival promised now (restock date + lead); `first_promised_on` the first one
    seen; each move is a `PromiseChange`. Open until receipts settle it (`received`) or the feed stops
    listing it and no arrival comes (`withdrawn`)."""

    __tablename__ = "supply_promises"
    __table_args__ = (
        UniqueConstraint("supplier_id", "sku", "reference", name="uq_supply_promises_supplier_sku_reference"),
        Index("ix_supply_promises_sku_status", "sku", "status"),
        Index("ix_supply_promises_supplier_status", "supplier_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(255))
    reference: Mapped[str | None] = mapped_column(String(200))  # purchase-order or shipment number
    quantity: Mapped[int | None] = mapped_column(Integer)  # None: the feed gave no quantity
    received: Mapped[int] = mapped_column(Integer, default=0)
    restock_date: Mapped[date] = mapped_column(Date)
    lead_time_days: Mapped[int] = mapped_column(Integer)
    promised_on: Mapped[date] = mapped_column(Date)
    first_promised_on: Mapped[date] = mapped_column(Date)
    slips: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, received, withdrawn
    listed: Mapped[bool] = mapped_column(Boolean, default=True)  # in the supplier's latest import
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_on: Mapped[date | None] = mapped_column(Date)


class PromiseChange(Base):
    """A re-import moved a promise's date or quantity (a later date is a slip)."""

    __tablename__ = "promise_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    promise_id: Mapped[int] = mapped_column(ForeignKey("supply_promises.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    old_promised_on: Mapped[date] = mapped_column(Date)
    new_promised_on: Mapped[date] = mapped_column(Date)
    old_quantity: Mapped[int | None] = mapped_column(Integer)
    new_quantity: Mapped[int | None] = mapped_column(Integer)


class SupplyReceipt(Base):
    """Units that arrived: a row of a receipts file, or inferred from a stock rise (`source`)."""

    __tablename__ = "supply_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_key: Mapped[str] = mapped_column(String(64), unique=True)  # the same receipt imported twice counts once
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    supplier: Mapped[str | None] = mapped_column(String(200))  # None: inferred, any supplier's promise
    sku: Mapped[str] = mapped_column(String(255), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))  # file, inferred
    unmatched: Mapped[int] = mapped_column(Integer, default=0)  # units no open promise was waiting for
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PromiseSettlement(Base):
    """Units of one receipt that settled one promise: one lateness sample."""

    __tablename__ = "promise_settlements"
    __table_args__ = (UniqueConstraint("promise_id", "receipt_id", name="uq_promise_settlements_promise_receipt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    promise_id: Mapped[int] = mapped_column(ForeignKey("supply_promises.id", ondelete="CASCADE"))
    receipt_id: Mapped[int] = mapped_column(ForeignKey("supply_receipts.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    received_on: Mapped[date] = mapped_column(Date)
    lateness_days: Mapped[int] = mapped_column(Integer)


class LinePromise(Base):
    """What a backordered line's customer was told: the first ETA, each later one, and how it ended.

    Kept when the line's units were ready (in stock, plus handling days: the same footing as an ETA) by
    the first date told; `outcome` is waiting, kept, missed or cancelled."""

    __tablename__ = "line_promises"
    __table_args__ = (Index("ix_line_promises_shop_outcome", "shop_id", "outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    sku: Mapped[str | None] = mapped_column(String(255))
    supplier: Mapped[str | None] = mapped_column(String(200))
    units: Mapped[int] = mapped_column(Integer, default=0)  # backordered units when first told
    first_eta: Mapped[date] = mapped_column(Date)
    first_told_on: Mapped[date] = mapped_column(Date)
    latest_eta: Mapped[date | None] = mapped_column(Date)
    eta_earliest: Mapped[date | None] = mapped_column(Date)
    eta_latest: Mapped[date | None] = mapped_column(Date)
    history: Mapped[list[list[str]]] = mapped_column(JSON, default=list)  # [[told on, eta], ...]
    ready_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(20), default="waiting")


class OrderDecision(Base):
    """The engine's latest verdict on an order, and what was last pushed to the store for it."""

    __tablename__ = "order_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    eta: Mapped[date | None] = mapped_column(Date)
    fingerprint: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[date] = mapped_column(Date)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    pushed_fingerprint: Mapped[str | None] = mapped_column(String(64))
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the customer has been told, so notices follow policy and never repeat.
    notice_kind: Mapped[str | None] = mapped_column(String(20))
    notice_eta: Mapped[date | None] = mapped_column(Date)
    notice_on: Mapped[date | None] = mapped_column(Date)


class LineDecision(Base):
    __tablename__ = "line_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), unique=True)
    allocated: Mapped[int] = mapped_column(Integer)
    backordered: Mapped[int] = mapped_column(Integer)
    eta: Mapped[date | None] = mapped_column(Date)
    eta_source: Mapped[str | None] = mapped_column(String(300))
    reason: Mapped[str | None] = mapped_column(String(40))  # engine.reasons.REASON_CODES; None when not backordered
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InboxItem(Base):
    """One verified webhook delivery, stored before it was acknowledged."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "delivery_id", name="uq_inbox_platform_delivery_id"),
        Index("ix_inbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    shop_domain: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(100))
    delivery_id: Mapped[str] = mapped_column(String(200))
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, done, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)  # why it was settled without effect (unknown topic, no shop)
    # A delivery over the body limit is recorded without its body: this many bytes were not stored.
    body_omitted: Mapped[int | None] = mapped_column(Integer)

    @classmethod
    def of_shop(cls, shop: Shop) -> ColumnElement[bool]:
        """The deliveries that belong to `shop`: attributed to it, or sent under its domain (a Shopify delivery
        is stored with no shop id and attributed by the worker, and one may have arrived before the install)."""
        return or_(cls.shop_id == shop.id, (cls.platform == shop.platform) & (cls.shop_domain == shop.domain))


class Action(Base):
    """One write the store (or a customer) must receive; the unique key makes planning it idempotent."""

    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # tag, untag, marks, note, hold, release, notify
    fingerprint: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # pending -> running -> done | failed (retry later) | dead; notify: pending -> sending -> sent | stuck;
    # skipped: the store or the customer's data does not allow it (reason in last_error), never run
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(40))
    receipt: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # notify: when it went `sending`
    # notify: the notice exactly as it went out ({subject, text, html, language, channel}), for the merchant.
    rendered: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    worker_id: Mapped[str | None] = mapped_column(String(100))  # the worker that last took it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HeldReconcile(Base):
    """A reconcile whose writes were held because it would have sent a storm of delay notices.

    Nothing of it reached the store or a customer. The merchant sends it (the outbox planner then
    queues exactly the changes shown, identified by `change_key`) or discards it (the same changes are
    not held again; new ones are judged afresh).
    """

    __tablename__ = "held_reconciles"
    __table_args__ = (Index("ix_held_reconciles_shop_status", "shop_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="held")  # held, sent, discarded, superseded, cleared
    change_key: Mapped[str] = mapped_column(String(64))
    notices: Mapped[int] = mapped_column(Integer, default=0)  # delay notices it would send to waiting customers
    waiting: Mapped[int] = mapped_column(Integer, default=0)  # the shop's waiting customers before it
    orders: Mapped[int] = mapped_column(Integer, default=0)  # orders whose store writes it holds
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what changed and why (see pipeline.brake)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(100))


class Job(Base):
    """A recurring job's schedule, stored so a restarted worker carries on where it was."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("kind", "target", name="uq_jobs_kind_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # sync, full_sync, feed_refresh, reconcile
    target: Mapped[str] = mapped_column(String(60))  # "shop:3", "supplier:5"
    interval_seconds: Mapped[int] = mapped_column(Integer)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(Text)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SyncCursor(Base):
    __tablename__ = "sync_cursors"
    __table_args__ = (UniqueConstraint("shop_id", "resource", name="uq_sync_cursors_shop_resource"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    resource: Mapped[str] = mapped_column(String(40))
    cursor_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_count: Mapped[int] = mapped_column(Integer, default=0)


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"
    __table_args__ = (UniqueConstraint("shop_id", "platform_id", name="uq_webhook_subscriptions_shop_platform_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    platform_id: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(100))
    secret: Mapped[str | None] = mapped_column(Text, info=SEALED)  # SecretBox-sealed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # As the store last reported it: active, paused (by the merchant) or disabled (by the store, after
    # failed deliveries); `status_note` says why and what the connector did about it.
    status: Mapped[str | None] = mapped_column(String(20))
    status_note: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BulkExport(Base):
    """A store-side bulk export (a Shopify bulk operation) the connector started or adopted, so a finish
    webhook and a later sync find it again instead of starting another."""

    __tablename__ = "bulk_exports"
    __table_args__ = (UniqueConstraint("shop_id", "operation_id", name="uq_bulk_exports_shop_operation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    operation_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="RUNNING")
    error_code: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the store said it finished
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # its result was read


class BulkExportRow(Base):
    """One line of a bulk export's result, staged so records and their children (`parent_id`) arriving in
    any order are joined in the database rather than in memory; deleted once the export is read."""

    __tablename__ = "bulk_export_rows"
    __table_args__ = (Index("ix_bulk_export_rows_parent", "export_id", "parent_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)  # arrival order
    export_id: Mapped[int] = mapped_column(ForeignKey("bulk_exports.id", ondelete="CASCADE"))
    record_id: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)


class CustomerChoice(Base):
    """A customer's answer to a delay notice: keep waiting, or cancel."""

    __tablename__ = "customer_choices"
    __table_args__ = (UniqueConstraint("order_id", "notice_ref", name="uq_customer_choices_order_notice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    notice_ref: Mapped[str] = mapped_column(String(100))
    choice: Mapped[str] = mapped_column(String(20))  # wait, cancel
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OneTimeToken(Base):
    """OAuth state nonces and wc-auth user ids: each may be used once, within its lifetime."""

    __tablename__ = "one_time_tokens"

    token: Mapped[str] = mapped_column(String(128), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(500))  # the shop domain or store URL it was issued for
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookRefusal(Base):
    """A signed webhook delivery the intake refused: too old (a replay) or naming another shop in its body."""

    __tablename__ = "webhook_refusals"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    platform: Mapped[str] = mapped_column(String(20))
    shop_domain: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(255))


class SessionVersion(Base):
    """The current session version of a dashboard subject ("operator" or "shop:<id>"): logout bumps it, and
    a session cookie carrying an older version opens nothing, wherever it was saved."""

    __tablename__ = "session_versions"

    subject: Mapped[str] = mapped_column(String(50), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    client: Mapped[str] = mapped_column(String(100), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


class Cancellation(Base):
    """A cancel-and-refund of an order's backordered units, asked for by the customer or by the mail-order
    rule, and how it went; one per order (the unique key), carried out through the outbox.

    status: awaiting_approval (cancel_mode approve) -> queued -> done | failed (the store or its payment
    gateway refused: `error` has its message, never retried on its own); declined (the merchant said no);
    off (cancel_mode off: recorded for the merchant, nothing written to the store).
    """

    __tablename__ = "cancellations"
    __table_args__ = (Index("ix_cancellations_shop_status", "shop_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(String(20))  # customer (chose cancel), no_consent (the rule's timeout)
    status: Mapped[str] = mapped_column(String(30))
    whole_order: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{line_id, sku, title, quantity}]: the backordered units to cancel, as planned
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    requested_on: Mapped[date] = mapped_column(Date)
    refund_due_by: Mapped[date] = mapped_column(Date)  # 7 working days after the request
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(100))
    refund_amount: Mapped[str | None] = mapped_column(String(40))  # as the store reported it
    currency: Mapped[str | None] = mapped_column(String(10))
    refund_ref: Mapped[str | None] = mapped_column(String(200))  # the store's refund (or cancel job) id
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
