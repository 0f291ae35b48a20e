"""The WooCommerce sandbox's in-memory store and every change to it, made under one lock like a database would."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connector.errors import InputError
from sandbox.woocommerce.model import (
    BACKORDERED_META_KEY,
    REDUCED_STOCK_META_KEY,
    STATUS_LABELS,
    STOCK_REDUCING_STATUSES,
    STOCK_RESTORING_STATUSES,
    ApiKey,
    ChangeEvent,
    DeliveryRecord,
    LineItem,
    MetaEntry,
    Order,
    OrderNote,
    Permission,
    Product,
    SentEmail,
    Variation,
    Webhook,
    gmt_string,
    shift_hours,
)
from sandbox.woocommerce.seed import parse_seed

StockItem = Product | Variation
Listener = Callable[[ChangeEvent], None]


class WooState:
    """Everything one sandbox store holds. Callers hold `lock` while reading; mutators take it themselves."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.site_url: str | None = None
        self.site_title = "Sandbox Store"
        self.https_mode = False
        self.gmt_offset_hours = 0.0
        self.currency = "USD"
        self.tax_rate_percent = 0.0
        # order id -> the message the payment gateway answers to its next automatic refund
        self.gateway_refusals: dict[int, str] = {}
        self.customer_note_email_enabled = True
        self.backorder_eta_plugin = True
        self.keys: dict[str, ApiKey] = {}
        self.products: dict[int, Product] = {}
        self.variations: dict[int, Variation] = {}
        self.orders: dict[int, Order] = {}
        self.notes: list[OrderNote] = []
        self.emails: list[SentEmail] = []
        self.webhooks: dict[int, Webhook] = {}
        self.deliveries: list[DeliveryRecord] = []
        self._listeners: list[Listener] = []
        self._next = {"key": 1, "order": 1, "line": 1, "meta": 1, "note": 1, "email": 1, "webhook": 1, "refund": 1}

    # ---- construction -------------------------------------------------------------------------

    @classmethod
    def from_seed(cls, raw: dict[str, Any], source: str = "seed") -> WooState:
        data = parse_seed(raw, source)
        state = cls()
        settings = data.settings
        state.site_url = settings.site_url.rstrip("/") if settings.site_url else None
        state.site_title = settings.site_title
        state.https_mode = settings.https_mode
        state.gmt_offset_hours = settings.gmt_offset_hours
        state.currency = settings.currency
        state.tax_rate_percent = settings.tax_rate_percent
        state.customer_note_email_enabled = settings.customer_note_email_enabled
        state.backorder_eta_plugin = settings.backorder_eta_plugin
        state.keys = {key.consumer_key: key for key in data.keys}
        state.products, state.variations = data.products, data.variations
        state.orders, state.notes, state.webhooks = data.orders, data.notes, data.webhooks
        for item in state.stock_items():
            state._restatus(item)
        lines = [line.id for order in state.orders.values() for line in order.line_items]
        state._next.update(
            key=max((k.key_id for k in data.keys), default=0) + 1,
            order=max(state.orders, default=0) + 1,
            line=max(lines, default=0) + 1,
            meta=data.next_meta_id,
            note=data.next_note_id,
            webhook=max(state.webhooks, default=0) + 1,
        )
        return state

    @classmethod
    def load_seed(cls, path: str | Path) -> WooState:
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(str(path), f"cannot read seed: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise InputError(str(path), f"not valid JSON: {exc.msg}", line=exc.lineno) from None
        if not isinstance(raw, dict):
            raise InputError(str(path), "a seed must be a JSON object")
        return cls.from_seed(raw, source=str(path))

    # ---- helpers ------------------------------------------------------------------------------

    def take_id(self, kind: str) -> int:
        with self.lock:
            value = self._next[kind]
            self._next[kind] = value + 1
            return value

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, resource: str, event: str, resource_id: int) -> None:
        for listener in self._listeners:
            listener(ChangeEvent(resource, event, resource_id))

    def local(self, gmt: str | None) -> str | None:
        return None if gmt is None else shift_hours(gmt, self.gmt_offset_hours)

    def find_key(self, consumer_key: str) -> ApiKey | None:
        return self.keys.get(consumer_key)

    def stock_holder(self, product_id: int, variation_id: int) -> StockItem | None:
        """The record whose stock an order line draws on; None when nobody tracks it."""
        product = self.products.get(product_id)
        if variation_id:
            variation = self.variations.get(variation_id)
            if variation is None:
                return None
            if variation.manage_stock:
                return variation
            parent = self.products.get(variation.parent_id)
            return parent if parent is not None and parent.manage_stock else None
        return product if product is not None and product.manage_stock else None

    def stock_items(self) -> list[StockItem]:
        """Every product and variation, products first."""
        return [*self.products.values(), *self.variations.values()]

    def find_by_sku(self, sku: str) -> StockItem | None:
        for item in self.stock_items():
            if item.sku == sku:
                return item
        return None

    @staticmethod
    def _restatus(item: StockItem) -> None:
        if not item.manage_stock or item.stock_quantity is None:
            return
        if item.stock_quantity > 0:
            item.stock_status = "instock"
        else:
            item.stock_status = "onbackorder" if item.backorders != "no" else "outofstock"

    def _item_event(self, item: StockItem) -> None:
        self.emit("product", "updated", item.id)

    # ---- keys ---------------------------------------------------------------------------------

    def create_key(self, user_id: int, permissions: Permission, description: str) -> ApiKey:
        with self.lock:
            key = ApiKey(self.take_id("key"), user_id, "ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20), permissions, description)
            self.keys[key.consumer_key] = key
            return key

    def delete_key(self, key_id: int) -> None:
        with self.lock:
            self.keys = {ck: key for ck, key in self.keys.items() if key.key_id != key_id}

    # ---- stock --------------------------------------------------------------------------------

    def set_stock(self, item: StockItem, now: float, *, quantity: int | None = None, backorders: str | None = None,
                  manage_stock: bool | None = None) -> None:
        with self.lock:
            if manage_stock is not None:
                item.manage_stock = manage_stock
            if quantity is not None:
                item.stock_quantity = quantity
            if backorders is not None:
                item.backorders = backorders
            if item.manage_stock and item.stock_quantity is None:
                item.stock_quantity = 0
            self._restatus(item)
            item.date_modified_gmt = gmt_string(now)
            self._item_event(item)

    def _reduce_stock(self, order: Order, now: float) -> None:
        changes: list[str] = []
        for line in order.line_items:
            holder = self.stock_holder(line.product_id, line.variation_id)
            if holder is None or line.meta_value(REDUCED_STOCK_META_KEY) is not None:
                continue
            before = holder.stock_quantity or 0
            holder.stock_quantity = before - line.quantity
            self._restatus(holder)
            holder.date_modified_gmt = gmt_string(now)
            # Meta values come back from the database as strings, so that is what the REST API shows.
            line.meta.append(MetaEntry(self.take_id("meta"), REDUCED_STOCK_META_KEY, str(line.quantity)))
            changes.append(f"{line.name} ({line.sku}) {before}&rarr;{holder.stock_quantity}")
            self._item_event(holder)
        if changes:
            self._system_note(order, "Stock levels reduced: " + ", ".join(changes), now)

    def _restore_stock(self, order: Order, now: float) -> None:
        changes: list[str] = []
        for line in order.line_items:
            reduced = line.meta_value(REDUCED_STOCK_META_KEY)
            holder = self.stock_holder(line.product_id, line.variation_id)
            if reduced is None or holder is None:
                continue
            before = holder.stock_quantity or 0
            holder.stock_quantity = before + int(reduced)
            self._restatus(holder)
            holder.date_modified_gmt = gmt_string(now)
            line.meta = [entry for entry in line.meta if entry.key != REDUCED_STOCK_META_KEY]
            changes.append(f"{line.name} ({line.sku}) {before}&rarr;{holder.stock_quantity}")
            self._item_event(holder)
        if changes:
            self._system_note(order, "Stock levels increased: " + ", ".join(changes), now)

    # ---- orders -------------------------------------------------------------------------------

    def new_line(self, product_id: int, variation_id: int, quantity: int) -> LineItem:
        """A line item priced and named from the catalogue, with the "Backordered" meta checkout would add."""
        with self.lock:
            product = self.products[product_id]
            variation = self.variations.get(variation_id) if variation_id else None
            name = product.name
            if variation is not None:
                options = ", ".join(attr.get("option", "") for attr in variation.attributes)
                name = f"{product.name} &ndash; {options}" if options else product.name
            source = variation or product
            line = LineItem(self.take_id("line"), name, product_id, variation_id, quantity, source.sku, float(source.price))
            holder = self.stock_holder(product_id, variation_id)
            if holder is not None and holder.backorders == "notify":
                stock = holder.stock_quantity or 0
                short = quantity - max(0, stock)
                if short > 0:
                    line.meta.append(MetaEntry(self.take_id("meta"), BACKORDERED_META_KEY, str(short)))
            return line

    def create_order(self, lines: list[LineItem], now: float, *, status: str = "pending", billing: dict[str, str] | None = None,
                     customer_id: int = 0, meta: list[tuple[str, Any]] | None = None, customer_note: str = "",
                     created_gmt: str | None = None) -> Order:
        with self.lock:
            order_id = self.take_id("order")
            stamp = created_gmt or gmt_string(now)
            order = Order(order_id, str(order_id), status, stamp, gmt_string(now), customer_id, dict(billing or {}), lines,
                          currency=self.currency, customer_note=customer_note)
            for key, value in meta or []:
                order.meta.append(MetaEntry(self.take_id("meta"), key, value))
            if status not in {"pending", "failed", "checkout-draft"}:
                order.date_paid_gmt = stamp
            self.orders[order_id] = order
            self.emit("order", "created", order_id)
            if status in STOCK_REDUCING_STATUSES:
                self._reduce_stock(order, now)
            return order

    def update_order(self, order: Order, now: float, *, status: str | None = None, meta_updates: list[dict[str, Any]] | None = None,
                     billing: dict[str, str] | None = None, customer_note: str | None = None) -> None:
        """Apply a PUT: meta by id or key (same key replaced, null value deletes), status with its stock effects."""
        with self.lock:
            for update in meta_updates or []:
                self._apply_meta(order, update)
            if billing:
                order.billing.update(billing)
            if customer_note is not None:
                order.customer_note = customer_note
            if status is not None and status != order.status:
                previous = order.status
                order.status = status
                self._system_note(order, f"Order status changed from {STATUS_LABELS.get(previous, previous)} to {STATUS_LABELS.get(status, status)}.", now)
                if status == "completed":
                    order.date_completed_gmt = gmt_string(now)
                if status in {"processing", "completed", "on-hold"} and order.date_paid_gmt is None:
                    order.date_paid_gmt = gmt_string(now)
                # Core's order-level "stock reduced" flag: an order already past checkout payment is not reduced again.
                if status in STOCK_REDUCING_STATUSES and previous not in STOCK_REDUCING_STATUSES:
                    self._reduce_stock(order, now)
                elif status in STOCK_RESTORING_STATUSES:
                    self._restore_stock(order, now)
            order.date_modified_gmt = gmt_string(now)
            self.emit("order", "updated", order.id)

    def update_catalog_meta(self, record: Product | Variation, updates: list[dict[str, Any]], now: float) -> None:
        """`meta_data` of a product or variation update, applied as core's `update_meta_data()` does."""
        with self.lock:
            for update in updates:
                self._apply_meta(record, update)
            record.date_modified_gmt = gmt_string(now)

    def _apply_meta(self, order: Order | Product | Variation, update: dict[str, Any]) -> None:
        value = update.get("value")
        if update.get("id") is not None:
            entry = next((m for m in order.meta if m.id == int(update["id"])), None)
            if entry is None:
                return
            if value is None:
                order.meta.remove(entry)
            else:
                entry.value = value
                entry.key = str(update.get("key", entry.key))
            return
        key = str(update["key"])
        matching = [m for m in order.meta if m.key == key]
        if value is None:
            order.meta = [m for m in order.meta if m.key != key]
        elif matching:
            matching[0].value = value
            # update_meta_data() keeps one entry per key: later duplicates go.
            order.meta = [m for m in order.meta if m.key != key or m is matching[0]]
        else:
            order.meta.append(MetaEntry(self.take_id("meta"), key, value))

    def delete_order(self, order: Order, now: float, *, force: bool) -> None:
        with self.lock:
            if force:
                del self.orders[order.id]
                self.notes = [note for note in self.notes if note.order_id != order.id]
            else:
                order.status = "trash"
                order.date_modified_gmt = gmt_string(now)
            self.emit("order", "deleted", order.id)

    # ---- notes and emails ---------------------------------------------------------------------

    def _system_note(self, order: Order, text: str, now: float) -> OrderNote:
        note = OrderNote(self.take_id("note"), order.id, text, False, False, "system", gmt_string(now))
        self.notes.append(note)
        return note

    def add_note(self, order: Order, text: str, now: float, *, customer_note: bool, added_by_user: bool) -> OrderNote:
        """Add a note; a customer note also records the "Customer note" email WooCommerce would send."""
        with self.lock:
            author = "admin" if added_by_user else "system"
            note = OrderNote(self.take_id("note"), order.id, text, customer_note, added_by_user, author, gmt_string(now))
            self.notes.append(note)
            recipient = order.billing.get("email", "")
            if customer_note and recipient and self.customer_note_email_enabled:
                self.emails.append(self._customer_note_email(order, note, recipient, now))
            return note

    def _customer_note_email(self, order: Order, note: OrderNote, recipient: str, now: float) -> SentEmail:
        created = self.local(order.date_created_gmt) or order.date_created_gmt
        order_date = f"{_MONTHS[int(created[5:7]) - 1]} {int(created[8:10])}, {created[:4]}"
        lines = "\n".join(f"{line.name} x {line.quantity}" for line in order.line_items)
        body = (
            f"Hi {order.billing.get('first_name', '') or 'there'},\n\n"
            f"The following note has been added to your order:\n\n{note.note}\n\n"
            f"As a reminder, here are your order details:\n\n[Order #{order.number}] ({order_date})\n{lines}\n\n"
            f"Thanks for reading.\n{self.site_title}\n"
        )
        subject = f"Note added to your {self.site_title} order from {order_date}"
        return SentEmail(self.take_id("email"), "customer_note", recipient, subject, body, order.id, note.id, gmt_string(now))

    def notes_for(self, order_id: int) -> list[OrderNote]:
        with self.lock:
            return [note for note in self.notes if note.order_id == order_id]

    # ---- webhooks -----------------------------------------------------------------------------

    def create_webhook(self, now: float, *, name: str, topic: str, delivery_url: str, secret: str, status: str,
                       user_id: int) -> Webhook:
        with self.lock:
            stamp = gmt_string(now)
            hook = Webhook(self.take_id("webhook"), name, topic, delivery_url, secret, status, user_id,
                           date_created_gmt=stamp, date_modified_gmt=stamp)
            self.webhooks[hook.id] = hook
            return hook

    def update_webhook(self, hook: Webhook, now: float, changes: dict[str, Any]) -> None:
        with self.lock:
            for name in ("name", "topic", "delivery_url", "secret"):
                if changes.get(name) is not None:
                    setattr(hook, name, str(changes[name]))
            status = changes.get("status")
            if status is not None and status != hook.status:
                hook.status = status
                if status == "active":
                    # Assumed: re-activating starts the failure count afresh, else one failure disables it again.
                    hook.failure_count = 0
            hook.date_modified_gmt = gmt_string(now)

    def record_delivery(self, record: DeliveryRecord) -> None:
        with self.lock:
            self.deliveries.append(record)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def load_seed(path: str | Path) -> WooState:
    """A sandbox state from a seed file; bad files raise InputError naming the file."""
    return WooState.load_seed(path)
