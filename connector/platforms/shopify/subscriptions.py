"""Webhook subscriptions by `uri`: made, read back and reconciled so none is duplicated or left stale.

A subscription is this connector's when its topic is one the intake serves or its uri is the intake's
address. Of those, exactly one per wanted topic at the current address is kept; duplicates, ones at an
old address (APP_URL changed) and ones for topics no longer wanted are deleted. Subscriptions of other
topics to other addresses are left alone. Compliance topics are declared in shopify.app.toml (or the
Partner Dashboard), never through the Admin API.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from connector.errors import PlatformError
from connector.platforms.base import WebhookInfo

from . import documents as docs
from .client import ShopifyClient

log = logging.getLogger(__name__)

COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
# Every topic the intake and inbox handle (besides compliance); the only ones this connector subscribes to.
SERVED_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "inventory_levels/update",
    "app/uninstalled",
    "bulk_operations/finish",
)


def topic_enum(topic: str) -> str:
    """`orders/create` -> `ORDERS_CREATE`, the WebhookSubscriptionTopic value."""
    return topic.strip().upper().replace("/", "_")


SERVED_ENUMS = {topic_enum(topic): topic for topic in SERVED_TOPICS}


def topic_name(enum: str) -> str:
    """`ORDERS_PARTIALLY_FULFILLED` -> `orders/partially_fulfilled` for the topics the connector knows."""
    return SERVED_ENUMS.get(enum, enum.lower())


def reconcile_subscriptions(client: ShopifyClient, existing: Iterable[dict[str, Any]], address: str,
                            topics: Iterable[str]) -> Iterator[WebhookInfo]:
    """Bring the shop's subscriptions to one per wanted topic at `address`."""
    wanted = {topic_enum(topic): topic for topic in dict.fromkeys(topics) if topic not in COMPLIANCE_TOPICS}
    kept: dict[str, str] = {}
    for node in existing:
        enum, uri, subscription_id = str(node.get("topic")), node.get("uri"), str(node["id"])
        if uri == address and enum in wanted and enum not in kept:
            kept[enum] = subscription_id
            continue
        if enum not in SERVED_ENUMS and uri != address:
            continue  # someone else's use of this app
        why = ("a duplicate" if uri == address and enum in wanted
               else "for a topic no longer wanted" if uri == address else f"at an old address ({uri})")
        client.mutate(docs.WEBHOOK_SUBSCRIPTION_DELETE_MUTATION, {"id": subscription_id}, "webhookSubscriptionDelete")
        log.info("shopify %s: removed the %s subscription %s", client.domain, topic_name(enum), why)
        yield WebhookInfo(subscription_id, topic_name(enum), "removed", note=f"removed: {why}")
    for enum, topic in wanted.items():
        if enum in kept:
            yield WebhookInfo(kept[enum], topic, "unchanged")
            continue
        payload = client.mutate(docs.WEBHOOK_SUBSCRIPTION_CREATE_MUTATION, {"topic": enum, "uri": address},
                                "webhookSubscriptionCreate")
        created = payload.get("webhookSubscription") or {}
        if not created.get("id"):
            raise PlatformError(f"{client.domain}: webhookSubscriptionCreate returned no subscription")
        log.info("shopify %s: subscribed %s", client.domain, topic)
        yield WebhookInfo(str(created["id"]), topic, "created")
