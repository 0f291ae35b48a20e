"""Bulk export of orders: start a bulk query, wait for it, stream its JSON Lines back as RemoteOrders."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from connector.errors import InputError, PlatformError
from connector.platforms.base import RemoteOrder

from .client import ShopifyClient
from .documents import (
    BULK_OPERATION_QUERY,
    BULK_OPERATION_RUN_QUERY_MUTATION,
    CURRENT_BULK_OPERATION_QUERY,
    bulk_orders_query,
)
from .mapping import order_from_node

log = logging.getLogger(__name__)

SOURCE = "Shopify bulk result"
FAILED_STATES = frozenset({"FAILED", "CANCELED", "EXPIRED"})


def orders_search(updated_since: datetime | None) -> str | None:
    """The order search for "updated at or after", seconds precision, in UTC."""
    if updated_since is None:
        return None
    moment = updated_since if updated_since.tzinfo else updated_since.replace(tzinfo=UTC)
    return f"updated_at:>='{moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def start_bulk_orders(client: ShopifyClient, updated_since: datetime | None) -> str:
    """Start the bulk query; returns the BulkOperation id."""
    payload = client.mutate(BULK_OPERATION_RUN_QUERY_MUTATION,
                            {"query": bulk_orders_query(orders_search(updated_since))}, "bulkOperationRunQuery")
    operation = payload.get("bulkOperation") or {}
    if not operation.get("id"):
        raise PlatformError(f"{client.domain}: bulkOperationRunQuery returned no operation")
    return str(operation["id"])


FIRST_POLL_SECONDS = 0.25


def current_bulk_operation(client: ShopifyClient) -> dict[str, Any] | None:
    """The app's latest bulk query operation on this shop, if any."""
    return client.execute(CURRENT_BULK_OPERATION_QUERY).get("currentBulkOperation")


def wait_for_bulk(client: ShopifyClient, operation_id: str, *, poll_interval: float = 5.0,
                  timeout: float = 4 * 3600.0) -> str | None:
    """Poll until the operation finishes; returns its result URL (None when it matched nothing).

    Polls quickly at first (a small store's export is ready in a second) and backs off to
    `poll_interval`, so a long export costs few queries.
    """
    deadline = client.clock() + timeout
    wait = min(FIRST_POLL_SECONDS, poll_interval)
    while True:
        operation = client.execute(BULK_OPERATION_QUERY, {"id": operation_id}).get("node") or {}
        status = operation.get("status")
        if status == "COMPLETED":
            return operation.get("url") or None
        if status in FAILED_STATES:
            raise PlatformError(f"{client.domain}: bulk operation ended {status} ({operation.get('errorCode')})",
                                code=operation.get("errorCode"))
        if client.clock() >= deadline:
            raise PlatformError(f"{client.domain}: bulk operation still {status} after {timeout:.0f}s")
        log.debug("shopify %s bulk %s: %s, %s objects", client.domain, operation_id, status,
                  operation.get("objectCount"))
        client.sleep(wait)
        wait = min(wait * 2, poll_interval)


def orders_from_jsonl(lines: Iterable[bytes | str]) -> Iterator[RemoteOrder]:
    """Reassemble orders from a bulk result, one line at a time.

    Shopify writes each child (a line item, with `__parentId`) after its parent order, so an order
    is complete once the next order starts; nothing but the current order is held in memory.
    """
    current: dict[str, Any] | None = None
    children: list[dict[str, Any]] = []
    for number, raw in enumerate(lines, 1):
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError:
            raise InputError(SOURCE, "not a JSON object", line=number) from None
        if not isinstance(record, dict):
            raise InputError(SOURCE, "not a JSON object", line=number)
        parent = record.pop("__parentId", None)
        if parent is None:
            if current is not None:
                yield order_from_node(current, children)
            current, children = record, []
        elif current is not None and parent == current.get("id"):
            children.append(record)
        else:
            raise InputError(SOURCE, f"line item of {parent} does not follow its order", line=number)
    if current is not None:
        yield order_from_node(current, children)


def run_bulk_orders(client: ShopifyClient, updated_since: datetime | None, *, poll_interval: float = 5.0,
                    timeout: float = 4 * 3600.0) -> Iterator[RemoteOrder]:
    """Every order updated since `updated_since` (all when None) through one bulk operation."""
    operation_id = start_bulk_orders(client, updated_since)
    url = wait_for_bulk(client, operation_id, poll_interval=poll_interval, timeout=timeout)
    if url is None:
        return
    response = client.stream_lines(url)
    with response:
        yield from orders_from_jsonl(response.iter_lines())
