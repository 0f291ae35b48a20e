"""Bulk export of orders: start (or adopt) a bulk query, wait for it, stage its JSON Lines, join them back.

How an export runs:
- start: `bulkOperationRunQuery(groupObjects: false)`. The ungrouped output is the 2026 default and the
  faster one: a line item (`__parentId`) may come anywhere in the file, before or after its order.
- busy: a start answered `OPERATION_IN_PROGRESS` or `LIMIT_REACHED` lists the app's operations; one
  still running this same orders query is adopted, otherwise the running ones are waited for (up to
  `busy_wait` seconds) and the start is tried once more.
- pending: an export the ExportStore still remembers (a run died while waiting, or the finish webhook
  reported it) is adopted instead of starting another one.
- wait: `bulkOperation(id:)` is polled quickly at first, then every `poll_interval`; once the
  `bulk_operations/finish` webhook has been recorded the next poll is made at once.
- settle: the one path for a finished operation, however its end was learnt. COMPLETED: the file is
  streamed into the ExportStore keyed by id and parent id, then read back parents first, a batch at a
  time, each with its children; memory stays flat. FAILED, CANCELED, EXPIRED, or a start the store
  refuses: `BulkUnavailable`, and the caller reads page by page instead. A `partialDataUrl` is never read:
  a part of the orders is not all of them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError, parse, print_ast

from connector.errors import AuthError, InputError, PlatformError, UserError
from connector.platforms.base import ExportStore, RemoteOrder, StagedRow

from .client import ShopifyClient
from .documents import (
    BULK_OPERATION_QUERY,
    BULK_OPERATION_RUN_QUERY_MUTATION,
    BULK_OPERATIONS_QUERY,
    bulk_orders_query,
)
from .mapping import order_from_node

log = logging.getLogger(__name__)

SOURCE = "Shopify bulk result"
FINISHED_STATES = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})
RUNNING_STATES = frozenset({"CREATED", "RUNNING", "CANCELING"})
BUSY_CODES = frozenset({"OPERATION_IN_PROGRESS", "LIMIT_REACHED"})
FIRST_POLL_SECONDS = 0.25
RECENT_OPERATIONS = 10
ASSEMBLE_BATCH = 500


class BulkUnavailable(PlatformError):
    """The bulk export cannot give a complete result this time (refused, failed, cancelled, expired, busy
    for too long): the caller reads the orders page by page instead."""


@dataclass(frozen=True, slots=True)
class BulkPolicy:
    poll_interval: float = 5.0
    timeout: float = 4 * 3600.0  # a long-running export; the paged read takes over after that
    busy_wait: float = 600.0  # how long other bulk queries may hold the shop's slots before giving up


def orders_search(updated_since: datetime | None) -> str | None:
    """The order search for "updated at or after", seconds precision, in UTC."""
    if updated_since is None:
        return None
    moment = updated_since if updated_since.tzinfo else updated_since.replace(tzinfo=UTC)
    return f"updated_at:>='{moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def same_query(one: str | None, other: str | None) -> bool:
    """Whether two bulk queries are the same document, whatever their spacing."""
    if not one or not other:
        return False
    try:
        return print_ast(parse(one)) == print_ast(parse(other))
    except GraphQLError:
        return False


def bulk_operation(client: ShopifyClient, operation_id: str) -> dict[str, Any] | None:
    found = client.execute(BULK_OPERATION_QUERY, {"id": operation_id}).get("bulkOperation")
    return found if isinstance(found, dict) else None


def recent_operations(client: ShopifyClient) -> list[dict[str, Any]]:
    """The app's latest bulk queries on this shop, newest first."""
    data = client.execute(BULK_OPERATIONS_QUERY, {"first": RECENT_OPERATIONS, "search": "operation_type:query"})
    nodes = ((data.get("bulkOperations") or {}).get("nodes")) or []
    return [node for node in nodes if isinstance(node, dict)]


# -- starting or adopting ----------------------------------------------------------------------


def _adoptable(operation: dict[str, Any] | None, query: str) -> bool:
    if operation is None or not same_query(operation.get("query"), query):
        return False
    status = operation.get("status")
    return status in RUNNING_STATES or (status == "COMPLETED" and bool(operation.get("url")))


def _run(client: ShopifyClient, query: str) -> dict[str, Any]:
    try:
        payload = client.mutate(BULK_OPERATION_RUN_QUERY_MUTATION, {"query": query}, "bulkOperationRunQuery")
    except UserError as error:
        if error.code in BUSY_CODES:
            raise
        raise BulkUnavailable(f"{client.domain}: the store refused the bulk query ({error})", code=error.code) from None
    except AuthError as error:
        if error.code != "ACCESS_DENIED" or error.status == 401:
            raise
        raise BulkUnavailable(f"{client.domain}: bulk queries are not allowed ({error})", code=error.code) from None
    operation = payload.get("bulkOperation") or {}
    if not operation.get("id"):
        raise BulkUnavailable(f"{client.domain}: bulkOperationRunQuery returned no operation")
    return {"query": query, **operation}


def _wait_for_a_slot(client: ShopifyClient, query: str, policy: BulkPolicy) -> dict[str, Any] | None:
    """While other bulk queries hold the shop: ours among them to adopt, or None once they are done."""
    deadline = client.clock() + policy.busy_wait
    wait = min(FIRST_POLL_SECONDS, policy.poll_interval)
    while True:
        running = [op for op in recent_operations(client) if op.get("status") in RUNNING_STATES]
        ours = next((op for op in running if same_query(op.get("query"), query)), None)
        if ours is not None:
            return ours
        if not running:
            return None
        if client.clock() >= deadline:
            raise BulkUnavailable(f"{client.domain}: {len(running)} other bulk queries still hold the shop after "
                                  f"{policy.busy_wait:.0f}s", code="LIMIT_REACHED")
        log.info("shopify %s: %d other bulk queries running; waiting %.1fs", client.domain, len(running), wait)
        client.sleep(wait)
        wait = min(wait * 2, policy.poll_interval)


def start_or_adopt(client: ShopifyClient, store: ExportStore, query: str, policy: BulkPolicy) -> dict[str, Any]:
    """The operation that will produce `query`'s result: one already in flight, or a new one."""
    pending = store.pending()
    if pending is not None:
        operation = bulk_operation(client, pending.operation_id)
        if _adoptable(operation, query):
            assert operation is not None
            log.info("shopify %s: adopting bulk operation %s (%s)", client.domain, operation["id"], operation["status"])
            return operation
    try:
        operation = _run(client, query)
    except UserError:  # busy: the codes _run lets through
        ours = _wait_for_a_slot(client, query, policy)
        if ours is not None:
            log.info("shopify %s: adopting running bulk operation %s", client.domain, ours["id"])
            store.remember(str(ours["id"]))
            return ours
        try:
            operation = _run(client, query)
        except UserError as error:
            raise BulkUnavailable(f"{client.domain}: bulk query still refused after waiting ({error})",
                                  code=error.code) from None
    store.remember(str(operation["id"]))
    return operation


# -- waiting ----------------------------------------------------------------------------------


def wait_for_bulk(client: ShopifyClient, store: ExportStore, operation_id: str, policy: BulkPolicy) -> dict[str, Any]:
    """Poll until the operation has finished (however it ended); a recorded finish webhook skips the pause."""
    deadline = client.clock() + policy.timeout
    wait = min(FIRST_POLL_SECONDS, policy.poll_interval)
    while True:
        operation = bulk_operation(client, operation_id)
        if operation is None:
            raise BulkUnavailable(f"{client.domain}: bulk operation {operation_id} is gone")
        status = operation.get("status")
        if status in FINISHED_STATES:
            return operation
        if client.clock() >= deadline:
            raise BulkUnavailable(f"{client.domain}: bulk operation still {status} after {policy.timeout:.0f}s")
        log.debug("shopify %s bulk %s: %s, %s objects", client.domain, operation_id, status,
                  operation.get("objectCount"))
        if not store.finished(operation_id):
            client.sleep(wait)
            wait = min(wait * 2, policy.poll_interval)


# -- settling ---------------------------------------------------------------------------------


@dataclass
class _Tally:
    parents: int = 0
    children: int = 0


def staged_rows(lines: Iterable[bytes | str], tally: _Tally) -> Iterator[StagedRow]:
    """Each JSON line of a result as (id, parent id, text), checked on the way."""
    for number, raw in enumerate(lines, 1):
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError:
            raise InputError(SOURCE, "not a JSON object", line=number) from None
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise InputError(SOURCE, "not a JSON object with an id", line=number)
        parent = record.get("__parentId")
        if parent is None:
            tally.parents += 1
        elif not isinstance(parent, str):
            raise InputError(SOURCE, "__parentId is not an id", line=number)
        else:
            tally.children += 1
        yield record["id"], parent, text


def _position(record: dict[str, Any]) -> tuple[int, str]:
    tail = str(record.get("id", "")).rsplit("/", 1)[-1]
    return (int(tail), "") if tail.isdigit() else (0, tail)


def orders_from_store(store: ExportStore, operation_id: str, tally: _Tally, *, contact_denied: bool = False,
                      domain: str = "") -> Iterator[RemoteOrder]:
    """Orders rebuilt from staged lines: each parent with every child naming it, wherever it was in the file."""
    joined = 0
    for batch in store.parents(operation_id, ASSEMBLE_BATCH):
        children = store.children(operation_id, [record_id for record_id, _ in batch])
        for record_id, body in batch:
            # In line-item order whatever the file's order: the engine allocates stock line by line.
            lines = sorted((json.loads(text) for text in children.get(record_id, ())), key=_position)
            joined += len(lines)
            node = json.loads(body)
            yield order_from_node(node, lines, contact_withheld=contact_denied and not node.get("email"))
    if joined != tally.children:
        log.warning("shopify %s: %d line items in the bulk result name no order in it; ignored", domain,
                    tally.children - joined)


def settle(client: ShopifyClient, store: ExportStore, operation: dict[str, Any], *,
           contact_denied: bool = False) -> Iterator[RemoteOrder]:
    """What a finished operation gives: its orders when COMPLETED, BulkUnavailable otherwise."""
    status, code = operation.get("status"), operation.get("errorCode")
    url = operation.get("url")
    if status != "COMPLETED" or (not url and operation.get("partialDataUrl")):
        partial = "; its partial result is not used" if operation.get("partialDataUrl") else ""
        raise BulkUnavailable(f"{client.domain}: bulk operation ended {status} ({code or 'no error code'}){partial}",
                              code=code)
    operation_id = str(operation["id"])
    tally = _Tally()
    if not url:  # it matched nothing
        store.stage(operation_id, ())
        return
    response = client.stream_lines(url)
    with response:
        store.stage(operation_id, staged_rows(response.iter_lines(), tally))
    log.info("shopify %s: bulk result staged (%d orders, %d line items)", client.domain, tally.parents, tally.children)
    yield from orders_from_store(store, operation_id, tally, contact_denied=contact_denied, domain=client.domain)


def run_bulk_orders(client: ShopifyClient, store: ExportStore, updated_since: datetime | None, *,
                    policy: BulkPolicy | None = None, contact_denied: bool = False) -> Iterator[RemoteOrder]:
    """Every order updated since `updated_since` (all when None) through one bulk operation."""
    rules = policy or BulkPolicy()
    query = bulk_orders_query(orders_search(updated_since))
    operation = start_or_adopt(client, store, query, rules)
    if operation.get("status") not in FINISHED_STATES:
        operation = wait_for_bulk(client, store, str(operation["id"]), rules)
    yield from settle(client, store, operation, contact_denied=contact_denied)
