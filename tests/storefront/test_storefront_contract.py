"""The storefront data contract: what the extensions read is what their READMEs document, in valid Shopify GraphQL.

The connector's pushes (one json variant metafield on Shopify, product/variation meta on WooCommerce) must
write exactly these keys; the connector's own constants and documents are checked here too, so the code
that writes and the code that reads can never drift apart. TYPES is the Shopify contract (key -> metafield
type) and FIELDS the keys of its json value; WooCommerce writes the plugin's four `_backorder_eta*` meta.
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, build_client_schema, build_schema, parse, validate
from graphql.execution.values import get_variable_values
from graphql.language import OperationDefinitionNode

from connector.platforms.base import StorefrontEta
from connector.platforms.shopify import documents as docs
from connector.platforms.shopify.storefront import (
    DEFINITION,
    STOREFRONT_KEY,
    STOREFRONT_NAMESPACE,
    STOREFRONT_TYPE,
    storefront_value,
)
from connector.platforms.woocommerce.storefront import META_EARLIEST, META_ETA, META_LATEST, META_TEXT
from tests.storefront.shopify_liquid import EXTENSION_DIR

ROOT = Path(__file__).resolve().parents[2]
SHOPIFY_README = EXTENSION_DIR / "README.md"
SNIPPET = EXTENSION_DIR / "snippets" / "backorder-eta-message.liquid"
NAMESPACE = "$app:backorder"
TYPES = {"eta": "json"}
FIELDS = {"date", "earliest", "latest", "text"}
PLUGIN = ROOT / "extensions" / "woocommerce-backorder-eta" / "includes" / "class-backorder-eta.php"
SCHEMA_DIRS = (ROOT / "tests" / "schema", ROOT / "sandbox" / "schema")


def readme_examples() -> list[tuple[str, dict[str, Any]]]:
    """Each GraphQL document of the Shopify README with the JSON variables block that follows it."""
    blocks = re.findall(r"```(graphql|json)\n(.*?)```", SHOPIFY_README.read_text(encoding="utf-8"), re.DOTALL)
    pairs = []
    for (kind, body), (next_kind, next_body) in pairwise(blocks):
        if kind == "graphql":
            assert next_kind == "json", "every GraphQL document in the README is followed by its variables"
            pairs.append((body, json.loads(next_body)))
    return pairs


def admin_schemas() -> dict[str, GraphQLSchema]:
    """Every copy of Shopify's Admin schema the repository holds, by file name."""
    schemas: dict[str, GraphQLSchema] = {}
    for folder in SCHEMA_DIRS:
        for path in sorted(folder.glob("admin*.gz")):
            if path.name in schemas:
                continue
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                if path.name.endswith(".json.gz"):
                    schemas[path.name] = build_client_schema(json.load(handle)["data"], assume_valid=True)
                elif path.name.endswith(".graphql.gz"):
                    schemas[path.name] = build_schema(handle.read(), assume_valid=True)
    return schemas


@pytest.fixture(scope="module")
def schemas() -> dict[str, GraphQLSchema]:
    found = admin_schemas()
    assert found, "no Shopify Admin schema copy in tests/schema or sandbox/schema"
    return found


def test_readme_documents_and_variables_are_valid_shopify_graphql(schemas: dict[str, GraphQLSchema]) -> None:
    examples = readme_examples()
    assert [re.search(r"mutation (\w+)", doc).group(1) for doc, _ in examples] == [  # type: ignore[union-attr]
        "BackorderEtaDefinitionCreate", "BackorderEtaSet", "BackorderEtaClear"]
    for name, schema in schemas.items():
        for document, variables in examples:
            ast = parse(document)
            assert validate(schema, ast) == [], (name, document)
            operation = next(d for d in ast.definitions if isinstance(d, OperationDefinitionNode))
            coerced = get_variable_values(schema, operation.variable_definitions, variables)
            assert not isinstance(coerced, list), (name, [str(e) for e in coerced])


def test_readme_examples_write_the_contract() -> None:
    (_, definition), (_, to_set), (_, to_clear) = readme_examples()
    created = definition["definition"]
    assert (created["ownerType"], created["namespace"], created["access"]) == (
        "PRODUCTVARIANT", NAMESPACE, {"storefront": "PUBLIC_READ"})
    assert created["type"] == TYPES[created["key"]]
    assert created == DEFINITION  # what the README shows is what the connector creates
    assert len(to_set["metafields"]) <= 25
    for field in to_set["metafields"]:
        assert field["namespace"] == NAMESPACE
        assert field["type"] == TYPES[field["key"]]
        value = json.loads(field["value"])
        assert set(value) <= FIELDS and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value[k]) for k in value if k != "text")
        assert field["ownerId"].startswith("gid://shopify/ProductVariant/")
    assert sorted(f["key"] for f in to_clear["metafields"]) == sorted(TYPES)
    assert {f["namespace"] for f in to_clear["metafields"]} == {NAMESPACE}


def test_the_connector_sends_the_documented_documents_and_values() -> None:
    documents = [" ".join(document.split()) for document, _ in readme_examples()]
    sent = [" ".join(doc.split()) for doc in (docs.STOREFRONT_DEFINITION_MUTATION, docs.STOREFRONT_SET_MUTATION,
                                              docs.STOREFRONT_CLEAR_MUTATION)]
    assert sent == documents
    assert (STOREFRONT_NAMESPACE, STOREFRONT_KEY, STOREFRONT_TYPE) == (NAMESPACE, "eta", TYPES["eta"])
    value = json.loads(storefront_value(StorefrontEta("1", date(2026, 3, 14), date(2026, 3, 12), date(2026, 3, 16),
                                                      "Back soon")) or "")
    assert set(value) == FIELDS


def test_woocommerce_writes_the_meta_the_plugin_reads() -> None:
    plugin = PLUGIN.read_text(encoding="utf-8")
    declared = dict(re.findall(r"const (META_\w+)\s*=\s*'(_backorder_eta\w*)';", plugin))
    assert declared == {"META_ETA": META_ETA, "META_EARLIEST": META_EARLIEST, "META_LATEST": META_LATEST,
                        "META_TEXT": META_TEXT}


def test_the_block_reads_exactly_the_documented_metafields() -> None:
    snippet = SNIPPET.read_text(encoding="utf-8")
    assert re.findall(r"variant\.metafields\['([^']+)'\]", snippet) == [NAMESPACE]
    assert set(re.findall(r"variant\.metafields\['[^']+'\]\.(\w+)\.value", snippet)) == set(TYPES)
    assert set(re.findall(r"eta_value\.(\w+)", snippet)) == FIELDS
    table = dict(re.findall(r"^\| `(\w+)` \| `(\w+)` \|", SHOPIFY_README.read_text(encoding="utf-8"), re.MULTILINE))
    assert table == TYPES
