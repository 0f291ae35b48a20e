"""Bulk query operations of the Shopify sandbox, the way a 2026 store runs them.

The inner query runs over every record when the operation starts and its JSON Lines result is kept: each
node of a connection becomes one line, a nested connection's nodes become their own lines carrying
`__parentId` (the parent's `id`, which the query must select), as in Shopify's result files.

- Output is ungrouped unless the start asks for `groupObjects: true` (or `output` is "grouped"): the lines
  are shuffled with a seeded generator, so a line item comes before or after its order.
- An operation answers CREATED, then stays RUNNING for `running_polls` status reads (`bulkOperation`,
  `bulkOperations`, `node`) and then finishes as `ends` says: COMPLETED, or FAILED (with `error_code`),
  CANCELED or EXPIRED, leaving a `partialDataUrl` when `partial`. Finishing sends `bulk_operations/finish`.
- At most `concurrent_limit` bulk queries run per app (2026-04: five); one more is answered
  `LIMIT_REACHED` (`OPERATION_IN_PROGRESS` when the limit is one, as before 2026-01). `refuse` answers
  every start with that userError code, or with a top-level ACCESS_DENIED error.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, OperationDefinitionNode, OperationType, execute_sync

from sandbox.shopify.model import BulkOperation
from sandbox.shopify.schema import admin_schema, check_document
from sandbox.shopify.state import ShopifyState
from sandbox.shopify.views import View, Views

MAX_CONNECTIONS = 5
MAX_DEPTH = 2
RUNNING = frozenset({"CREATED", "RUNNING"})
ENDINGS = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})
ANY_APP = ""  # an operation every app's listing shows (one the control API started to occupy the shop)


@dataclass
class BulkRules:
    """How the sandbox runs bulk queries; changed over `POST /_sandbox/bulk`."""

    output: str = "ungrouped"  # or "grouped"
    shuffle_seed: int = 7
    running_polls: int = 0
    ends: str = "COMPLETED"
    error_code: str | None = None
    partial: bool = False
    refuse: str | None = None
    concurrent_limit: int = 5

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key == "output" and value not in ("ungrouped", "grouped"):
                raise ValueError("output must be ungrouped or grouped")
            if key == "ends" and value not in ENDINGS:
                raise ValueError(f"ends must be one of {', '.join(sorted(ENDINGS))}")
            if key in ("running_polls", "shuffle_seed", "concurrent_limit"):
                value = int(value)
                if value < (1 if key == "concurrent_limit" else 0):
                    raise ValueError(f"{key} is too small")
            if key not in self.as_dict():
                raise ValueError(f"unknown bulk setting {key!r}")
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_connection(value: Any) -> bool:
    return isinstance(value, dict) and ("edges" in value or "nodes" in value)


def _items(connection: dict[str, Any]) -> list[dict[str, Any]]:
    if "edges" in connection:
        return [edge["node"] for edge in connection["edges"] if edge and edge.get("node") is not None]
    return [node for node in connection.get("nodes") or [] if node is not None]


class BulkQueryError(ValueError):
    """The bulk query is one Shopify would refuse."""


def flatten(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """JSON Lines records of a bulk query's answer, parents before their children (the grouped order)."""
    roots = [value for value in data.values() if _is_connection(value)]
    if not roots:
        raise BulkQueryError("Bulk queries must contain at least one connection.")

    def emit(node: dict[str, Any], parent_id: str | None, depth: int) -> Iterator[dict[str, Any]]:
        record = {key: value for key, value in node.items() if not _is_connection(value)}
        nested = [value for value in node.values() if _is_connection(value)]
        if parent_id is not None:
            record["__parentId"] = parent_id
        yield record
        if nested and "id" not in node:
            raise BulkQueryError("The parent 'node' field for a nested connection must select the 'id' field "
                                 "without an alias and must be of 'ID' return type.")
        if nested and depth >= MAX_DEPTH:
            raise BulkQueryError(f"Bulk queries cannot contain connections with a nesting depth greater than {MAX_DEPTH}.")
        for connection in nested:
            for child in _items(connection):
                yield from emit(child, node["id"], depth + 1)

    for connection in roots:
        for node in _items(connection):
            yield from emit(node, None, 1)


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records).encode()


class BulkRunner:
    """Resolves `bulkOperationRunQuery` and moves operations along as their status is read."""

    def __init__(self, state: ShopifyState, views: Views, query_root: Callable[[], dict[str, Any]],
                 url_for: Callable[[str, int, bool], str], rules: BulkRules | None = None) -> None:
        self.state = state
        self.views = views
        self.query_root = query_root
        self.url_for = url_for
        self.rules = rules or BulkRules()

    # -- starting -----------------------------------------------------------------------------

    def __call__(self, info: GraphQLResolveInfo, query: str, group_objects: bool = False) -> View:
        rules = self.rules
        if rules.refuse == "ACCESS_DENIED":
            raise GraphQLError("Access denied for bulkOperationRunQuery field.",
                               extensions={"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/api/usage/access-scopes"})
        if rules.refuse:
            return self._refused(f"Bulk query refused ({rules.refuse}).", rules.refuse)
        document, problems = check_document(query)
        if document is None:
            return self._refused("Invalid bulk query: " + "; ".join(p["message"] for p in problems))
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
            return self._refused("Bulk queries must contain exactly one query operation.")
        if query.count("edges") + query.count("nodes") > MAX_CONNECTIONS:
            return self._refused(f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections.")
        app = str(info.context.get("app", "")) if isinstance(info.context, dict) else ""
        running = [op for op in self.state.bulk_operations.values()
                   if op.status in RUNNING and op.app in (app, ANY_APP)]
        if len(running) >= rules.concurrent_limit:
            if rules.concurrent_limit == 1:
                return self._refused("A bulk query operation for this app and shop is already in progress: "
                                     f"{self.views.bulk_operation(running[0])['id']}.", "OPERATION_IN_PROGRESS")
            return self._refused(f"Bulk query operations are limited to {rules.concurrent_limit} at a time per app "
                                 "and shop.", "LIMIT_REACHED")
        context = {**(info.context if isinstance(info.context, dict) else {}), "bulk": True}
        outcome = self.records(query, context, grouped=group_objects)
        if isinstance(outcome, str):
            return self._refused(outcome)
        op = self.start(query, app, outcome, base_url=str(context.get("base_url", "")))
        answer = self.views.bulk_operation(op)
        answer.update({"status": "CREATED", "url": None, "completedAt": None, "objectCount": "0", "fileSize": None,
                       "partialDataUrl": None})
        return {"bulkOperation": answer, "userErrors": []}

    def records(self, query: str, context: dict[str, Any], *, grouped: bool = False) -> list[dict[str, Any]] | str:
        """The result lines of a bulk query (shuffled unless grouped), or why Shopify would refuse it."""
        document, problems = check_document(query)
        if document is None:
            return "Invalid bulk query: " + "; ".join(p["message"] for p in problems)
        result = execute_sync(admin_schema(), document, root_value=self.query_root(),
                              context_value={**context, "bulk": True})
        if result.errors:
            return "Invalid bulk query: " + "; ".join(e.message for e in result.errors)
        try:
            records = list(flatten(result.data or {}))
        except BulkQueryError as error:
            return str(error)
        if not (grouped or self.rules.output == "grouped"):
            random.Random(self.rules.shuffle_seed).shuffle(records)  # ungrouped: children before or after parents
        return records

    def start(self, query: str, app: str, records: list[dict[str, Any]], *, base_url: str,
              polls: int | None = None) -> BulkOperation:
        """Record a new operation (finishing it at once when it needs no polls)."""
        now = self.state.now()
        op = BulkOperation(self.state.new_id(), query, "RUNNING", now, app=app)
        op.body = _jsonl(records)
        op.object_count = len(records)
        op.root_object_count = sum(1 for record in records if "__parentId" not in record)
        op.polls_left = self.rules.running_polls if polls is None else polls
        op.ends, op.error_code = self.rules.ends, self.rules.error_code
        op.url = self.url_for(base_url, op.id, False) if records else None
        op.partial_url = self.url_for(base_url, op.id, True) if self.rules.partial and records else None
        self.state.bulk_operations[op.id] = op
        if op.polls_left <= 0:
            self.finish(op)
        return op

    @staticmethod
    def _refused(message: str, code: str = "INVALID") -> View:
        return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": message, "code": code}]}

    # -- running and finishing ----------------------------------------------------------------

    def advance(self, op: BulkOperation) -> None:
        """One status read of a running operation: it finishes once its polls are used up."""
        if op.status not in RUNNING:
            return
        op.polls_left -= 1
        if op.polls_left <= 0:
            self.finish(op)

    def finish(self, op: BulkOperation) -> None:
        if op.status not in RUNNING:
            return
        op.status = op.ends
        op.completed_at = self.state.now()
        if op.status == "COMPLETED":
            op.partial_url = None
        else:
            op.url = None  # only a partial file, if any, is left
        self.state.notify("bulk_operations/finish", op)

    def finish_all(self) -> int:
        running = [op for op in self.state.bulk_operations.values() if op.status in RUNNING]
        for op in running:
            self.finish(op)
        return len(running)

    def result(self, op: BulkOperation, partial: bool) -> bytes | None:
        """The file behind `url` (COMPLETED) or `partialDataUrl` (the first half, of an operation that failed)."""
        if partial:
            if op.partial_url is None:
                return None
            lines = op.body.splitlines(keepends=True)
            return b"".join(lines[: len(lines) // 2])
        return op.body if op.status == "COMPLETED" else None
