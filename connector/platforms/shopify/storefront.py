"""The storefront ETA on Shopify: one app-owned `json` metafield per variant, read by the theme app block.

One metafield, not one per field: 1,000 changed variants are then 40 `metafieldsSet` calls of 25
(the most Shopify takes per call), where date, range and text as four metafields would need 160.
The value is `{"date": "YYYY-MM-DD", "earliest": ..., "latest": ..., "text": ...}`, only the fields
known; a variant with nothing to show has the metafield deleted (`metafieldsDelete`, same batches).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from connector.errors import UserError
from connector.platforms.base import StorefrontEta

from . import documents as docs
from .client import ShopifyClient
from .mapping import gid

STOREFRONT_NAMESPACE = "$app:backorder"
STOREFRONT_KEY = "eta"
STOREFRONT_TYPE = "json"
PER_CALL = 25  # metafieldsSet's limit, and the size of each metafieldsDelete batch
DEFINITION = {
    "ownerType": "PRODUCTVARIANT",
    "namespace": STOREFRONT_NAMESPACE,
    "key": STOREFRONT_KEY,
    "name": "Backorder ETA",
    "description": "When a unit ordered now is expected to ship (written by the backorder connector).",
    "type": STOREFRONT_TYPE,
    "access": {"storefront": "PUBLIC_READ"},
}


def storefront_value(item: StorefrontEta) -> str | None:
    """The metafield's JSON text, or None when the metafield is to be deleted."""
    if item.eta is None:
        return None
    value: dict[str, str] = {"date": item.eta.isoformat()}
    if item.earliest is not None and item.latest is not None:
        value["earliest"], value["latest"] = item.earliest.isoformat(), item.latest.isoformat()
    if item.text:
        value["text"] = item.text
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def create_definition(client: ShopifyClient) -> bool:
    """Create the variant metafield definition with storefront read access; False when it already existed."""
    try:
        client.mutate(docs.STOREFRONT_DEFINITION_MUTATION, {"definition": DEFINITION}, "metafieldDefinitionCreate")
    except UserError as error:
        if error.code == "TAKEN":
            return False
        raise
    return True


def metafield_inputs(items: Sequence[StorefrontEta]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(`MetafieldsSetInput`s, `MetafieldIdentifierInput`s to delete) for `items`."""
    to_set: list[dict[str, Any]] = []
    to_clear: list[dict[str, Any]] = []
    for item in items:
        owner = gid("ProductVariant", item.target)
        value = storefront_value(item)
        if value is None:
            to_clear.append({"ownerId": owner, "namespace": STOREFRONT_NAMESPACE, "key": STOREFRONT_KEY})
        else:
            to_set.append({"ownerId": owner, "namespace": STOREFRONT_NAMESPACE, "key": STOREFRONT_KEY,
                           "type": STOREFRONT_TYPE, "value": value})
    return to_set, to_clear


def write_etas(client: ShopifyClient, items: Sequence[StorefrontEta]) -> dict[str, str | None]:
    """Set or delete each item's metafield, 25 per call; target -> None (all-or-nothing per call: a
    refused call raises, naming the store's reasons)."""
    to_set, to_clear = metafield_inputs(items)
    for start in range(0, len(to_set), PER_CALL):
        client.mutate(docs.STOREFRONT_SET_MUTATION, {"metafields": to_set[start:start + PER_CALL]}, "metafieldsSet")
    for start in range(0, len(to_clear), PER_CALL):
        client.mutate(docs.STOREFRONT_CLEAR_MUTATION, {"metafields": to_clear[start:start + PER_CALL]},
                      "metafieldsDelete")
    return {item.target: None for item in items}
