"""The storefront data contract: what the extensions read is what their READMEs document, in valid Shopify GraphQL.

The connector's pushes (variant metafields on Shopify, product/variation meta on WooCommerce) must write
exactly these keys; constants the connector defines for them belong in these tests too, so the code that
writes and the code that reads can never drift apart. TYPES is the contract: key -> Shopify metafield type;
WooCommerce uses the same keys prefixed with `_backorder_`.
"""

from __future__ import annotations

import gzip
import json
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, build_client_schema, build_schema, parse, validate
from graphql.execution.values import get_variable_values
from graphql.language import OperationDefinitionNode

from tests.storefront.shopify_liquid import EXTENSION_DIR

ROOT = Path(__file__).resolve().parents[2]
SHOPIFY_README = EXTENSION_DIR / "README.md"
SNIPPET = EXTENSION_DIR / "snippets" / "backorder-eta-message.liquid"
NAMESPACE = "$app:backorder"
TYPES = {"eta": "date", "eta_earliest": "date", "eta_latest": "date", "eta_text": "single_line_text_field"}
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
    assert len(to_set["metafields"]) <= 25
    for field in to_set["metafields"]:
        assert field["namespace"] == NAMESPACE
        assert field["type"] == TYPES[field["key"]]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", field["value"])
        assert field["ownerId"].startswith("gid://shopify/ProductVariant/")
    assert sorted(f["key"] for f in to_clear["metafields"]) == sorted(TYPES)
    assert {f["namespace"] for f in to_clear["metafields"]} == {NAMESPACE}


def test_the_block_reads_exactly_the_documented_metafields() -> None:
    snippet = SNIPPET.read_text(encoding="utf-8")
    assert re.findall(r"variant\.metafields\['([^']+)'\]", snippet) == [NAMESPACE]
    assert set(re.findall(r"eta_fields\.(\w+)\.value", snippet)) == set(TYPES)
    table = dict(re.findall(r"^\| `(\w+)` \| `(\w+)` \|", SHOPIFY_README.read_text(encoding="utf-8"), re.MULTILINE))
    assert table == TYPES
