"""Every GraphQL document the Shopify connector sends, each validated against Shopify's schema in tests.

Names ending in _QUERY or _MUTATION are documents; BULK_ORDERS_TEMPLATE is the inner query of a bulk
operation with the search string spliced in by `bulk_orders_query` (bulk queries take no variables).
Every document validates against API version 2026-04, the schema of record (the client asks for 2026-10),
and uses nothing Shopify's unstable schema marks deprecated; tests/shopify/test_documents_schema.py checks both.
Selections shared by several documents are plain strings, not GraphQL fragments, so the cost
estimator and the bulk query (which refuses fragments on some connections) read them directly.
"""

from __future__ import annotations

import json

PAGE_INFO = "pageInfo { hasNextPage endCursor }"

# `Customer.email` is deprecated in 2025-01; `Order.email` is the address the order was placed with.
ORDER_FIELDS = """
    id name createdAt updatedAt cancelledAt closed
    displayFinancialStatus displayFulfillmentStatus
    email customerLocale
    customer { id firstName lastName displayName }
"""

LINE_ITEM_FIELDS = """
    id sku title quantity currentQuantity unfulfilledQuantity requiresShipping
    variant { id }
"""

SHOP_QUERY = """
query Shop {
  shop { name myshopifyDomain }
}
"""

ORDERS_PAGE_QUERY = f"""
query OrdersPage($first: Int!, $after: String, $search: String, $lineItems: Int!) {{
  orders(first: $first, after: $after, query: $search, sortKey: UPDATED_AT) {{
    {PAGE_INFO}
    nodes {{
      {ORDER_FIELDS}
      lineItems(first: $lineItems) {{ {PAGE_INFO} nodes {{ {LINE_ITEM_FIELDS} }} }}
    }}
  }}
}}
"""

ORDER_QUERY = f"""
query Order($id: ID!, $lineItems: Int!) {{
  order(id: $id) {{
    {ORDER_FIELDS}
    lineItems(first: $lineItems) {{ {PAGE_INFO} nodes {{ {LINE_ITEM_FIELDS} }} }}
  }}
}}
"""

ORDER_LINE_ITEMS_QUERY = f"""
query OrderLineItems($id: ID!, $first: Int!, $after: String) {{
  order(id: $id) {{
    id
    lineItems(first: $first, after: $after) {{ {PAGE_INFO} nodes {{ {LINE_ITEM_FIELDS} }} }}
  }}
}}
"""

ORDER_TAGS_QUERY = """
query OrderTags($id: ID!) {
  order(id: $id) { id tags }
}
"""

ORDER_NOTE_QUERY = """
query OrderNote($id: ID!) {
  order(id: $id) { id note }
}
"""

ORDER_METAFIELDS_QUERY = """
query OrderMetafields($id: ID!, $namespace: String!, $first: Int!) {
  order(id: $id) {
    id
    metafields(namespace: $namespace, first: $first) { nodes { id key type value } }
  }
}
"""

FULFILLMENT_ORDER_LINE_FIELDS = "id remainingQuantity lineItem { id }"

# `supportedActions` says whether this app may hold the fulfillment order now; a location that is a
# fulfillment service (3PL) needs the write_third_party_fulfillment_orders scope to hold it.
FULFILLMENT_ORDERS_QUERY = f"""
query FulfillmentOrders($id: ID!, $first: Int!, $after: String, $lineItems: Int!) {{
  order(id: $id) {{
    id
    fulfillmentOrders(first: $first, after: $after) {{
      {PAGE_INFO}
      nodes {{
        id status
        supportedActions {{ action }}
        assignedLocation {{ location {{ id isFulfillmentService }} }}
        fulfillmentHolds {{ id handle reason heldByRequestingApp }}
        lineItems(first: $lineItems) {{ {PAGE_INFO} nodes {{ {FULFILLMENT_ORDER_LINE_FIELDS} }} }}
      }}
    }}
  }}
}}
"""

FULFILLMENT_ORDER_LINE_ITEMS_QUERY = f"""
query FulfillmentOrderLineItems($id: ID!, $first: Int!, $after: String) {{
  fulfillmentOrder(id: $id) {{
    id
    lineItems(first: $first, after: $after) {{ {PAGE_INFO} nodes {{ {FULFILLMENT_ORDER_LINE_FIELDS} }} }}
  }}
}}
"""

INVENTORY_LEVEL_FIELDS = 'location { id } quantities(names: ["available", "committed"]) { name quantity }'

INVENTORY_ITEMS_QUERY = f"""
query InventoryItems($first: Int!, $after: String, $levels: Int!) {{
  inventoryItems(first: $first, after: $after) {{
    {PAGE_INFO}
    nodes {{
      id sku tracked
      variants(first: 1) {{ nodes {{ id }} }}
      inventoryLevels(first: $levels) {{ {PAGE_INFO} nodes {{ {INVENTORY_LEVEL_FIELDS} }} }}
    }}
  }}
}}
"""

INVENTORY_ITEM_LEVELS_QUERY = f"""
query InventoryItemLevels($id: ID!, $first: Int!, $after: String) {{
  inventoryItem(id: $id) {{
    id
    inventoryLevels(first: $first, after: $after) {{ {PAGE_INFO} nodes {{ {INVENTORY_LEVEL_FIELDS} }} }}
  }}
}}
"""

TAGS_ADD_MUTATION = """
mutation TagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { userErrors { field message } }
}
"""

TAGS_REMOVE_MUTATION = """
mutation TagsRemove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) { userErrors { field message } }
}
"""

# orderUpdate overwrites the whole note: callers read it first and merge (see notes.py).
ORDER_NOTE_UPDATE_MUTATION = """
mutation OrderNoteUpdate($id: ID!, $note: String) {
  orderUpdate(input: {id: $id, note: $note}) { order { id note } userErrors { field message } }
}
"""

METAFIELDS_SET_MUTATION = """
mutation MetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { id key } userErrors { field message code } }
}
"""

METAFIELDS_DELETE_MUTATION = """
mutation MetafieldsDelete($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) { deletedMetafields { key } userErrors { field message } }
}
"""

# The storefront ETA: one app-owned `json` metafield per variant (see extensions/backorder-eta/README.md).
STOREFRONT_DEFINITION_MUTATION = """
mutation BackorderEtaDefinitionCreate($definition: MetafieldDefinitionInput!) {
  metafieldDefinitionCreate(definition: $definition) {
    createdDefinition { id namespace key }
    userErrors { field message code }
  }
}
"""

STOREFRONT_SET_MUTATION = """
mutation BackorderEtaSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key }
    userErrors { field message code }
  }
}
"""

STOREFRONT_CLEAR_MUTATION = """
mutation BackorderEtaClear($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) {
    deletedMetafields { ownerId namespace key }
    userErrors { field message }
  }
}
"""

FULFILLMENT_ORDER_HOLD_MUTATION = """
mutation FulfillmentOrderHold($id: ID!, $hold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $hold) {
    fulfillmentHold { id handle }
    remainingFulfillmentOrder { id }
    userErrors { field message code }
  }
}
"""

# Without holdIds Shopify releases every hold on the fulfillment order, other apps' included.
FULFILLMENT_ORDER_RELEASE_HOLD_MUTATION = """
mutation FulfillmentOrderReleaseHold($id: ID!, $holdIds: [ID!]!) {
  fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds) {
    fulfillmentOrder { id status }
    userErrors { field message code }
  }
}
"""

# Subscriptions are made and read back by `uri` (2025-07 dropped `callbackUrl` from the input and
# deprecated `endpoint`).
WEBHOOK_SUBSCRIPTIONS_QUERY = f"""
query WebhookSubscriptions($first: Int!, $after: String) {{
  webhookSubscriptions(first: $first, after: $after) {{
    {PAGE_INFO}
    nodes {{ id topic uri }}
  }}
}}
"""

WEBHOOK_SUBSCRIPTION_CREATE_MUTATION = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

WEBHOOK_SUBSCRIPTION_DELETE_MUTATION = """
mutation WebhookSubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } }
}
"""

ACCESS_SCOPES_QUERY = """
query AccessScopes {
  currentAppInstallation { accessScopes { handle } }
}
"""

# The granted scopes, and one order's email: an ACCESS_DENIED error on it means Shopify withholds
# protected customer data (names, emails) from this app.
ACCESS_QUERY = """
query Access {
  currentAppInstallation { accessScopes { handle } }
  orders(first: 1, sortKey: UPDATED_AT, reverse: true) { nodes { id email } }
}
"""

BULK_OPERATION_FIELDS = "id status errorCode objectCount rootObjectCount url partialDataUrl query createdAt"

# Ungrouped output (the 2026 default, asked for explicitly): a line item may come before or after its
# order in the file; bulk.py stages the lines and joins them by `__parentId`.
BULK_OPERATION_RUN_QUERY_MUTATION = """
mutation BulkOperationRunQuery($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: false) {
    bulkOperation { id status query }
    userErrors { field message code }
  }
}
"""

BULK_OPERATION_QUERY = f"""
query BulkOperation($id: ID!) {{
  bulkOperation(id: $id) {{ {BULK_OPERATION_FIELDS} }}
}}
"""

# Newest first (the default sort); `currentBulkOperation` is deprecated for this.
BULK_OPERATIONS_QUERY = f"""
query BulkOperations($first: Int!, $search: String) {{
  bulkOperations(first: $first, query: $search) {{ nodes {{ {BULK_OPERATION_FIELDS} }} }}
}}
"""

BULK_SEARCH_PLACEHOLDER = "__SEARCH__"

# Bulk queries ignore page sizes and cost caps; nested connections come back as separate JSONL
# lines carrying `__parentId`.
BULK_ORDERS_TEMPLATE = f"""
{{
  orders(query: {BULK_SEARCH_PLACEHOLDER}, sortKey: UPDATED_AT) {{
    edges {{
      node {{
        {ORDER_FIELDS}
        lineItems {{ edges {{ node {{ {LINE_ITEM_FIELDS} }} }} }}
      }}
    }}
  }}
}}
"""


def bulk_orders_query(search: str | None) -> str:
    """The bulk inner query for orders matching `search` (all orders when None)."""
    # A JSON string literal is a valid GraphQL string literal (non-ASCII comes out as \\u escapes).
    literal = json.dumps(search) if search is not None else "null"
    return BULK_ORDERS_TEMPLATE.replace(BULK_SEARCH_PLACEHOLDER, literal)

# -- cancel and refund (connector.platforms.shopify.refunds) -----------------------------------------

MONEY = "shopMoney { amount currencyCode }"
# A refund the gateway declined is still a Refund, with a FAILURE or ERROR transaction and its errorCode.
REFUND_TRANSACTIONS = "transactions(first: 5) { nodes { status errorCode gateway } }"

ORDER_REFUNDS_QUERY = f"""
query OrderRefunds($id: ID!, $lineItems: Int!) {{
  order(id: $id) {{
    id cancelledAt currencyCode
    refunds(first: 50) {{ id note totalRefundedSet {{ {MONEY} }} {REFUND_TRANSACTIONS} }}
    lineItems(first: $lineItems) {{ nodes {{ id currentQuantity unfulfilledQuantity }} }}
  }}
}}
"""

SUGGESTED_REFUND_QUERY = f"""
query SuggestedRefund($id: ID!, $refundLineItems: [RefundLineItemInput!], $refundShipping: Boolean,
                      $suggestFullRefund: Boolean) {{
  order(id: $id) {{
    id
    suggestedRefund(refundLineItems: $refundLineItems, refundShipping: $refundShipping,
                    suggestFullRefund: $suggestFullRefund) {{
      amountSet {{ {MONEY} }}
      subtotalSet {{ {MONEY} }}
      totalTaxSet {{ {MONEY} }}
      shipping {{ amountSet {{ {MONEY} }} taxSet {{ {MONEY} }} }}
      suggestedTransactions {{ gateway kind amountSet {{ {MONEY} }} parentTransaction {{ id }} }}
    }}
  }}
}}
"""

# 2026-04 requires an idempotency key on refundCreate; the connector's cancel marker is that key.
REFUND_CREATE_MUTATION = f"""
mutation RefundCreate($input: RefundInput!, $key: String!) {{
  refundCreate(input: $input) @idempotent(key: $key) {{
    refund {{ id note totalRefundedSet {{ {MONEY} }} {REFUND_TRANSACTIONS} }}
    userErrors {{ field message }}
  }}
}}
"""

ORDER_CANCEL_MUTATION = """
mutation OrderCancel($orderId: ID!, $restock: Boolean!, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: CUSTOMER, restock: $restock, notifyCustomer: false, staffNote: $staffNote,
              refundMethod: { originalPaymentMethodsRefund: true }) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""

FULFILLMENT_ORDER_SPLIT_MUTATION = """
mutation FulfillmentOrderSplit($splits: [FulfillmentOrderSplitInput!]!) {
  fulfillmentOrderSplit(fulfillmentOrderSplits: $splits) {
    fulfillmentOrderSplits { fulfillmentOrder { id } remainingFulfillmentOrder { id } }
    userErrors { field message }
  }
}
"""

# -- batched push-back ---------------------------------------------------------------------------
# What writing many orders at once needs to know about each, read after the actions were claimed:
# tags, the connector's metafields, the note, and the fulfillment orders with their holds and
# supportedActions. An order with more fulfillment orders or lines than one page holds is read again
# alone with FULFILLMENT_ORDERS_QUERY. `nodes(ids:)` costs one Order per id (see cost.py).
ORDERS_FOR_WRITES_QUERY = f"""
query OrdersForWrites($ids: [ID!]!, $namespace: String!, $metafields: Int!, $fulfillmentOrders: Int!,
                      $lineItems: Int!) {{
  nodes(ids: $ids) {{
    ... on Order {{
      id tags note
      metafields(namespace: $namespace, first: $metafields) {{ nodes {{ id key type value }} }}
      fulfillmentOrders(first: $fulfillmentOrders) {{
        pageInfo {{ hasNextPage }}
        nodes {{
          id status
          supportedActions {{ action }}
          assignedLocation {{ location {{ id isFulfillmentService }} }}
          fulfillmentHolds {{ id handle reason heldByRequestingApp }}
          lineItems(first: $lineItems) {{ pageInfo {{ hasNextPage }} nodes {{ {FULFILLMENT_ORDER_LINE_FIELDS} }} }}
        }}
      }}
    }}
  }}
}}
"""

# One aliased field per write, `w<n>`, its variables suffixed `_<n>`, so a document carries the writes
# of many orders and each alias's userErrors answer for its own write. Payloads select only userErrors.
BATCH_PARTS: dict[str, tuple[str, str]] = {
    "tagsAdd": ("$id_{n}: ID!, $tags_{n}: [String!]!",
                "w{n}: tagsAdd(id: $id_{n}, tags: $tags_{n}) {{ userErrors {{ field message }} }}"),
    "tagsRemove": ("$id_{n}: ID!, $tags_{n}: [String!]!",
                   "w{n}: tagsRemove(id: $id_{n}, tags: $tags_{n}) {{ userErrors {{ field message }} }}"),
    "orderUpdate": ("$id_{n}: ID!, $note_{n}: String",
                    "w{n}: orderUpdate(input: {{id: $id_{n}, note: $note_{n}}}) {{ userErrors {{ field message }} }}"),
    "metafieldsSet": ("$metafields_{n}: [MetafieldsSetInput!]!",
                      "w{n}: metafieldsSet(metafields: $metafields_{n}) {{ userErrors {{ field message code }} }}"),
    "metafieldsDelete": ("$metafields_{n}: [MetafieldIdentifierInput!]!",
                         "w{n}: metafieldsDelete(metafields: $metafields_{n}) {{ userErrors {{ field message }} }}"),
    "fulfillmentOrderHold": ("$id_{n}: ID!, $hold_{n}: FulfillmentOrderHoldInput!",
                             "w{n}: fulfillmentOrderHold(id: $id_{n}, fulfillmentHold: $hold_{n}) "
                             "{{ userErrors {{ field message code }} }}"),
    "fulfillmentOrderReleaseHold": ("$id_{n}: ID!, $holdIds_{n}: [ID!]!",
                                    "w{n}: fulfillmentOrderReleaseHold(id: $id_{n}, holdIds: $holdIds_{n}) "
                                    "{{ userErrors {{ field message code }} }}"),
}


def batched_writes_mutation(fields: list[str]) -> str:
    """The mutation document whose n-th aliased field (`w<n>`) is the mutation `fields[n]`."""
    definitions = ", ".join(BATCH_PARTS[field][0].format(n=n) for n, field in enumerate(fields))
    body = "\n  ".join(BATCH_PARTS[field][1].format(n=n) for n, field in enumerate(fields))
    return f"mutation BatchedWrites({definitions}) {{\n  {body}\n}}\n"


# The representative form the schema test validates: every part once, as the generator writes them.
BATCHED_WRITES_MUTATION = batched_writes_mutation(list(BATCH_PARTS))
