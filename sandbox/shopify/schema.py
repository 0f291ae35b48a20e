"""Shopify's Admin GraphQL schema (2026-04, built once from its SDL) and Shopify-shaped validation errors."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, build_schema, parse, validate

API_VERSION = "2026-04"
SCHEMA_FILE = f"admin_{API_VERSION}.schema.graphql.gz"


@lru_cache(maxsize=1)
def admin_schema() -> GraphQLSchema:
    """The Admin API schema; `assume_valid` because Shopify serves deprecation mismatches graphql-core rejects.
    Building it takes a second or two, once per process."""
    source = resources.files("sandbox.schema").joinpath(SCHEMA_FILE)
    with source.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        return build_schema(text.read(), assume_valid=True)


def _error(message: str, code: str, locations: list[dict[str, int]] | None, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"message": message}
    if locations:
        entry["locations"] = locations
    entry["extensions"] = {"code": code, **extra}
    return entry


# graphql-core message -> Shopify (graphql-ruby) message and error code.
_TRANSLATIONS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, str, dict[str, Any]]]]] = [
    (re.compile(r"Cannot query field '(\w+)' on type '(\w+)'"),
     lambda m: (f"Field '{m[1]}' doesn't exist on type '{m[2]}'", "undefinedField",
                {"typeName": m[2], "fieldName": m[1]})),
    (re.compile(r"Unknown argument '(\w+)' on field '(\w+)\.(\w+)'"),
     lambda m: (f"Field '{m[3]}' doesn't accept argument '{m[1]}'", "argumentNotAccepted",
                {"name": m[3], "typeName": "Field", "argumentName": m[1]})),
    (re.compile(r"Field '(\w+)' argument '(\w+)' of type '(.+)' is required, but it was not provided"),
     lambda m: (f"Field '{m[1]}' is missing required arguments: {m[2]}", "missingRequiredArguments",
                {"className": "Field", "name": m[1], "arguments": m[2]})),
    (re.compile(r"Field '(\w+)' of type '(.+)' must have a selection of subfields"),
     lambda m: (f"Field must have selections (field '{m[1]}' returns {m[2].strip('!')} but has no selections. "
                f"Did you mean '{m[1]} {{ ... }}'?)", "selectionMismatch", {"nodeName": f"field '{m[1]}'"})),
    (re.compile(r"Field '(\w+)' must not have a selection since type '(.+)' has no subfields"),
     lambda m: (f"Selections can't be made on scalars (field '{m[1]}' returns {m[2]} but has selections "
                f"[...])", "selectionMismatch", {"nodeName": f"field '{m[1]}'"})),
    (re.compile(r"Unknown type '(\w+)'"),
     lambda m: (f"No such type {m[1]}, so it can't be a fragment condition", "undefinedType", {"typeName": m[1]})),
    (re.compile(r"Variable '\$(\w+)' is never used"),
     lambda m: (f"Variable ${m[1]} is declared but not used", "variableNotUsed", {"variableName": m[1]})),
    (re.compile(r"Variable '\$(\w+)' is not defined"),
     lambda m: (f"Variable ${m[1]} is used but not declared", "variableNotDefined", {"variableName": m[1]})),
    (re.compile(r"Argument '(\w+)' has invalid value|Expected value of type '(.+)', found"),
     lambda m: (m.string, "argumentLiteralsIncompatible", {"typeName": "CoercionError"})),
]


def shopify_error(error: GraphQLError) -> dict[str, Any]:
    """One graphql-core validation error in the shape Shopify answers with."""
    locations = [{"line": loc.line, "column": loc.column} for loc in error.locations or []]
    for pattern, translate in _TRANSLATIONS:
        match = pattern.search(error.message)
        if match:
            message, code, extra = translate(match)
            return _error(message, code, locations, **extra)
    return _error(error.message.rstrip("."), "validationError", locations)


def check_document(source: str) -> tuple[DocumentNode | None, list[dict[str, Any]]]:
    """Parse and validate a document against the Admin schema; (document, []) when Shopify would run it."""
    if not source or not source.strip():
        return None, [_error("No query string was present", "missingQuery", None)]
    try:
        document = parse(source)
    except GraphQLError as error:
        locations = [{"line": loc.line, "column": loc.column} for loc in error.locations or []]
        return None, [_error(error.message.removeprefix("Syntax Error: ").rstrip("."), "parseError", locations)]
    problems = validate(admin_schema(), document)
    if problems:
        return None, [shopify_error(problem) for problem in problems]
    return document, []
