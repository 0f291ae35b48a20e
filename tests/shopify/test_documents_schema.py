"""Every GraphQL document the Shopify connector sends validates against the 2026-04 Admin schema (the
schema of record) and uses nothing Shopify marks deprecated, in 2026-04 or in its unstable schema."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate
from graphql.validation import NoDeprecatedCustomRule

from connector.platforms.shopify import documents

SCHEMAS = Path(__file__).resolve().parents[1] / "schema"
RECORD = SCHEMAS / "admin_2026-04.schema.graphql.gz"
UNSTABLE = SCHEMAS / "admin_unstable_2025-10-09.schema.graphql.gz"
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


def _load(path: Path) -> GraphQLSchema:
    # assume_valid: Shopify's schemas carry deprecation mismatches graphql-core's strict check rejects.
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return build_schema(handle.read(), assume_valid=True)


@pytest.fixture(scope="module")
def schemas() -> tuple[GraphQLSchema, GraphQLSchema]:
    return _load(RECORD), _load(UNSTABLE)


def problems(schemas: tuple[GraphQLSchema, GraphQLSchema], document: str) -> list[str]:
    """What Shopify 2026-04 would refuse in `document`, and every deprecated field or input it uses.

    The unstable dump predates some 2026 fields (`bulkOperations`), so only its deprecation list is read.
    """
    record, unstable = schemas
    tree = parse(document)
    found = [f"2026-04: {error.message}" for error in validate(record, tree)]
    found += [f"2026-04: {error.message}" for error in validate(record, tree, [NoDeprecatedCustomRule])]
    found += [f"unstable: {error.message}" for error in validate(unstable, tree, [NoDeprecatedCustomRule])]
    return found


def test_the_discovery_sees_the_documents_the_connector_needs() -> None:
    for expected in ("ORDERS_PAGE_QUERY", "TAGS_ADD_MUTATION", "METAFIELDS_SET_MUTATION",
                     "FULFILLMENT_ORDER_RELEASE_HOLD_MUTATION", "BULK_ORDERS_TEMPLATE", "BULK_OPERATIONS_QUERY",
                     "WEBHOOK_SUBSCRIPTION_CREATE_MUTATION", "WEBHOOK_SUBSCRIPTION_DELETE_MUTATION",
                     "ACCESS_QUERY"):
        assert expected in DOCUMENTS
    assert len(DOCUMENTS) >= 24


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_is_valid_for_2026_04_and_uses_nothing_deprecated(schemas: tuple[GraphQLSchema, GraphQLSchema],
                                                                    name: str) -> None:
    assert problems(schemas, DOCUMENTS[name]) == []


def test_subscribing_by_callback_url_again_would_fail(schemas: tuple[GraphQLSchema, GraphQLSchema]) -> None:
    create = documents.WEBHOOK_SUBSCRIPTION_CREATE_MUTATION
    assert "uri: $uri" in create
    found = problems(schemas, create.replace("uri: $uri", "callbackUrl: $uri"))
    assert "2026-04: Field 'callbackUrl' is not defined by type 'WebhookSubscriptionInput'." in found
    assert "unstable: The input field WebhookSubscriptionInput.callbackUrl is deprecated. Use `uri` instead." in found
    read_back = documents.WEBHOOK_SUBSCRIPTIONS_QUERY.replace(
        "topic uri", "topic endpoint { ... on WebhookHttpEndpoint { callbackUrl } }")
    assert "2026-04: The field WebhookSubscription.endpoint is deprecated. Use `uri` instead." in problems(schemas, read_back)


def test_the_deprecated_current_bulk_operation_would_fail(schemas: tuple[GraphQLSchema, GraphQLSchema]) -> None:
    found = problems(schemas, "query { currentBulkOperation { id status } }")
    assert any("QueryRoot.currentBulkOperation is deprecated" in message for message in found)


def test_bulk_query_splices_the_search_as_a_string_literal(schemas: tuple[GraphQLSchema, GraphQLSchema]) -> None:
    tricky = "updated_at:>='2026-10-01' \"quoted\" \\ é"
    assert problems(schemas, documents.bulk_orders_query(tricky)) == []
    assert problems(schemas, documents.bulk_orders_query(None)) == []


def test_a_broken_document_would_be_caught(schemas: tuple[GraphQLSchema, GraphQLSchema]) -> None:
    assert problems(schemas, "query { orders(first: 1) { nodes { noSuchField } } }") != []
