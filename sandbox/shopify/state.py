"""The Shopify sandbox's in-memory store: catalogue, stock, orders, subscriptions, and the changes that fire webhooks."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connector.errors import InputError
from sandbox.shopify.model import (
    ON_HAND_PARTS,
    BulkOperation,
    Customer,
    MetafieldDefinition,
    FulfillmentOrder,
    FulfillmentOrderLine,
    Hold,
    LineItem,
    Location,
    Order,
    Variant,
    WebhookSubscription,
)
from sandbox.shopify.seed import NewOrder, Seed, StockChange

ORDER_WINDOW = timedelta(days=60)  # without read_all_orders, older orders are invisible
Listener = Callable[[str, Any], None]
"""Called as listener(topic, record) with e.g. ("orders/create", Order) or ("inventory_levels/update", (item, loc))."""


class ShopifyState:
    """Everything the sandbox store knows; guard every read and write with `lock`."""

    def __init__(self, shop: str, locations: list[Location], *, now: Callable[[], datetime] | None = None) -> None:
        if not locations:
            raise ValueError("a shop needs at least one location")
        self.shop = shop
        self.shop_name = shop.split(".")[0]
        self.locations = locations
        self.lock = threading.RLock()
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self.variants: dict[int, Variant] = {}
        self.levels: dict[tuple[int, int], dict[str, int]] = {}  # (inventory item, location) -> quantities
        self.orders: dict[int, Order] = {}
        self.subscriptions: dict[int, WebhookSubscription] = {}
        self.bulk_operations: dict[int, BulkOperation] = {}
        self.definitions: list[MetafieldDefinition] = []
        self._listeners: list[Listener] = []
        self._next_id = 1
        self._next_order_number = 1001
        self.tax_rate = Decimal(0)
        # order id -> the message the payment gateway answers to the order's next refund
        self.gateway_refusals: dict[int, str] = {}
        self.idempotency_keys: dict[str, int] = {}
        self.declined_refunds: dict[int, str] = {}  # order id -> the errorCode its next refund's transaction fails with  # refundCreate's @idempotent keys -> the refund made

    # ---- loading ---------------------------------------------------------------------------------

    @classmethod
    def from_seed(cls, data: dict[str, Any], *, source: str = "seed", now: Callable[[], datetime] | None = None) -> ShopifyState:
        """A store holding `data` (format: `sandbox.shopify.seed`); InputError names `source`."""
        try:
            seed = Seed.model_validate(data)
        except ValidationError as error:
            raise InputError(source, _first_problem(error)) from None
        state = cls(seed.shop, [Location(loc.id, loc.name, loc.fulfillment_service) for loc in seed.locations], now=now)
        state.shop_name = seed.shop_name or state.shop_name
        state.tax_rate = Decimal(seed.tax_rate)
        location_ids = {loc.id for loc in state.locations}
        seen_ids: list[int] = [*location_ids]
        for product in seed.products:
            seen_ids.append(product.id)
            for spec in product.variants:
                variant = Variant(spec.id, product.id, product.title, spec.sku, spec.title, spec.inventory_item_id,
                                  spec.tracked, spec.inventory_policy, spec.price)
                state.variants[variant.id] = variant
                seen_ids += [variant.id, variant.inventory_item_id]
                for level in spec.inventory_levels:
                    if level.location_id not in location_ids:
                        raise InputError(source, f"variant {spec.sku or spec.id}: unknown location {level.location_id}")
                    state.levels[(variant.inventory_item_id, level.location_id)] = _with_on_hand(level.quantities)
        by_sku = state.variants_by_sku()
        fulfillment: dict[int, Any] = {}
        for spec_order in seed.orders:
            lines = []
            for seed_line in spec_order.line_items:
                variant_id = seed_line.variant_id
                if variant_id is None and seed_line.sku in by_sku:
                    variant_id = by_sku[seed_line.sku].id
                if variant_id is not None and variant_id not in state.variants:
                    raise InputError(source, f"order {spec_order.name}: unknown variant {variant_id}")
                title = seed_line.title or _line_title(state.variants.get(variant_id or -1), seed_line.sku)
                unfulfilled = seed_line.quantity if seed_line.unfulfilled_quantity is None else seed_line.unfulfilled_quantity
                line_variant = state.variants.get(variant_id or -1)
                price = Decimal(seed_line.price or (line_variant.price if line_variant else "0.00"))
                lines.append(LineItem(seed_line.id, seed_line.sku, seed_line.quantity, unfulfilled, title, seed_line.requires_shipping,
                                      variant_id, seed_line.current_quantity, price))
                seen_ids.append(seed_line.id)
            customer = None
            if spec_order.customer is not None:
                c = spec_order.customer
                customer = Customer(c.id or spec_order.id + 1, c.first_name, c.last_name, c.email, c.locale)
                seen_ids.append(customer.id)
            created = _utc(spec_order.created_at)
            order = Order(spec_order.id, spec_order.name, created, _utc(spec_order.updated_at or spec_order.created_at),
                          lines, customer, spec_order.email or (customer.email if customer else None),
                          _utc(spec_order.cancelled_at) if spec_order.cancelled_at else None, spec_order.closed,
                          spec_order.display_financial_status, spec_order.note, list(spec_order.tags),
                          shipping_price=Decimal(spec_order.shipping_price), tax_rate=state.tax_rate,
                          gateway=spec_order.gateway)
            order.sale_id = order.id + 7_000_000_000  # clear of every seeded id
            if order.id in state.orders:
                raise InputError(source, f"order id {order.id} appears twice")
            if spec_order.fulfillment_location_id is not None and spec_order.fulfillment_location_id not in location_ids:
                raise InputError(source, f"order {spec_order.name}: unknown location {spec_order.fulfillment_location_id}")
            state.orders[order.id] = order
            fulfillment[order.id] = spec_order
            seen_ids.append(order.id)
        state._next_id = max(seen_ids, default=0) + 1000
        state._next_order_number = max((_order_number(o.name) for o in state.orders.values()), default=1000) + 1
        for order in state.orders.values():
            spec = fulfillment[order.id]
            fo = state._open_fulfillment_order(order, spec.fulfillment_location_id)
            fo.in_progress = spec.fulfillment_in_progress and not fo.closed
            fo.holds.extend(Hold(state.new_id(), hold.reason, None, hold.handle, hold.app) for hold in spec.foreign_holds)
        return state

    @classmethod
    def load_seed(cls, path: str | Path, *, now: Callable[[], datetime] | None = None) -> ShopifyState:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise InputError(str(path), f"not valid JSON: {error.msg}", line=error.lineno) from None
        except OSError as error:
            raise InputError(str(path), f"cannot read: {error.strerror}") from None
        return cls.from_seed(data, source=str(path), now=now)

    # ---- lookups ---------------------------------------------------------------------------------

    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def variants_by_sku(self) -> dict[str, Variant]:
        return {v.sku: v for v in self.variants.values() if v.sku}

    def variant_by_item(self, item_id: int) -> Variant | None:
        return next((v for v in self.variants.values() if v.inventory_item_id == item_id), None)

    def item_levels(self, item_id: int) -> list[tuple[Location, dict[str, int]]]:
        return [(loc, self.levels[(item_id, loc.id)]) for loc in self.locations if (item_id, loc.id) in self.levels]

    def location_of(self, fo: FulfillmentOrder) -> Location:
        return next((loc for loc in self.locations if loc.id == fo.location_id), self.locations[0])

    def readable(self, order: Order, scopes: frozenset[str] | None) -> bool:
        """Whether an app with `scopes` can see the order (None: the sandbox's own view, everything);
        without read_all_orders only orders created in the last 60 days are."""
        if scopes is None or "read_all_orders" in scopes:
            return True
        return order.created_at >= self.now() - ORDER_WINDOW

    def find_fulfillment_order(self, fo_id: int) -> FulfillmentOrder | None:
        for order in self.orders.values():
            for fo in order.fulfillment_orders:
                if fo.id == fo_id:
                    return fo
        return None

    # ---- change notification -----------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def notify(self, topic: str, record: Any) -> None:
        for listener in list(self._listeners):
            listener(topic, record)

    def touch(self, order: Order) -> None:
        order.updated_at = max(self.now(), order.updated_at)

    # ---- changes made by customers and staff (control API, demo, tests) -------------------------------

    def create_order(self, spec: NewOrder | dict[str, Any]) -> Order:
        new = spec if isinstance(spec, NewOrder) else NewOrder.model_validate(spec)
        with self.lock:
            by_sku = self.variants_by_sku()
            created = _utc(new.created_at) if new.created_at else self.now()
            lines = []
            for spec_line in new.line_items:
                variant = by_sku.get(spec_line.sku or "")
                title = spec_line.title or _line_title(variant, spec_line.sku)
                lines.append(LineItem(self.new_id(), spec_line.sku, spec_line.quantity, spec_line.quantity, title,
                                      spec_line.requires_shipping, variant.id if variant else None,
                                      unit_price=Decimal(variant.price if variant else "0.00")))
            customer = None
            if new.customer is not None:
                c = new.customer
                customer = Customer(c.id or self.new_id(), c.first_name, c.last_name, c.email, c.locale)
            order = Order(self.new_id(), f"#{self._next_order_number}", created, created, lines, customer,
                          new.email or (customer.email if customer else None), note=new.note, tags=list(new.tags),
                          shipping_price=Decimal(new.shipping_price), tax_rate=self.tax_rate)
            order.sale_id = self.new_id()
            self._next_order_number += 1
            self.orders[order.id] = order
            self._open_fulfillment_order(order)
            changed = [self._move_stock(line, available=-line.quantity, committed=line.quantity) for line in lines]
            self.notify("orders/create", order)
            for key in filter(None, changed):
                self.notify("inventory_levels/update", key)
            return order

    def cancel_order(self, order_id: int) -> Order:
        with self.lock:
            order = self._order(order_id)
            if order.cancelled_at is None:
                changed = [self._move_stock(line, available=line.unfulfilled_quantity,
                                            committed=-line.unfulfilled_quantity) for line in order.lines]
                order.cancelled_at = self.now()
                order.closed = True
                for line in order.lines:
                    line.unfulfilled_quantity = 0
                for fo in order.fulfillment_orders:
                    fo.closed = True
                self.touch(order)
                self.notify("orders/cancelled", order)
                self.notify("orders/updated", order)
                for key in filter(None, changed):
                    self.notify("inventory_levels/update", key)
            return order

    def fulfill_order(self, order_id: int) -> Order:
        """Ship every open unit, whatever the stock says (the merchant found the goods)."""
        with self.lock:
            order = self._order(order_id)
            changed = [self._move_stock(line, committed=-line.unfulfilled_quantity, on_hand=-line.unfulfilled_quantity)
                       for line in order.lines if line.unfulfilled_quantity]
            for line in order.lines:
                line.unfulfilled_quantity = 0
            for fo in order.fulfillment_orders:
                fo.holds.clear()
                fo.closed = True
                for fo_line in fo.lines:
                    fo_line.remaining_quantity = 0
            order.closed = True
            self.touch(order)
            self.notify("orders/fulfilled", order)
            self.notify("orders/updated", order)
            for key in filter(None, changed):
                self.notify("inventory_levels/update", key)
            return order

    def set_stock(self, spec: StockChange | dict[str, Any]) -> dict[str, int]:
        change = spec if isinstance(spec, StockChange) else StockChange.model_validate(spec)
        with self.lock:
            variant = self.variants_by_sku().get(change.sku)
            if variant is None:
                raise KeyError(f"no variant with SKU {change.sku!r}")
            location_id = change.location_id if change.location_id is not None else self.locations[0].id
            if location_id not in {loc.id for loc in self.locations}:
                raise KeyError(f"no location {location_id}")
            key = (variant.inventory_item_id, location_id)
            quantities = dict(self.levels.get(key, {}))
            quantities.update(change.quantities)
            if "on_hand" not in change.quantities:
                quantities.pop("on_hand", None)
            self.levels[key] = _with_on_hand(quantities)
            self.notify("inventory_levels/update", key)
            return self.levels[key]

    # ---- internals -----------------------------------------------------------------------------------

    def _order(self, order_id: int) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise KeyError(f"no order {order_id}")
        return order

    def _open_fulfillment_order(self, order: Order, location_id: int | None = None) -> FulfillmentOrder:
        fo = FulfillmentOrder(self.new_id(), order.id, location_id or self.locations[0].id, order.created_at,
                              order.created_at)
        for line in order.lines:
            if line.requires_shipping and line.current > 0:
                fo.lines.append(FulfillmentOrderLine(self.new_id(), line.id, line.current, line.unfulfilled_quantity))
        fo.closed = order.cancelled_at is not None or all(fl.remaining_quantity == 0 for fl in fo.lines)
        order.fulfillment_orders.append(fo)
        return fo

    def _move_stock(self, line: LineItem, **deltas: int) -> tuple[int, int] | None:
        """Shift a tracked variant's quantities at the first location; returns the level's key when it changed."""
        variant = self.variants.get(line.variant_id or -1)
        if variant is None or not variant.tracked or not any(deltas.values()):
            return None
        key = (variant.inventory_item_id, self.locations[0].id)
        quantities = self.levels.setdefault(key, _with_on_hand({}))
        for name, delta in deltas.items():
            quantities[name] = quantities.get(name, 0) + delta
        if "on_hand" not in deltas:
            quantities["on_hand"] = sum(quantities.get(name, 0) for name in ON_HAND_PARTS)
        return key


def _with_on_hand(quantities: dict[str, int]) -> dict[str, int]:
    result = {"available": 0, "committed": 0, "incoming": 0, **quantities}
    result.setdefault("on_hand", sum(result.get(name, 0) for name in ON_HAND_PARTS))
    return result


def _line_title(variant: Variant | None, sku: str | None) -> str:
    if variant is None:
        return sku or "Custom item"
    return variant.product_title if variant.title == "Default Title" else f"{variant.product_title} - {variant.title}"


def _order_number(name: str) -> int:
    digits = "".join(ch for ch in name if ch.isdigit())
    return int(digits) if digits else 1000


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _first_problem(error: ValidationError) -> str:
    detail = error.errors()[0]
    where = ".".join(str(part) for part in detail["loc"])
    return f"{where}: {detail['msg']}" + (f" (and {error.error_count() - 1} more problems)" if error.error_count() > 1 else "")
