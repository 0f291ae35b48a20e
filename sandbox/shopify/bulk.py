"""Bulk query operations of the Shopify sandbox: run the whole query at once and keep its JSON Lines result.

The operation completes while the mutation runs (the mutation itself still answers `CREATED`, like Shopify,
so clients poll `currentBulkOperation` or `node(id)`). Each node of a connection becomes one line; a nested
connection's nodes become their own lines carrying `__parentId` (the parent's `id`, which the query must
select) and are removed from the parent line, as in Shopify's result files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from graphql import GraphQLResolveInfo, OperationDefinitionNode, OperationType, execute

from sandbox.shopify.model import BulkOperation
from sandbox.shopify.schema import admin_schema, check_document
from sandbox.shopify.state import ShopifyState
from sandbox.shopify.views import View, Views

MAX_CONNECTIONS = 5
MAX_DEPTH = 2


def _is_connection(value: Any) -> bool:
    return isinstance(value, dict) and ("edges" in value or "nodes" in value)


def _items(connection: dict[str, Any]) -> list[dict[str, Any]]:
    if "edges" in connection:
        return [edge["node"] for edge in connection["edges"] if edge and edge.get("node") is not None]
    return [node for node in connection.get("nodes") or [] if node is not None]


class BulkQueryError(ValueError):
    """The bulk query is one Shopify would refuse."""


def flatten(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """JSON Lines records of a bulk query's answer, parents before their children."""
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


class BulkRunner:
    """Resolves `bulkOperationRunQuery`: runs the inner query over every record and stores the JSONL file."""

    def __init__(self, state: ShopifyState, views: Views, query_root: Callable[[], dict[str, Any]],
                 url_for: Callable[[GraphQLResolveInfo, int], str]) -> None:
        self.state = state
        self.views = views
        self.query_root = query_root
        self.url_for = url_for

    def __call__(self, info: GraphQLResolveInfo, query: str) -> View:
        document, problems = check_document(query)
        if document is None:
            return self._refused("Invalid bulk query: " + "; ".join(p["message"] for p in problems))
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
            return self._refused("Bulk queries must contain exactly one query operation.")
        connections = query.count("edges") + query.count("nodes")
        if connections > MAX_CONNECTIONS:
            return self._refused(f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections.")
        result = execute(admin_schema(), document, root_value=self.query_root(), context_value={"bulk": True})
        if result.errors:
            return self._refused("Invalid bulk query: " + "; ".join(e.message for e in result.errors))
        try:
            records = list(flatten(result.data or {}))
        except BulkQueryError as error:
            return self._refused(str(error))
        now = self.state.now()
        op = BulkOperation(self.state.new_id(), query, "COMPLETED", now, now)
        op.body = "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records).encode()
        op.object_count = len(records)
        op.root_object_count = sum(1 for record in records if "__parentId" not in record)
        op.url = self.url_for(info, op.id) if records else None
        self.state.bulk_operations[op.id] = op
        self.state.notify("bulk_operations/finish", op)
        answer = self.views.bulk_operation(op)
        answer.update({"status": "CREATED", "url": None, "completedAt": None, "objectCount": "0", "fileSize": None})
        return {"bulkOperation": answer, "userErrors": []}

    @staticmethod
    def _refused(message: str) -> View:
        return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": message, "code": "INVALID"}]}
