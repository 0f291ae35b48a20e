"""WooCommerce's inbound side: the topics it delivers, where, what each delivery means, and what it can do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from connector.errors import InputError
from connector.platforms.base import Capabilities, PlatformName
from connector.platforms.inbound import (
    Event,
    EventKind,
    OrderFiles,
    PlatformKind,
    StockRules,
    json_object,
    optional_id,
)
from connector.platforms.woocommerce import payloads, storefront
from connector.platforms.woocommerce.webhook_check import TEST_TOPIC

BATCH_LIMIT = 100  # WooCommerce's default woocommerce_rest_batch_items_limit
ORDER_TOPICS = ("order.created", "order.updated", "order.restored")
PRODUCT_TOPICS = ("product.created", "product.updated", "product.deleted", "product.restored")


class WooKind(PlatformKind):
    """WooCommerce as a kind of store; `WooPlatform` (one store through its REST API) inherits it."""

    name: ClassVar[PlatformName] = "woocommerce"
    capabilities: ClassVar[Capabilities] = Capabilities(tags=False, holds=False, customer_notes=True,
                                                        marks_batch_size=BATCH_LIMIT,
                                                        storefront_batch_size=storefront.PER_CALL,
                                                        write_batch_size=BATCH_LIMIT)
    # Stock is taken off when an order is paid (lines marked `_reduced_stock`), and a variation may have
    # its stock managed by its parent product.
    stock_rules: ClassVar[StockRules] = StockRules(reduced_stock_counts_back=True, shared_stock_items=True)
    topic_events: ClassVar[Mapping[str, EventKind]] = {
        **{topic: EventKind.ORDER_CHANGED for topic in ORDER_TOPICS},
        "order.deleted": EventKind.ORDER_DELETED,
        **{topic: EventKind.STOCK_CHANGED for topic in PRODUCT_TOPICS},
        TEST_TOPIC: EventKind.TEST,
    }
    webhook_topics: ClassVar[tuple[str, ...]] = ("order.created", "order.updated", "order.deleted", "product.updated")
    order_files: ClassVar[OrderFiles] = OrderFiles(
        orders=payloads.ORDERS_ADAPTER, order=payloads.ORDER_ADAPTER,
        planning_orders=payloads.PLANNING_ORDERS_ADAPTER, planning_order=payloads.PLANNING_ORDER_ADAPTER,
        to_remote=payloads.order_from_payload, to_engine=payloads.engine_order_from_payload,
    )

    @staticmethod
    def intake_path(shop_id: int) -> str:
        return f"/webhooks/woocommerce/{shop_id}"  # per shop: the signature is checked with that shop's secret

    @staticmethod
    def event_from_delivery(topic: str, body: bytes, source: str) -> Event:
        kind = WooKind.topic_events[topic]
        if kind is EventKind.TEST:
            return Event(kind)
        data = json_object(body, f"{source} (woocommerce {topic})")
        if kind is EventKind.ORDER_CHANGED:
            return Event(kind, order=payloads.order_from_rest(data, source=f"{source} ({topic})"))
        if kind is EventKind.ORDER_DELETED:
            order_id = optional_id(data.get("id"))
            if order_id is None:
                raise InputError(f"{source} ({topic})", "the body names no order id")
            return Event(kind, order_id=order_id)
        return Event(kind, item_ref=optional_id(data.get("id")))
