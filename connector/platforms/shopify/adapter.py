"""ShopifyPlatform: the Platform protocol on top of the Admin GraphQL client (reads, idempotent writes)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from connector.errors import AuthError, ConnectorError, NotFoundError, Skipped
from connector.platforms.base import (
    AccessReport,
    CancelOutcome,
    CancelRequest,
    ExportStore,
    HoldRequest,
    OrderMarks,
    ReadySplit,
    RemoteOrder,
    ShopProfile,
    StockRecord,
    StorefrontEta,
    WebhookInfo,
    WriteOutcome,
    WriteRequest,
)
from connector.platforms.staging import MemoryExportStore

from . import documents as docs
from . import storefront
from .batch import BatchedWrites
from .bulk import BulkPolicy, BulkUnavailable, orders_search, run_bulk_orders
from .client import Answer, ShopifyClient
from .cost import largest_page
from .holds import place_holds, release_holds, split_ready
from .kind import ShopifyKind
from .mapping import gid, order_from_node, stock_from_item
from .marks import NAMESPACE, TYPES, desired_values, same_value
from .notes import merge_note
from .refunds import cancel_units
from .scopes import DEFAULT_SCOPES, access_report, has_scope, parse_scopes, requested_scopes
from .subscriptions import reconcile_subscriptions

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

PageVariables = Mapping[str, Any]


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _email_withheld(answer: Answer, *prefix: str | int) -> bool:
    return any(path[:1] == ("email",) for path in answer.withheld_under(*prefix))


class ShopifyPlatform(ShopifyKind):
    """One Shopify shop behind the Platform protocol."""

    def __init__(self, client: ShopifyClient, *, exports: ExportStore | None = None,
                 required_scopes: Iterable[str] | None = None, granted_scopes: Iterable[str] | None = None,
                 bulk_policy: BulkPolicy | None = None, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client = client
        self.exports: ExportStore = exports if exports is not None else MemoryExportStore()
        self.required_scopes = tuple(required_scopes) if required_scopes is not None else requested_scopes(DEFAULT_SCOPES)
        # What the store last said it granted; None until known (writes are then tried, not skipped).
        self.granted: tuple[str, ...] | None = tuple(granted_scopes) if granted_scopes is not None else None
        self.contact_denied = False
        self.bulk_policy = bulk_policy or BulkPolicy()
        self._now = now
        self._staged = False

    def close(self) -> None:
        if self._staged:
            self.exports.discard()  # the staged lines of a bulk result are not kept past the sync
        self.client.close()

    # -- access -------------------------------------------------------------------------------

    def check_access(self) -> AccessReport:
        """Granted scopes from the store itself, and whether it withholds customers' contact details."""
        try:
            answer = self.client.read(docs.ACCESS_QUERY)
        except AuthError as error:
            if error.code != "ACCESS_DENIED" or error.status == 401:
                raise
            # orders cannot be read at all: the scopes alone, so the report says which one is missing
            answer = Answer(self.client.execute(docs.ACCESS_SCOPES_QUERY))
        installation = answer.data.get("currentAppInstallation") or {}
        self.granted = parse_scopes(str(scope["handle"]) for scope in installation.get("accessScopes") or []
                                    if isinstance(scope, dict) and scope.get("handle"))
        self.contact_denied = any(path[-1:] == ("email",) for path in answer.withheld)
        return access_report(self.granted, self.required_scopes, now=self._now(), contact_denied=self.contact_denied)

    def _require(self, scope: str, what: str) -> None:
        if self.granted is not None and not has_scope(self.granted, scope):
            raise Skipped(f"{what} needs the {scope} scope, which the store has not granted")

    # -- paging -------------------------------------------------------------------------------

    def _connection_pages(self, document: str, variables: PageVariables, path: tuple[str, ...],
                          after: str | None = None) -> Iterator[dict[str, Any]]:
        """Each page (a connection with nodes and pageInfo) until the last; nothing if the owner is gone."""
        for connection, _answer in self._answer_pages(document, variables, path, after, partial=False):
            yield connection

    def _answer_pages(self, document: str, variables: PageVariables, path: tuple[str, ...],
                      after: str | None = None, *, partial: bool = True) -> Iterator[tuple[dict[str, Any], Answer]]:
        """Each page with the answer it came in (to see which protected fields were withheld)."""
        cursor = after
        while True:
            page_variables = {**variables, "after": cursor}
            answer = (self.client.read(document, page_variables) if partial
                      else Answer(self.client.execute(document, page_variables)))
            connection = _dig(answer.data, path)
            if not isinstance(connection, dict):
                return
            yield connection, answer
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

    def _order_record(self, node: dict[str, Any], contact_withheld: bool = False) -> RemoteOrder:
        lines = self._all_nodes(node.get("lineItems") or {}, docs.ORDER_LINE_ITEMS_QUERY, node["id"],
                                ("order", "lineItems"), LINE_ITEMS_PER_PAGE)
        if contact_withheld:
            self.contact_denied = True
        return order_from_node(node, lines, contact_withheld=contact_withheld)

    # -- reads --------------------------------------------------------------------------------

    def shop_profile(self) -> ShopProfile:
        shop = self.client.execute(docs.SHOP_QUERY).get("shop")
        name = shop.get("name") if isinstance(shop, dict) else None
        return ShopProfile(name=str(name or "").strip())

    def iter_orders(self, updated_since: datetime | None) -> Iterator[RemoteOrder]:
        """Orders page by page. Protected customer fields Shopify withholds come back null with an
        ACCESS_DENIED error each: such orders are kept, marked "contact not available"."""
        variables = {"first": ORDERS_PER_PAGE, "lineItems": LINE_ITEMS_PER_ORDER,
                     "search": orders_search(updated_since)}
        for page, answer in self._answer_pages(docs.ORDERS_PAGE_QUERY, variables, ("orders",)):
            for index, node in enumerate(page.get("nodes") or []):
                yield self._order_record(node, _email_withheld(answer, "orders", "nodes", index))

    def get_order(self, order_id: str) -> RemoteOrder | None:
        answer = self.client.read(docs.ORDER_QUERY, {"id": gid("Order", order_id), "lineItems": LINE_ITEMS_PER_ORDER})
        node = answer.data.get("order")
        return self._order_record(node, _email_withheld(answer, "order")) if isinstance(node, dict) else None

    def iter_stock(self) -> Iterator[StockRecord]:
        self._require("read_inventory", "reading stock")
        variables = {"first": INVENTORY_ITEMS_PER_PAGE, "levels": LEVELS_PER_ITEM}
        for page in self._connection_pages(docs.INVENTORY_ITEMS_QUERY, variables, ("inventoryItems",)):
            for item in page.get("nodes") or []:
                levels = self._all_nodes(item.get("inventoryLevels") or {}, docs.INVENTORY_ITEM_LEVELS_QUERY,
                                         item["id"], ("inventoryItem", "inventoryLevels"), LEVELS_PER_PAGE)
                yield from stock_from_item(item, levels)

    def iter_all_orders(self) -> Iterator[RemoteOrder]:
        """Every order through one bulk operation (no per-query cost cap, one JSON Lines download); page by
        page, after one warning line, when the bulk export is refused, fails, is cancelled or expires."""
        yielded = 0
        try:
            for order in self.run_bulk_orders(None):
                yielded += 1
                yield order
        except BulkUnavailable as why:
            if yielded:
                raise
            log.warning("shopify %s: bulk export unavailable, reading orders page by page instead: %s",
                        self.client.domain, why)
            yield from self.iter_orders(None)

    def run_bulk_orders(self, updated_since: datetime | None, *,
                        poll_interval: float | None = None) -> Iterator[RemoteOrder]:
        """All orders updated since `updated_since` (all when None) through a bulk operation (first sync of a
        big store); raises BulkUnavailable rather than give a partial result."""
        policy = self.bulk_policy if poll_interval is None else replace(self.bulk_policy, poll_interval=poll_interval)
        self._staged = True
        return run_bulk_orders(self.client, self.exports, updated_since, policy=policy,
                               contact_denied=self.contact_denied)

    def _order_field(self, document: str, order_id: str, field: str) -> Any:
        order = self.client.execute(document, {"id": gid("Order", order_id)}).get("order")
        if not isinstance(order, dict):
            raise NotFoundError(f"{self.client.domain}: order {order_id} not found")
        return order.get(field)

    # -- tags ---------------------------------------------------------------------------------

    def add_tag(self, order_id: str, tag: str) -> bool:
        self._require("write_orders", "tagging orders")
        tags = self._order_field(docs.ORDER_TAGS_QUERY, order_id, "tags") or []
        if any(existing.lower() == tag.lower() for existing in tags):  # Shopify tags ignore case
            return False
        self.client.mutate(docs.TAGS_ADD_MUTATION, {"id": gid("Order", order_id), "tags": [tag]}, "tagsAdd")
        return True

    def remove_tag(self, order_id: str, tag: str) -> bool:
        self._require("write_orders", "untagging orders")
        tags = self._order_field(docs.ORDER_TAGS_QUERY, order_id, "tags") or []
        present = [existing for existing in tags if existing.lower() == tag.lower()]
        if not present:
            return False
        self.client.mutate(docs.TAGS_REMOVE_MUTATION, {"id": gid("Order", order_id), "tags": present}, "tagsRemove")
        return True

    # -- metafields and note ------------------------------------------------------------------

    def write_marks(self, items: Iterable[tuple[str, OrderMarks]]) -> dict[str, bool]:
        self._require("write_orders", "writing ETA metafields")
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

    # -- storefront ETA -------------------------------------------------------------------------

    def prepare_storefront(self) -> None:
        self._require("write_products", "writing the storefront ETA on variants")
        storefront.create_definition(self.client)

    def write_storefront_etas(self, items: Sequence[StorefrontEta]) -> dict[str, str | None]:
        self._require("write_products", "writing the storefront ETA on variants")
        return storefront.write_etas(self.client, items)

    def write_batch(self, requests: Sequence[WriteRequest]) -> dict[int, WriteOutcome]:
        """Many orders' writes: one `nodes(ids:)` read per batch and aliased mutation documents (batch.py)."""
        return BatchedWrites(self).write(requests)

    def prepare_customer_notes(self, items: Sequence[tuple[str, str]]) -> None:
        """Nothing to prepare: Shopify sends no customer notes (notices go through connector.notify)."""

    def write_note(self, order_id: str, text: str) -> bool:
        self._require("write_orders", "writing the order note")
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
        return place_holds(self.client, self._fulfillment_orders(order_id), request, self.granted)

    def release(self, order_id: str) -> bool:
        return release_holds(self.client, self._fulfillment_orders(order_id))

    # -- cancel and refund ----------------------------------------------------------------------

    def cancel_units(self, order_id: str, request: CancelRequest) -> CancelOutcome:
        self._require("write_orders", "refunding and cancelling orders")
        return cancel_units(self.client, order_id, request)

    def ship_ready(self, order_id: str, split: ReadySplit) -> bool:
        return split_ready(self.client, self._fulfillment_orders(order_id), split)

    def send_customer_note(self, order_id: str, text: str, ref: str) -> bool:
        raise ConnectorError("Shopify has no Admin API to email a customer a free-form note "
                             "(capabilities.customer_notes is False); send it through connector.notify")

    # -- webhooks -----------------------------------------------------------------------------

    def ensure_webhooks(self, address: str, topics: Iterable[str],
                        *, secrets: Mapping[str, str] | None = None) -> list[WebhookInfo]:
        """One subscription per topic at `address`, made and read back by `uri`; duplicates and stale ones
        are removed. Shopify signs every delivery with the app's API secret, so no secret is returned."""
        existing = [node for page in self._connection_pages(docs.WEBHOOK_SUBSCRIPTIONS_QUERY,
                                                            {"first": WEBHOOKS_PER_PAGE}, ("webhookSubscriptions",))
                    for node in page.get("nodes") or []]
        return list(reconcile_subscriptions(self.client, existing, address, topics))
