"""The requested-cost estimator and the page sizes the adapter derives from it."""

from __future__ import annotations

import pytest

from connector.platforms.shopify import adapter, documents
from connector.platforms.shopify.cost import MAX_QUERY_COST, largest_page, requested_cost


def test_nested_connections_multiply_as_shopify_documents() -> None:
    document = "query { orders(first: 250) { edges { node { lineItems(first: 10) { edges { node { title } } } } } } }"
    assert requested_cost(document) == 2 + 250 * (1 + 2 + 10)


def test_scalars_are_free_objects_cost_one_and_variables_are_read() -> None:
    document = "query Q($id: ID!, $n: Int = 5) { order(id: $id) { id name customer { id } lineItems(first: $n) { nodes { id } } } }"
    assert requested_cost(document, {"id": "x"}) == 1 + 1 + 2 + 5
    assert requested_cost(document, {"id": "x", "n": 7}) == 1 + 1 + 2 + 7


def test_a_mutation_costs_ten() -> None:
    assert requested_cost(documents.TAGS_ADD_MUTATION, {"id": "x", "tags": ["a"]}) == 10


def test_a_missing_page_size_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="lineItems"):
        requested_cost(documents.ORDERS_PAGE_QUERY, {"first": 10})


PAGED = [
    (documents.ORDERS_PAGE_QUERY, {"first": adapter.ORDERS_PER_PAGE, "lineItems": adapter.LINE_ITEMS_PER_ORDER}),
    (documents.ORDER_QUERY, {"lineItems": adapter.LINE_ITEMS_PER_ORDER}),
    (documents.ORDER_LINE_ITEMS_QUERY, {"first": adapter.LINE_ITEMS_PER_PAGE}),
    (documents.INVENTORY_ITEMS_QUERY, {"first": adapter.INVENTORY_ITEMS_PER_PAGE, "levels": adapter.LEVELS_PER_ITEM}),
    (documents.INVENTORY_ITEM_LEVELS_QUERY, {"first": adapter.LEVELS_PER_PAGE}),
    (documents.FULFILLMENT_ORDERS_QUERY, {"first": adapter.FULFILLMENT_ORDERS_PER_PAGE,
                                          "lineItems": adapter.LINES_PER_FULFILLMENT_ORDER}),
    (documents.FULFILLMENT_ORDER_LINE_ITEMS_QUERY, {"first": adapter.FULFILLMENT_LINES_PER_PAGE}),
    (documents.WEBHOOK_SUBSCRIPTIONS_QUERY, {"first": adapter.WEBHOOKS_PER_PAGE}),
    (documents.ORDER_METAFIELDS_QUERY, {"first": adapter.METAFIELDS_PER_ORDER}),
]


@pytest.mark.parametrize(("document", "variables"), PAGED)
def test_every_page_the_adapter_asks_for_stays_under_the_cap(document: str, variables: dict[str, int]) -> None:
    assert requested_cost(document, variables) <= MAX_QUERY_COST


def test_the_orders_page_is_as_large_as_the_cap_allows() -> None:
    fixed = {"lineItems": adapter.LINE_ITEMS_PER_ORDER}
    size = adapter.ORDERS_PER_PAGE
    assert requested_cost(documents.ORDERS_PAGE_QUERY, {**fixed, "first": size}) <= MAX_QUERY_COST
    assert requested_cost(documents.ORDERS_PAGE_QUERY, {**fixed, "first": size + 1}) > MAX_QUERY_COST


def test_largest_page_respects_the_250_cap_and_refuses_impossible_budgets() -> None:
    assert largest_page(documents.WEBHOOK_SUBSCRIPTIONS_QUERY, "first") == 250
    with pytest.raises(ValueError):
        largest_page(documents.ORDERS_PAGE_QUERY, "first", {"lineItems": 1000})
