"""Shopify's inbound side: the topics it delivers, where, what each delivery means, and what it can do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from connector.platforms.base import Capabilities, PlatformName
from connector.platforms.inbound import Event, EventKind, OrderFiles, PlatformKind, json_object, optional_id
from connector.platforms.shopify import payloads, storefront
from connector.platforms.shopify.subscriptions import SERVED_TOPICS

ORDER_TOPICS = ("orders/create", "orders/updated", "orders/cancelled", "orders/fulfilled", "orders/partially_fulfilled")
INTAKE_PATH = "/webhooks/shopify"


WRITE_BATCH_ORDERS = 25  # orders whose push-back one write_batch takes (batch.py sizes its requests)


class ShopifyKind(PlatformKind):
    """Shopify as a kind of store; `ShopifyPlatform` (one shop through its API) inherits it."""

    name: ClassVar[PlatformName] = "shopify"
    capabilities: ClassVar[Capabilities] = Capabilities(tags=True, holds=True, customer_notes=False,
                                                        marks_batch_size=1, storefront_batch_size=storefront.PER_CALL,
                                                        write_batch_size=WRITE_BATCH_ORDERS)
    topic_events: ClassVar[Mapping[str, EventKind]] = {
        **{topic: EventKind.ORDER_CHANGED for topic in ORDER_TOPICS},
        "inventory_levels/update": EventKind.STOCK_CHANGED,
        "app/uninstalled": EventKind.UNINSTALLED,
        "customers/redact": EventKind.CUSTOMER_REDACT,
        "shop/redact": EventKind.SHOP_REDACT,
        "customers/data_request": EventKind.DATA_REQUEST,
        "bulk_operations/finish": EventKind.BULK_FINISHED,
    }
    # The compliance topics are declared in shopify.app.toml only: a shop cannot subscribe to them.
    webhook_topics: ClassVar[tuple[str, ...]] = SERVED_TOPICS
    app_declares_webhooks: ClassVar[bool] = True
    order_files: ClassVar[OrderFiles] = OrderFiles(
        orders=payloads.ORDERS_ADAPTER, order=payloads.ORDER_ADAPTER,
        planning_orders=payloads.PLANNING_ORDERS_ADAPTER, planning_order=payloads.PLANNING_ORDER_ADAPTER,
        to_remote=payloads.order_from_payload, to_engine=payloads.engine_order_from_payload,
    )

    @staticmethod
    def intake_path(shop_id: int) -> str:
        return INTAKE_PATH  # one address for every shop: the shop's domain comes in a signed header

    @staticmethod
    def event_from_delivery(topic: str, body: bytes, source: str) -> Event:
        kind = ShopifyKind.topic_events[topic]
        named = f"{source} ({topic})"
        if kind in (EventKind.UNINSTALLED, EventKind.SHOP_REDACT):
            return Event(kind)  # the shop is the whole subject; the body adds nothing
        data = json_object(body, f"{source} (shopify {topic})")
        if kind is EventKind.ORDER_CHANGED:
            return Event(kind, order=payloads.order_from_webhook(data, source=named))
        if kind is EventKind.STOCK_CHANGED:
            return Event(kind, item_ref=optional_id(data.get("inventory_item_id") or data.get("id")))
        if kind is EventKind.BULK_FINISHED:
            operation, status, error_code = payloads.bulk_finish_from_webhook(data, named)
            return Event(kind, bulk_operation=operation, bulk_status=status, bulk_error=error_code)
        raw_customer = data.get("customer")
        customer: dict[str, Any] = raw_customer if isinstance(raw_customer, dict) else {}
        customer_id = optional_id(customer.get("id"))
        if kind is EventKind.CUSTOMER_REDACT:
            return Event(kind, customer_id=customer_id, email=customer.get("email"),
                         order_ids=tuple(str(order) for order in data.get("orders_to_redact") or ()))
        return Event(kind, customer_id=customer_id,
                     order_ids=tuple(str(order) for order in data.get("orders_requested") or ()))

