"""Estimates the requested cost Shopify charges for a GraphQL document, so pages stay under the cap.

Shopify's formula is not published; this follows its documented rules: scalars and enums cost 0,
an object 1, a connection 2 plus `first`/`last` times the cost of one node, a mutation 10, and
`nodes(ids:)` one object per id asked for.
`orders(first: 250) { edges { node { lineItems(first: 10) { ... } } } }` comes to
2 + 250 * (1 + 2 + 10) = 3,252, the figure Shopify's own docs give for that shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    parse,
    value_from_ast_untyped,
)

MAX_QUERY_COST = 1000  # Shopify refuses any single query requesting more, whatever the plan
MUTATION_COST = 10
CONNECTION_COST = 2
PAGE_CAP = 250  # Shopify's largest page


@lru_cache(maxsize=128)
def parsed(document: str) -> DocumentNode:
    return parse(document)


def operation_of(document: str) -> OperationDefinitionNode:
    for definition in parsed(document).definitions:
        if isinstance(definition, OperationDefinitionNode):
            return definition
    raise ValueError("document has no operation")


def operation_name(document: str) -> str:
    op = operation_of(document)
    return op.name.value if op.name else "anonymous"


def requested_cost(document: str, variables: Mapping[str, Any] | None = None) -> int:
    """The points Shopify will request for `document` run with `variables`."""
    op = operation_of(document)
    values = _variable_values(op, variables or {})
    if op.operation == OperationType.MUTATION:
        return MUTATION_COST * sum(1 for sel in op.selection_set.selections if isinstance(sel, FieldNode))
    return _selection_cost(op.selection_set, values)


def largest_page(document: str, size_variable: str, variables: Mapping[str, Any] | None = None,
                 budget: int = MAX_QUERY_COST, cap: int = PAGE_CAP) -> int:
    """The largest `size_variable` (up to `cap`) for which the document's cost stays within `budget`."""
    fixed = dict(variables or {})
    low, high = 0, cap
    while low < high:
        middle = (low + high + 1) // 2
        if requested_cost(document, {**fixed, size_variable: middle}) <= budget:
            low = middle
        else:
            high = middle - 1
    if low == 0:
        raise ValueError(f"{operation_name(document)} exceeds {budget} points even with {size_variable}=1")
    return low


def _variable_values(op: OperationDefinitionNode, given: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for definition in op.variable_definitions:
        name = definition.variable.name.value
        if name in given:
            values[name] = given[name]
        elif definition.default_value is not None:
            values[name] = value_from_ast_untyped(definition.default_value)
    return values


def _page_size(field: FieldNode, values: Mapping[str, Any]) -> int | None:
    for argument in field.arguments:
        if argument.name.value not in ("first", "last"):
            continue
        node = argument.value
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, VariableNode):
            name = node.name.value
            if values.get(name) is None:
                raise ValueError(f"page size variable ${name} has no value")
            return int(values[name])
    return None


def _selection_cost(selection_set: SelectionSetNode | None, values: Mapping[str, Any]) -> int:
    if selection_set is None:
        return 0
    total = 0
    fragments = [0]
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(selection, values)
        elif isinstance(selection, InlineFragmentNode):
            # a union or interface costs its most expensive possible type
            fragments.append(_selection_cost(selection.selection_set, values))
        else:
            raise ValueError("named fragments are not used by the connector's documents")
    return total + max(fragments)


def _ids_count(field: FieldNode, values: Mapping[str, Any]) -> int | None:
    """How many objects a `nodes(ids:)` list asks for."""
    for argument in field.arguments:
        if argument.name.value == "ids":
            given = value_from_ast_untyped(argument.value, dict(values))
            return len(given) if isinstance(given, list) else 1
    return None


def _field_cost(field: FieldNode, values: Mapping[str, Any]) -> int:
    if field.selection_set is None:
        return 0
    size = _page_size(field, values)
    if size is None:
        each = 1 + _selection_cost(field.selection_set, values)
        count = _ids_count(field, values)
        return each if count is None else count * each
    per_node = 0
    for selection in field.selection_set.selections:
        if not isinstance(selection, FieldNode):
            continue
        if selection.name.value == "nodes":
            per_node = max(per_node, 1 + _selection_cost(selection.selection_set, values))
        elif selection.name.value == "edges" and selection.selection_set is not None:
            for inner in selection.selection_set.selections:
                if isinstance(inner, FieldNode) and inner.name.value == "node":
                    per_node = max(per_node, 1 + _selection_cost(inner.selection_set, values))
    return CONNECTION_COST + size * per_node
