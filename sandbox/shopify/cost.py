"""Query cost as Shopify counts it (requested before running, actual from the answer) and the leaky bucket.

Rules (Shopify publishes the principle, not the formula; these reproduce its documented examples):
object 1, scalar/enum 0, a connection 2 + n x (cost of one node) where n is `first`/`last` when requested
and the number of nodes returned when actual, a mutation field 10 whatever its payload, `pageInfo` and
`__typename` free. `nodes(ids:)` costs one object per id asked for; other lists that are not
connections cost one object (no multiplier): a simplification.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

MAX_SINGLE_QUERY_COST = 1000
MAX_PAGE_SIZE = 250
MUTATION_COST = 10
_ABSENT = object()


class CostError(Exception):
    """The document cannot be costed: a connection without `first`/`last`, or a page over 250."""

    def __init__(self, message: str, code: str, node: FieldNode) -> None:
        super().__init__(message)
        self.code = code
        self.locations = [{"line": node.loc.source.get_location(node.loc.start).line,
                           "column": node.loc.source.get_location(node.loc.start).column}] if node.loc else []


@dataclass(slots=True)
class _Walk:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    strict: bool  # raise CostError for unsized connections (normal queries; bulk queries page everything)

    def selection(self, selection_set: SelectionSetNode | None, parent: Any, data: Any) -> int:
        if selection_set is None:
            return 0
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(node, parent, data)
            elif isinstance(node, InlineFragmentNode):
                condition = self.schema.get_type(node.type_condition.name.value) if node.type_condition else parent
                total += self.selection(node.selection_set, condition, data)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    condition = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selection(fragment.selection_set, condition, data)
        return total

    def field(self, node: FieldNode, parent: Any, data: Any) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            return 0
        definition: GraphQLField | None = parent.fields.get(name)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named) or name == "pageInfo":
            return 0
        value = _ABSENT
        if data is not _ABSENT:
            value = data.get((node.alias or node.name).value) if isinstance(data, Mapping) else None
            if value is None:
                return 0
        if _is_connection(named):
            return self.connection(node, named, value)
        if isinstance(value, list):
            return sum(1 + self.selection(node.selection_set, named, item) for item in value if item is not None)
        ids = next((value_from_ast_untyped(arg.value, dict(self.variables)) for arg in node.arguments
                    if arg.name.value == "ids"), None)
        if value is _ABSENT and isinstance(ids, list):
            # Requested: as many objects as ids, each its most expensive possible type.
            return len(ids) * (1 + self.selection(node.selection_set, named, value))
        return 1 + self.selection(node.selection_set, named, value)

    def connection(self, node: FieldNode, connection_type: Any, value: Any) -> int:
        arguments = {arg.name.value: value_from_ast_untyped(arg.value, dict(self.variables)) for arg in node.arguments}
        size = arguments.get("first") if arguments.get("first") is not None else arguments.get("last")
        if self.strict and value is _ABSENT:
            if size is None:
                raise CostError("you must provide one of first or last", "BAD_REQUEST", node)
            if not 0 <= int(size) <= MAX_PAGE_SIZE:
                raise CostError(f"The value of `first`/`last` must be between 0 and {MAX_PAGE_SIZE}, "
                                f"got {size}", "BAD_REQUEST", node)
        total = 2
        for child in _fields(node.selection_set, self.fragments):
            child_name = child.name.value
            if child_name not in ("edges", "nodes"):
                continue
            item_type = get_named_type(connection_type.fields[child_name].type)
            item_selection = child.selection_set
            if child_name == "edges":
                node_field = next((f for f in _fields(child.selection_set, self.fragments) if f.name.value == "node"), None)
                if node_field is None:
                    continue
                item_type = get_named_type(item_type.fields["node"].type)
                item_selection = node_field.selection_set
            if value is _ABSENT:
                total += int(size or 0) * (1 + self.selection(item_selection, item_type, _ABSENT))
                continue
            for item in value.get((child.alias or child.name).value) or []:
                if child_name == "edges" and node_field is not None:  # edges hold their node one level down
                    item = item.get((node_field.alias or node_field.name).value) if item else None
                if item is not None:
                    total += 1 + self.selection(item_selection, item_type, item)
        return total


def _is_connection(named: Any) -> bool:
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection") and (
        "edges" in named.fields or "nodes" in named.fields)


def _fields(selection_set: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode]) -> list[FieldNode]:
    found: list[FieldNode] = []
    for node in selection_set.selections if selection_set else ():
        if isinstance(node, FieldNode):
            found.append(node)
        elif isinstance(node, InlineFragmentNode):
            found += _fields(node.selection_set, fragments)
        elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
            found += _fields(fragments[node.name.value].selection_set, fragments)
    return found


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        return next((op for op in operations if op.name and op.name.value == operation_name), None)
    return operations[0] if len(operations) == 1 else None


def query_cost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
               variables: Mapping[str, Any], data: Mapping[str, Any] | None = None, *, strict: bool = True) -> int:
    """Requested cost when `data` is None; actual cost of the answer `data` otherwise."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walk = _Walk(schema, fragments, variables, strict)
    if operation.operation == OperationType.MUTATION:
        fields = _fields(operation.selection_set, fragments)
        if data is None:
            return MUTATION_COST * len(fields)
        return MUTATION_COST * sum(1 for f in fields if data.get((f.alias or f.name).value) is not None)
    root = schema.query_type
    return walk.selection(operation.selection_set, root, _ABSENT if data is None else data)


class LeakyBucket:
    """Shopify's cost bucket: `size` points, refilled at `restore_rate` points per second of `clock`."""

    def __init__(self, size: float = 1000, restore_rate: float = 100, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = float(size)
        self.restore_rate = float(restore_rate)
        self.clock = clock
        self._available = float(size)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self.clock()
        self._available = min(self.size, self._available + max(0.0, now - self._stamp) * self.restore_rate)
        self._stamp = now

    @property
    def available(self) -> float:
        self._refill()
        return self._available

    def take(self, points: float) -> bool:
        """Spend `points` if the bucket holds them; False (nothing spent) otherwise."""
        self._refill()
        if points > self._available:
            return False
        self._available -= points
        return True

    def refund(self, points: float) -> None:
        self._refill()
        self._available = min(self.size, self._available + max(0.0, points))

    def drain(self) -> None:
        self._refill()
        self._available = 0.0

    def configure(self, *, size: float | None = None, restore_rate: float | None = None,
                  available: float | None = None) -> None:
        self._refill()
        if size is not None:
            if size <= 0:
                raise ValueError("bucket size must be positive")
            self.size = float(size)
        if restore_rate is not None:
            if restore_rate <= 0:
                raise ValueError("restore rate must be positive")
            self.restore_rate = float(restore_rate)
        self._available = min(self.size, self._available if available is None else max(0.0, float(available)))

    def status(self) -> dict[str, float]:
        return {"maximumAvailable": self.size, "currentlyAvailable": round(self.available),
                "restoreRate": self.restore_rate}
