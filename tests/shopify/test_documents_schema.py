"""Every GraphQL document the Shopify connector sends validates against Shopify's Admin schema (2025-01)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_client_schema, parse, validate
from graphql.validation import NoDeprecatedCustomRule

from connector.platforms.shopify import documents

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schema" / "admin_schema_2025-01.json.gz"
SAMPLE_SEARCH = "updated_at:>='2026-10-01T00:00:00Z'"


def _documents() -> dict[str, str]:
    """Every module constant that is a document or a template; new ones are picked up automatically."""
    found = {}
    for name, value in vars(documents).items():
        if not isinstance(value, str) or not name.isupper():
            continue
        if name.endswith(("_QUERY", "_MUTATION")):
            found[name] = value
        elif name.endswith("_TEMPLATE"):
            found[name] = value.replace(documents.BULK_SEARCH_PLACEHOLDER, json.dumps(SAMPLE_SEARCH))
    return found


DOCUMENTS = _documents()


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    with gzip.open(SCHEMA_PATH) as handle:
        return build_client_schema(json.load(handle)["data"], assume_valid=True)


def test_the_discovery_sees_the_documents_the_connector_needs() -> None:
    for expected in ("ORDERS_PAGE_QUERY", "TAGS_ADD_MUTATION", "METAFIELDS_SET_MUTATION",
                     "FULFILLMENT_ORDER_RELEASE_HOLD_MUTATION", "BULK_ORDERS_TEMPLATE"):
        assert expected in DOCUMENTS
    assert len(DOCUMENTS) >= 20


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_is_valid_for_the_admin_schema(schema: GraphQLSchema, name: str) -> None:
    assert validate(schema, parse(DOCUMENTS[name])) == []


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_uses_no_field_already_deprecated_in_2025_01(schema: GraphQLSchema, name: str) -> None:
    # the client asks for 2026-10: a field deprecated in 2025-01 may be gone by then
    assert validate(schema, parse(DOCUMENTS[name]), [NoDeprecatedCustomRule]) == []


def test_bulk_query_splices_the_search_as_a_string_literal(schema: GraphQLSchema) -> None:
    tricky = "updated_at:>='2026-10-01' \"quoted\" \\ é"
    document = documents.bulk_orders_query(tricky)
    assert validate(schema, parse(document)) == []
    assert validate(schema, parse(documents.bulk_orders_query(None))) == []


def test_a_broken_document_would_be_caught(schema: GraphQLSchema) -> None:
    assert validate(schema, parse("query { orders(first: 1) { nodes { noSuchField } } }")) != []
