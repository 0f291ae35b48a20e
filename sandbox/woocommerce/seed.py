"""Reads and checks a WooCommerce sandbox seed (the JSON format is documented in the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connector.errors import InputError
from sandbox.woocommerce.model import (
    GMT_FORMAT,
    ORDER_STATUSES,
    WEBHOOK_STATUSES,
    ApiKey,
    LineItem,
    MetaEntry,
    Order,
    OrderNote,
    Product,
    Variation,
    Webhook,
    parse_naive,
)

Backorders = Literal["no", "notify", "yes"]
StockStatus = Literal["instock", "outofstock", "onbackorder"]


def _check_gmt(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_naive(value)
        except ValueError:
            raise ValueError(f"expected a naive GMT time like 2026-11-26T09:30:00 ({GMT_FORMAT}), got {value!r}") from None
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedKey(_Strict):
    key_id: int
    user_id: int = 1
    consumer_key: str = Field(pattern=r"^ck_[A-Za-z0-9]+$")
    consumer_secret: str = Field(pattern=r"^cs_[A-Za-z0-9]+$", repr=False)
    permissions: Literal["read", "write", "read_write"]
    description: str = ""


class SeedVariation(_Strict):
    id: int
    sku: str
    price: str = "0.00"
    attributes: list[dict[str, str]] = []
    manage_stock: bool | Literal["parent"] = False
    stock_quantity: int | None = None
    backorders: Backorders = "no"
    stock_status: StockStatus = "instock"
    date_created_gmt: str | None = None
    date_modified_gmt: str | None = None
    _gmt = field_validator("date_created_gmt", "date_modified_gmt")(_check_gmt)


class SeedProduct(_Strict):
    id: int
    name: str
    type: Literal["simple", "variable"] = "simple"
    sku: str = ""
    price: str = "0.00"
    manage_stock: bool = False
    stock_quantity: int | None = None
    backorders: Backorders = "no"
    stock_status: StockStatus = "instock"
    attributes: list[dict[str, Any]] = []
    date_created_gmt: str
    date_modified_gmt: str | None = None
    variations: list[SeedVariation] = []
    _gmt = field_validator("date_created_gmt", "date_modified_gmt")(_check_gmt)


class SeedMeta(_Strict):
    id: int | None = None
    key: str
    value: Any


class SeedLine(_Strict):
    id: int
    product_id: int
    variation_id: int = 0
    quantity: int = Field(ge=1)
    name: str | None = None
    sku: str | None = None
    price: float | None = None
    meta_data: list[SeedMeta] = []


class SeedNote(_Strict):
    id: int | None = None
    note: str
    customer_note: bool = False
    added_by_user: bool = False
    date_created_gmt: str
    _gmt = field_validator("date_created_gmt")(_check_gmt)


class SeedOrder(_Strict):
    id: int
    number: str | None = None
    status: str
    date_created_gmt: str
    date_modified_gmt: str | None = None
    customer_id: int = 0
    currency: str | None = None
    billing: dict[str, str] = {}
    line_items: list[SeedLine] = Field(min_length=1)
    meta_data: list[SeedMeta] = []
    customer_note: str = ""
    notes: list[SeedNote] = []
    shipping_total: float = Field(default=0.0, ge=0)
    # Gateways bacs, cheque and cod do not refund automatically (as in WooCommerce); any other id does.
    payment_method: str = "bacs"
    _gmt = field_validator("date_created_gmt", "date_modified_gmt")(_check_gmt)

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        if value not in ORDER_STATUSES and value != "trash":
            raise ValueError(f"unknown order status {value!r}")
        return value


class SeedWebhook(_Strict):
    id: int
    name: str = ""
    topic: str
    delivery_url: str
    secret: str = Field(repr=False)
    status: Literal["active", "paused", "disabled"] = "active"
    failure_count: int = 0


class Seed(_Strict):
    site_url: str | None = None
    site_title: str = "Sandbox Store"
    https_mode: bool = False
    gmt_offset_hours: float = 0.0
    currency: str = "USD"
    tax_rate_percent: float = Field(default=0.0, ge=0, le=100)  # one standard rate on products and shipping
    customer_note_email_enabled: bool = True
    backorder_eta_plugin: bool = True  # the Backorder ETA plugin is active (its REST route answers)
    api_keys: list[SeedKey] = []
    products: list[SeedProduct] = []
    orders: list[SeedOrder] = []
    webhooks: list[SeedWebhook] = []


@dataclass(slots=True)
class SeedData:
    """A checked seed turned into sandbox records; ids for meta and notes are assigned here."""

    settings: Seed
    keys: list[ApiKey] = field(default_factory=list)
    products: dict[int, Product] = field(default_factory=dict)
    variations: dict[int, Variation] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    notes: list[OrderNote] = field(default_factory=list)
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    next_meta_id: int = 1
    next_note_id: int = 1


def parse_seed(raw: dict[str, Any], source: str = "seed") -> SeedData:
    """Validate a seed dict; every problem is an InputError naming `source` and the offending field."""
    try:
        seed = Seed.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(source, f"{where}: {first['msg']} ({exc.error_count()} problem(s) in total)") from None
    data = SeedData(settings=seed)
    _load_catalogue(seed, data, source)
    _load_orders(seed, data, source)
    for key in seed.api_keys:
        data.keys.append(ApiKey(key.key_id, key.user_id, key.consumer_key, key.consumer_secret, key.permissions, key.description))
    for hook in seed.webhooks:
        if "." not in hook.topic or hook.status not in WEBHOOK_STATUSES:
            raise InputError(source, f"webhooks: id {hook.id} has an invalid topic {hook.topic!r}")
        data.webhooks[hook.id] = Webhook(
            hook.id, hook.name or f"Webhook {hook.id}", hook.topic, hook.delivery_url, hook.secret, hook.status,
            failure_count=hook.failure_count,
        )
    return data


def _load_catalogue(seed: Seed, data: SeedData, source: str) -> None:
    for product in seed.products:
        if product.id in data.products or product.id in data.variations:
            raise InputError(source, f"products: id {product.id} is used twice")
        if product.variations and product.type != "variable":
            raise InputError(source, f"products: id {product.id} has variations but type {product.type!r}")
        if product.manage_stock and product.stock_quantity is None:
            raise InputError(source, f"products: id {product.id} manages stock but has no stock_quantity")
        modified = product.date_modified_gmt or product.date_created_gmt
        record = Product(
            product.id, product.name, product.type, product.sku, product.price, product.manage_stock,
            product.stock_quantity, product.backorders, product.stock_status, product.date_created_gmt, modified,
            attributes=list(product.attributes),
        )
        data.products[product.id] = record
        for variation in product.variations:
            if variation.id in data.products or variation.id in data.variations:
                raise InputError(source, f"products: variation id {variation.id} is used twice")
            if variation.manage_stock == "parent" and not product.manage_stock:
                raise InputError(source, f"products: variation {variation.id} says manage_stock 'parent' but product {product.id} does not manage stock")
            own = variation.manage_stock is True
            if own and variation.stock_quantity is None:
                raise InputError(source, f"products: variation {variation.id} manages stock but has no stock_quantity")
            data.variations[variation.id] = Variation(
                variation.id, product.id, variation.sku, variation.price, list(variation.attributes), own,
                variation.stock_quantity if own else None, variation.backorders, variation.stock_status,
                variation.date_created_gmt or product.date_created_gmt,
                variation.date_modified_gmt or variation.date_created_gmt or modified,
            )
            record.variation_ids.append(variation.id)


def _load_orders(seed: Seed, data: SeedData, source: str) -> None:
    line_ids: set[int] = set()
    for order in seed.orders:
        if order.id in data.orders:
            raise InputError(source, f"orders: id {order.id} is used twice")
        lines: list[LineItem] = []
        for line in order.line_items:
            if line.id in line_ids:
                raise InputError(source, f"orders: line item id {line.id} is used twice")
            line_ids.add(line.id)
            product = data.products.get(line.product_id)
            variation = data.variations.get(line.variation_id) if line.variation_id else None
            if product is None or (line.variation_id and (variation is None or variation.parent_id != product.id)):
                raise InputError(source, f"orders: order {order.id} line {line.id} names an unknown product/variation")
            sku = line.sku if line.sku is not None else (variation.sku if variation else product.sku)
            price = line.price if line.price is not None else float(variation.price if variation else product.price)
            meta = [MetaEntry(_take_meta_id(data, m.id), m.key, m.value) for m in line.meta_data]
            lines.append(LineItem(line.id, line.name or product.name, product.id, line.variation_id, line.quantity, sku, price, meta))
        data.orders[order.id] = Order(
            order.id, order.number or str(order.id), order.status, order.date_created_gmt,
            order.date_modified_gmt or order.date_created_gmt, order.customer_id, dict(order.billing), lines,
            [MetaEntry(_take_meta_id(data, m.id), m.key, m.value) for m in order.meta_data],
            currency=order.currency or seed.currency, customer_note=order.customer_note,
            shipping_total=order.shipping_total, payment_method=order.payment_method,
            date_paid_gmt=None if order.status in {"pending", "failed"} else order.date_created_gmt,
            date_completed_gmt=order.date_modified_gmt if order.status == "completed" else None,
        )
        for note in order.notes:
            note_id = note.id if note.id is not None else data.next_note_id
            data.next_note_id = max(data.next_note_id, note_id + 1)
            author = "admin" if note.added_by_user else "WooCommerce"
            data.notes.append(OrderNote(note_id, order.id, note.note, note.customer_note, note.added_by_user, author, note.date_created_gmt))


def _take_meta_id(data: SeedData, wanted: int | None) -> int:
    meta_id = wanted if wanted is not None else data.next_meta_id
    data.next_meta_id = max(data.next_meta_id, meta_id + 1)
    return meta_id
