"""A platform's inbound side: what it sends the connector, declared per platform, asked by the pipeline.

Each platform package has one `PlatformKind` subclass (class attributes and static methods, no client,
no network). It names the webhook topics the connector subscribes to, the intake path the store delivers
them to, how one verified delivery becomes an `Event`, its stock rules and its capabilities. The inbox,
webhook set-up, `connector plan` and the outbox planner ask it (through `connector.platforms.kind_of`)
and never compare a platform's name.

    delivery (topic, body)  --PlatformKind.event_from_delivery-->  Event  --inbox applies-->  database
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import TypeAdapter

from connector.engine import Order
from connector.errors import InputError
from connector.platforms.base import Capabilities, PlatformName, RemoteOrder


class EventKind(StrEnum):
    """What a delivery tells the connector, whichever platform sent it."""

    ORDER_CHANGED = "order changed"  # created, updated, cancelled, fulfilled, restored
    ORDER_DELETED = "order deleted"  # gone from the store (WooCommerce's trash)
    STOCK_CHANGED = "stock changed"  # the shop's stock is read again by a sync
    UNINSTALLED = "uninstalled"
    CUSTOMER_REDACT = "customer redact"  # compliance: erase one customer's data
    SHOP_REDACT = "shop redact"  # compliance: erase everything of the shop
    DATA_REQUEST = "data request"  # compliance: a customer asked for their data
    BULK_FINISHED = "bulk finished"  # an export the connector started has finished
    TEST = "test delivery"  # the connector's own test before re-enabling a webhook


@dataclass(frozen=True, slots=True)
class Event:
    """One verified delivery, read: the fields that matter for its kind, the rest left at their defaults."""

    kind: EventKind
    order: RemoteOrder | None = None  # ORDER_CHANGED
    order_id: str | None = None  # ORDER_DELETED
    item_ref: str | None = None  # STOCK_CHANGED: the store's inventory item or product, when it says
    customer_id: str | None = None  # CUSTOMER_REDACT, DATA_REQUEST
    email: str | None = None  # CUSTOMER_REDACT
    order_ids: tuple[str, ...] = ()  # CUSTOMER_REDACT: orders to redact; DATA_REQUEST: orders requested
    bulk_operation: str | None = None  # BULK_FINISHED: the export's id, status and error code
    bulk_status: str | None = None
    bulk_error: str | None = None


@dataclass(frozen=True, slots=True)
class StockRules:
    """How a platform counts stock, which reconcile applies when it builds the allocatable units."""

    # Units the store took off its stock count for a line (WooCommerce's `_reduced_stock`) are still the
    # connector's to allocate, to that very line, so they are added back.
    reduced_stock_counts_back: bool = False
    # Several SKUs may draw on one shared stock item (variations managed by their parent product); those
    # are allocated as one pool, not once per SKU.
    shared_stock_items: bool = False


@dataclass(frozen=True, slots=True)
class OrderFiles:
    """How `connector plan` reads a file of this platform's orders: validators for a list and for one
    order (full records and planning fields only), and the conversions to the neutral and engine records."""

    orders: TypeAdapter[Any]
    order: TypeAdapter[Any]
    planning_orders: TypeAdapter[Any]
    planning_order: TypeAdapter[Any]
    to_remote: Callable[[Any], RemoteOrder]
    to_engine: Callable[[Any], Order]


def json_object(body: bytes, source: str) -> dict[str, Any]:
    """A delivery's body as a JSON object; InputError (the delivery is parked at once) otherwise."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(source, f"the body is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise InputError(source, "the body is not a JSON object")
    return data


def optional_id(value: Any) -> str | None:
    """A store's id as text (stores send numbers or strings), None when absent."""
    return None if value is None or value == "" else str(value)


class PlatformKind:
    """What one platform is, without a connection to any store of it. Subclassed once per platform;
    the adapter class (`Platform`) inherits it, so a client knows its own kind too."""

    name: ClassVar[PlatformName]
    capabilities: ClassVar[Capabilities]
    stock_rules: ClassVar[StockRules] = StockRules()
    # Every topic the inbox applies, and what each means; a topic not here is settled with a note.
    topic_events: ClassVar[Mapping[str, EventKind]]
    # The topics the connector subscribes each shop to (compliance topics may be declared elsewhere).
    webhook_topics: ClassVar[tuple[str, ...]]
    # Whether the app's own configuration (shopify.app.toml) can declare the subscriptions instead,
    # and SHOPIFY_APP_WEBHOOKS=true says it is deployed: shops then get no subscriptions of their own.
    app_declares_webhooks: ClassVar[bool] = False
    order_files: ClassVar[OrderFiles]

    @staticmethod
    def intake_path(shop_id: int) -> str:
        """The path under APP_URL the store delivers this shop's webhooks to."""
        raise NotImplementedError

    @staticmethod
    def event_from_delivery(topic: str, body: bytes, source: str) -> Event:
        """The Event one verified delivery of a topic in `topic_events` means; InputError names what is
        wrong with a body that cannot be read (`source` names the delivery in that message)."""
        raise NotImplementedError

    @classmethod
    def subscribed_topics(cls, *, app_declared: bool) -> tuple[str, ...]:
        """The topics to subscribe a shop to: none when the app's configuration declares them (a shop's
        own subscriptions would double every delivery, so the old ones are removed)."""
        return () if app_declared and cls.app_declares_webhooks else cls.webhook_topics
