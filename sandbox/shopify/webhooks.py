"""Signed webhook deliveries from the Shopify sandbox, sent from a background thread so answers are never blocked.

Who receives a change: every subscription (made with `webhookSubscriptionCreate`) to its topic; when no
subscription covers the topic, the configured `webhook_url` (if any) gets it. Bodies are REST-shaped JSON
like Shopify's (snake_case, numeric ids), signed with base64 HMAC-SHA256 of the raw body under the API secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import queue
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from sandbox.common import FaultPlan
from sandbox.shopify.model import BulkOperation, Order, gid, rest_time
from sandbox.shopify.state import ShopifyState

log = logging.getLogger(__name__)

# GraphQL WebhookSubscriptionTopic -> the topic string of deliveries (the split is not derivable from the name).
TOPIC_NAMES = {
    "ORDERS_CREATE": "orders/create", "ORDERS_UPDATED": "orders/updated", "ORDERS_CANCELLED": "orders/cancelled",
    "ORDERS_FULFILLED": "orders/fulfilled", "ORDERS_PARTIALLY_FULFILLED": "orders/partially_fulfilled",
    "INVENTORY_LEVELS_UPDATE": "inventory_levels/update", "BULK_OPERATIONS_FINISH": "bulk_operations/finish",
    "APP_UNINSTALLED": "app/uninstalled", "CUSTOMERS_DATA_REQUEST": "customers/data_request",
    "CUSTOMERS_REDACT": "customers/redact", "SHOP_REDACT": "shop/redact",
}
DEFAULT_API_VERSION = "2026-10"


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def order_payload(state: ShopifyState, order: Order, *, withhold_contact: bool = False) -> dict[str, Any]:
    """The order as Shopify's REST webhooks serialise it (the parts the connector reads, and a few more);
    with `withhold_contact`, without the protected customer fields, as an app without approval gets it."""
    customer = order.customer
    statuses = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}
    email = None if withhold_contact else order.email
    return {
        "id": order.id, "admin_graphql_api_id": gid("Order", order.id), "name": order.name,
        "order_number": int("".join(ch for ch in order.name if ch.isdigit()) or 0),
        "email": email, "contact_email": email, "created_at": rest_time(order.created_at),
        "updated_at": rest_time(order.updated_at), "processed_at": rest_time(order.created_at),
        "cancelled_at": rest_time(order.cancelled_at), "closed_at": rest_time(order.updated_at) if order.closed else None,
        "note": order.note, "tags": ", ".join(order.tags), "note_attributes": [], "currency": "USD",
        "financial_status": order.financial_status.lower(),
        "fulfillment_status": statuses.get(order.fulfillment_status), "customer_locale": order.locale,
        "customer": None if customer is None else {
            "id": customer.id, "admin_graphql_api_id": gid("Customer", customer.id),
            "email": None if withhold_contact else customer.email,
            "first_name": None if withhold_contact else customer.first_name,
            "last_name": None if withhold_contact else customer.last_name, "locale": customer.locale},
        "line_items": [{
            "id": line.id, "admin_graphql_api_id": gid("LineItem", line.id), "sku": line.sku, "title": line.title,
            "name": line.title, "quantity": line.quantity, "current_quantity": line.current,
            "fulfillable_quantity": line.unfulfilled_quantity,
            "fulfillment_status": "fulfilled" if line.unfulfilled_quantity == 0 and line.current else None,
            "requires_shipping": line.requires_shipping, "variant_id": line.variant_id,
            "product_id": state.variants[line.variant_id].product_id if line.variant_id in state.variants else None,
        } for line in order.lines],
    }


def inventory_payload(state: ShopifyState, key: tuple[int, int]) -> dict[str, Any]:
    item_id, location_id = key
    return {"inventory_item_id": item_id, "location_id": location_id,
            "available": state.levels.get(key, {}).get("available", 0), "updated_at": rest_time(state.now()),
            "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}"}


def bulk_payload(op: BulkOperation) -> dict[str, Any]:
    return {"admin_graphql_api_id": gid("BulkOperation", op.id), "completed_at": rest_time(op.completed_at),
            "created_at": rest_time(op.created_at), "error_code": op.error_code, "status": op.status.lower(),
            "type": "query"}


@dataclass(slots=True)
class Delivery:
    """One webhook the sandbox sent (or dropped on purpose); `status` is pending, delivered, failed or dropped."""

    webhook_id: str
    event_id: str
    topic: str
    url: str
    body: bytes
    headers: dict[str, str]
    status: str = "pending"
    http_status: int | None = None
    error: str | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def summary(self) -> dict[str, Any]:
        return {"webhook_id": self.webhook_id, "event_id": self.event_id, "topic": self.topic, "url": self.url,
                "status": self.status, "http_status": self.http_status, "error": self.error,
                "payload": json.loads(self.body)}


class WebhookDispatcher:
    """Turns state changes into signed deliveries and posts them from one worker thread, in order."""

    def __init__(self, state: ShopifyState, api_secret: str, *, webhook_url: str | None = None,
                 faults: FaultPlan | None = None, timeout: float = 2.0) -> None:
        self.state = state
        self.webhook_url = webhook_url
        self.faults = faults or FaultPlan()
        self.timeout = timeout
        self._secret = api_secret
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self.deliveries: list[Delivery] = []
        self._session = requests.Session()
        self.access: Any = None  # the sandbox's Access: without protected data approval, payloads are redacted
        state.add_listener(self.on_change)

    def __repr__(self) -> str:  # the secret stays out of reprs and logs
        return f"WebhookDispatcher(shop={self.state.shop!r}, webhook_url={self.webhook_url!r})"

    def on_change(self, topic: str, record: Any) -> None:
        if isinstance(record, Order):
            withhold = self.access is not None and not self.access.protected_data
            payload = order_payload(self.state, record, withhold_contact=withhold)
        elif isinstance(record, BulkOperation):
            payload = bulk_payload(record)
        elif isinstance(record, tuple):
            payload = inventory_payload(self.state, record)
        else:
            payload = dict(record)
        self.emit(topic, payload)

    def targets(self, topic: str) -> list[tuple[str, str]]:
        """(callback URL, API version) of everyone who should receive `topic`."""
        found = [(s.uri, s.api_version) for s in self.state.subscriptions.values()
                 if TOPIC_NAMES.get(s.topic, s.topic.lower()) == topic]
        if not found and self.webhook_url:
            found = [(self.webhook_url, DEFAULT_API_VERSION)]
        return list(dict.fromkeys(found))

    def emit(self, topic: str, payload: dict[str, Any]) -> list[Delivery]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        event_id = str(uuid.uuid4())
        created: list[Delivery] = []
        for url, version in self.targets(topic):
            delivery = Delivery(str(uuid.uuid4()), event_id, topic, url, body, {
                "Content-Type": "application/json", "X-Shopify-Topic": topic,
                "X-Shopify-Hmac-Sha256": sign(body, self._secret), "X-Shopify-Shop-Domain": self.state.shop,
                "X-Shopify-API-Version": version, "X-Shopify-Event-Id": event_id,
                "X-Shopify-Triggered-At": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            })
            delivery.headers["X-Shopify-Webhook-Id"] = delivery.webhook_id
            self.deliveries.append(delivery)
            created.append(delivery)
            if self.faults.should_drop_webhook():
                delivery.status = "dropped"
                continue
            self._ensure_thread()
            self._queue.put(delivery)
        return created

    def _ensure_thread(self) -> None:
        with self._thread_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="shopify-sandbox-webhooks", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            delivery = self._queue.get()
            try:
                if delivery is None:
                    return
                self._send(delivery)
            finally:
                self._queue.task_done()

    def _send(self, delivery: Delivery) -> None:
        try:
            answer = self._session.post(delivery.url, data=delivery.body, headers=delivery.headers,
                                        timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as error:
            delivery.status, delivery.error = "failed", type(error).__name__
            log.info("webhook %s to %s failed: %s", delivery.topic, delivery.url, type(error).__name__)
            return
        delivery.http_status = answer.status_code
        delivery.status = "delivered" if 200 <= answer.status_code < 300 else "failed"

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery has been attempted; False if `timeout` seconds passed first."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=self.timeout + 1)
        self._session.close()
