"""ShopifyPlatform: the Platform protocol on top of the Admin GraphQL client (reads, idempotent writes)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from connector.errors import ConnectorError, NotFoundError, PlatformError
from connector.platforms.base import (
    HOLD_HANDLE,
    Capabilities,
    HoldRequest,
    OrderMarks,
    PlatformName,
    RemoteOrder,
    ShopProfile,
    StockRecord,
    WebhookInfo,
)

from . import documents as docs
from .bulk import orders_search, run_bulk_orders
from .client import ShopifyClient
from .cost import largest_page
from .mapping import gid, numeric_id, order_from_node, stock_from_item
from .marks import NAMESPACE, TYPES, desired_values, same_value
from .notes import merge_note

log = logging.getLogger(__name__)

# Page sizes are worked out from the requested cost, so no single query exceeds Shopify's cap.
LINE_ITEMS_PER_ORDER = 20
ORDERS_PER_PAGE = largest_page(docs.ORDERS_PAGE_QUERY, "first", {"lineItems": LINE_ITEMS_PER_ORDER})
LINE_ITEMS_PER_PAGE = largest_page(docs.ORDER_LINE_ITEMS_QUERY, "first")
LEVELS_PER_ITEM = 10
INVENTORY_ITEMS_PER_PAGE = largest_page(docs.INVENTORY_ITEMS_QUERY, "first", {"levels": LEVELS_PER_ITEM})
LEVELS_PER_PAGE = largest_page(docs.INVENTORY_ITEM_LEVELS_QUERY, "first")
LINES_PER_FULFILLMENT_ORDER = 50
FULFILLMENT_ORDERS_PER_PAGE = largest_page(docs.FULFILLMENT_ORDERS_QUERY, "first",
                                           {"lineItems": LINES_PER_FULFILLMENT_ORDER})
FULFILLMENT_LINES_PER_PAGE = largest_page(docs.FULFILLMENT_ORDER_LINE_ITEMS_QUERY, "first")
WEBHOOKS_PER_PAGE = largest_page(docs.WEBHOOK_SUBSCRIPTIONS_QUERY, "first")
METAFIELDS_PER_ORDER = 10  # the connector writes three; room for strays in its namespace

# Fulfillment orders in these states cannot be held (or are already done).
UNHOLDABLE_STATES = frozenset({"CLOSED", "CANCELLED", "INCOMPLETE"})
# Mandatory compliance topics are configured in the app's settings, not through the Admin API.
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
DEFAULT_HOLD_NOTE = "Backordered: waiting for stock (set by the backorder connector)"

PageVariables = Mapping[str, Any]


def topic_enum(topic: str) -> str:
    """`orders/create` -> `ORDERS_CREATE`, the WebhookSubscriptionTopic value."""
    return topic.strip().upper().replace("/", "_")


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


class ShopifyPlatform:
    """One Shopify shop behind the Platform protocol."""

    name: PlatformName = "shopify"
    capabilities = Capabilities(tags=True, holds=True, customer_notes=False, marks_batch_size=1)

    def __init__(self, client: ShopifyClient) -> None:
        self.client = client

    def close(self) -> None:
        self.client.close()

    # -- paging -------------------------------------------------------------------------------

    def _connection_pages(self, document: str, variables: PageVariables, path: tuple[str, ...],
                          after: str | None = None) -> Iterator[dict[str, Any]]:
        """Each page (a connection with nodes and pageInfo) until the last; nothing if the owner is gone."""
        cursor = after
        while True:
            connection = _dig(self.client.execute(document, {**variables, "after": cursor}), path)
            if not isinstance(connection, dict):
                return
            yield connection
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return
            cursor = info["endCursor"]

    def _all_nodes(self, first_page: dict[str, Any], document: str, owner_id: str, path: tuple[str, ...],
                   page_size: int) -> list[dict[str, Any]]:
        """The nodes of a nested connection: those already fetched, then any further pages."""
        nodes = list(first_page.get("nodes") or [])
        info = first_page.get("pageInfo") or {}
        if info.get("hasNextPage") and info.get("endCursor"):
            for page in self._connection_pages(document, {"id": owner_id, "first": page_size}, path,
                                               after=info["endCursor"]):
                nodes.extend(page.get("nodes") or [])
        return nodes

    def _order_record(self, node: dict[str, Any]) -> RemoteOrder:
        lines = self._all_nodes(node.get("lineItems") or {}, docs.ORDER_LINE_ITEMS_QUERY, node["id"],
                                ("order", "lineItems"), LINE_ITEMS_PER_PAGE)
        return order_from_node(node, lines)

    # -- reads --------------------------------------------------------------------------------

    def shop_profile(self) -> ShopProfile:
        shop = self.client.execute(docs.SHOP_QUERY).get("shop")
        name = shop.get("name") if isinstance(shop, dict) else None
        return ShopProfile(name=str(name or "").strip())

    def iter_orders(self, updated_since: datetime | None) -> Iterator[RemoteOrder]:
        variables = {"first": ORDERS_PER_PAGE, "lineItems": LINE_ITEMS_PER_ORDER,
                     "search": orders_search(updated_since)}
        for page in self._connection_pages(docs.ORDERS_PAGE_QUERY, variables, ("orders",)):
            for node in page.get("nodes") or []:
                yield self._order_record(node)

    def get_order(self, order_id: str) -> RemoteOrder | None:
        data = self.client.execute(docs.ORDER_QUERY, {"id": gid("Order", order_id),
                                                      "lineItems": LINE_ITEMS_PER_ORDER})
        node = data.get("order")
        return self._order_record(node) if isinstance(node, dict) else None

    def iter_stock(self) -> Iterator[StockRecord]:
        variables = {"first": INVENTORY_ITEMS_PER_PAGE, "levels": LEVELS_PER_ITEM}
        for page in self._connection_pages(docs.INVENTORY_ITEMS_QUERY, variables, ("inventoryItems",)):
            for item in page.get("nodes") or []:
                levels = self._all_nodes(item.get("inventoryLevels") or {}, docs.INVENTORY_ITEM_LEVELS_QUERY,
                                         item["id"], ("inventoryItem", "inventoryLevels"), LEVELS_PER_PAGE)
                yield from stock_from_item(item, levels)

    def iter_all_orders(self) -> Iterator[RemoteOrder]:
        """Every order through one bulk operation: no per-query cost cap, one JSON Lines download."""
        return self.run_bulk_orders(None)

    def run_bulk_orders(self, updated_since: datetime | None, *, poll_interval: float = 5.0) -> Iterator[RemoteOrder]:
        """All orders updated since `updated_since` through a bulk operation (first sync of a big store)."""
        return run_bulk_orders(self.client, updated_since, poll_interval=poll_interval)

    def _order_field(self, document: str, order_id: str, field: str) -> Any:
        order = self.client.execute(document, {"id": gid("Order", order_id)}).get("order")
        if not isinstance(order, dict):
            raise NotFoundError(f"{self.client.domain}: order {order_id} not found")
        return order.get(field)

    # -- tags ---------------------------------------------------------------------------------

    def add_tag(self, order_id: str, tag: str) -> bool:
        tags = self._order_field(docs.ORDER_TAGS_QUERY, order_id, "tags") or []
        if any(existing.lower() == tag.lower() for existing in tags):  # Shopify tags ignore case
            return False
        self.client.mutate(docs.TAGS_ADD_MUTATION, {"id": gid("Order", order_id), "tags": [tag]}, "tagsAdd")
        return True

    def remove_tag(self, order_id: str, tag: str) -> bool:
        tags = self._order_field(docs.ORDER_TAGS_QUERY, order_id, "tags") or []
        present = [existing for existing in tags if existing.lower() == tag.lower()]
        if not present:
            return False
        self.client.mutate(docs.TAGS_REMOVE_MUTATION, {"id": gid("Order", order_id), "tags": present}, "tagsRemove")
        return True

    # -- metafields and note ------------------------------------------------------------------

    def write_marks(self, items: Iterable[tuple[str, OrderMarks]]) -> dict[str, bool]:
        return {order_id: self._write_order_marks(order_id, marks) for order_id, marks in items}

    def _write_order_marks(self, order_id: str, marks: OrderMarks) -> bool:
        owner = gid("Order", order_id)
        order = self.client.execute(docs.ORDER_METAFIELDS_QUERY, {"id": owner, "namespace": NAMESPACE,
                                                                  "first": METAFIELDS_PER_ORDER}).get("order")
        if not isinstance(order, dict):
            raise NotFoundError(f"{self.client.domain}: order {order_id} not found")
        stored = {node["key"]: node.get("value") for node in _dig(order, ("metafields", "nodes")) or []}
        to_set, to_delete = [], []
        for key, wanted in desired_values(marks).items():
            if same_value(key, stored.get(key), wanted):
                continue
            if wanted is None:
                to_delete.append({"ownerId": owner, "namespace": NAMESPACE, "key": key})
            else:
                to_set.append({"ownerId": owner, "namespace": NAMESPACE, "key": key, "type": TYPES[key],
                               "value": wanted})
        if to_set:
            self.client.mutate(docs.METAFIELDS_SET_MUTATION, {"metafields": to_set}, "metafieldsSet")
        if to_delete:
            self.client.mutate(docs.METAFIELDS_DELETE_MUTATION, {"metafields": to_delete}, "metafieldsDelete")
        return bool(to_set or to_delete)

    def write_note(self, order_id: str, text: str) -> bool:
        note = self._order_field(docs.ORDER_NOTE_QUERY, order_id, "note") or ""
        merged = merge_note(note, text)
        if merged == note:
            return False
        self.client.mutate(docs.ORDER_NOTE_UPDATE_MUTATION, {"id": gid("Order", order_id), "note": merged},
                           "orderUpdate")
        return True

    # -- holds --------------------------------------------------------------------------------

    def _fulfillment_orders(self, order_id: str) -> list[dict[str, Any]]:
        variables = {"id": gid("Order", order_id), "first": FULFILLMENT_ORDERS_PER_PAGE,
                     "lineItems": LINES_PER_FULFILLMENT_ORDER}
        found: list[dict[str, Any]] = []
        pages = self._connection_pages(docs.FULFILLMENT_ORDERS_QUERY, variables, ("order", "fulfillmentOrders"))
        for page in pages:
            for node in page.get("nodes") or []:
                node["lines"] = self._all_nodes(node.get("lineItems") or {}, docs.FULFILLMENT_ORDER_LINE_ITEMS_QUERY,
                                                node["id"], ("fulfillmentOrder", "lineItems"),
                                                FULFILLMENT_LINES_PER_PAGE)
                found.append(node)
        return found

    def hold(self, order_id: str, request: HoldRequest) -> bool:
        wanted = {numeric_id(line_id) for line_id in request.line_ids}
        placed = False
        for fulfillment_order in self._fulfillment_orders(order_id):
            if fulfillment_order.get("status") in UNHOLDABLE_STATES:
                continue
            if any(hold.get("handle") == HOLD_HANDLE for hold in fulfillment_order.get("fulfillmentHolds") or []):
                continue  # ours already: holding again would only fail on the duplicate handle
            lines = [
                {"id": line["id"], "quantity": int(line["remainingQuantity"])}
                for line in fulfillment_order["lines"]
                if numeric_id(str(_dig(line, ("lineItem", "id")) or "")) in wanted and line.get("remainingQuantity")
            ]
            if not lines:
                continue
            hold = {"reason": request.reason, "reasonNotes": request.notes or DEFAULT_HOLD_NOTE,
                    "handle": HOLD_HANDLE, "notifyMerchant": False, "fulfillmentOrderLineItems": lines}
            self.client.mutate(docs.FULFILLMENT_ORDER_HOLD_MUTATION, {"id": fulfillment_order["id"], "hold": hold},
                               "fulfillmentOrderHold")
            placed = True
        return placed

    def release(self, order_id: str) -> bool:
        released = False
        for fulfillment_order in self._fulfillment_orders(order_id):
            ours = [hold["id"] for hold in fulfillment_order.get("fulfillmentHolds") or []
                    if hold.get("handle") == HOLD_HANDLE]
            if not ours:
                continue
            self.client.mutate(docs.FULFILLMENT_ORDER_RELEASE_HOLD_MUTATION,
                               {"id": fulfillment_order["id"], "holdIds": ours}, "fulfillmentOrderReleaseHold")
            released = True
        return released

    def send_customer_note(self, order_id: str, text: str, ref: str) -> bool:
        raise ConnectorError("Shopify has no Admin API to email a customer a free-form note "
                             "(capabilities.customer_notes is False); send it through connector.notify")

    # -- webhooks -----------------------------------------------------------------------------

    def ensure_webhooks(self, address: str, topics: Iterable[str]) -> list[WebhookInfo]:
        """Subscribe `address` to each topic it is not yet subscribed to; Shopify signs every delivery
        with the app's API secret, so no per-subscription secret is returned."""
        existing: dict[str, str] = {}
        for page in self._connection_pages(docs.WEBHOOK_SUBSCRIPTIONS_QUERY, {"first": WEBHOOKS_PER_PAGE},
                                           ("webhookSubscriptions",)):
            for node in page.get("nodes") or []:
                if _dig(node, ("endpoint", "callbackUrl")) == address:
                    existing[str(node.get("topic"))] = str(node["id"])
        result: list[WebhookInfo] = []
        for topic in dict.fromkeys(topics):
            if topic in COMPLIANCE_TOPICS:
                continue
            enum = topic_enum(topic)
            if enum in existing:
                result.append(WebhookInfo(existing[enum], topic, "unchanged"))
                continue
            payload = self.client.mutate(docs.WEBHOOK_SUBSCRIPTION_CREATE_MUTATION,
                                         {"topic": enum, "callbackUrl": address}, "webhookSubscriptionCreate")
            created = payload.get("webhookSubscription") or {}
            if not created.get("id"):
                raise PlatformError(f"{self.client.domain}: webhookSubscriptionCreate returned no subscription")
            log.info("shopify %s: subscribed %s", self.client.domain, topic)
            result.append(WebhookInfo(str(created["id"]), topic, "created"))
        return result
