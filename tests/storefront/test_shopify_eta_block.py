"""The Shopify ETA app block rendered with python-liquid against the Shopify sandbox's shirt, in English and German."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date

import pytest

from connector.platforms.base import StorefrontEta
from connector.platforms.shopify import documents as docs
from connector.platforms.shopify.storefront import DEFINITION, metafield_inputs
from sandbox.shopify import create_app
from sandbox.shopify.state import ShopifyState
from tests.storefront.shopify_liquid import EXTENSION_DIR, block_schema, metafield
from tests.storefront.storefront_support import (
    SHIRT,
    SHIRT_FIELDS,
    eta_fields,
    read_block,
    render_eta_block,
    sandbox_product,
    served_fields,
)

TOKEN = "shpat_storefront_test"


def lines_by_sku(state: ShopifyState, html: str) -> dict[str, tuple[str, bool]]:
    sku_by_id = {str(v.id): v.sku or "" for v in state.variants.values()}
    return {sku_by_id[variant_id]: line for variant_id, line in read_block(html).lines.items()}


def test_english_lines_for_exactly_the_out_of_stock_sellable_variants_with_an_eta(shirt_state: ShopifyState) -> None:
    html = render_eta_block(sandbox_product(shirt_state, SHIRT, SHIRT_FIELDS, selected_sku="SHIRT-BLUE-M"))

    assert lines_by_sku(shirt_state, html) == {
        "SHIRT-BLUE-M": ("Ships around 12 March", False),
        "SHIRT-BLUE-L": ("Expected between 12 and 16 March", True),
        "SHIRT-BLACK-S": ("Expected between 30 March and 2 April", True),
        "SHIRT-BLACK-L": ("Ships around 8 January 2027", True),
    }
    block = read_block(html)
    assert block.container is not None
    assert block.container["data-product-id"] == str(SHIRT)
    shirt_ids = [str(v.id) for v in shirt_state.variants.values() if v.product_id == SHIRT]
    assert (block.container["data-variant-ids"] or "").split(",") == shirt_ids
    assert block.container["aria-live"] == "polite"


def test_german_storefront_formats_the_dates_in_german(shirt_state: ShopifyState) -> None:
    html = render_eta_block(sandbox_product(shirt_state, SHIRT, SHIRT_FIELDS, selected_sku="SHIRT-BLUE-L"),
                            locale="de", primary_locale="en")

    assert lines_by_sku(shirt_state, html) == {
        "SHIRT-BLUE-M": ("Versand voraussichtlich um den 12. März", True),
        "SHIRT-BLUE-L": ("Versand voraussichtlich zwischen dem 12. und 16. März", False),
        "SHIRT-BLACK-S": ("Versand voraussichtlich zwischen dem 30. März und 2. April", True),
        "SHIRT-BLACK-L": ("Versand voraussichtlich um den 8. Januar 2027", True),
    }


@pytest.mark.parametrize(("locale", "expected"), [
    ("de-CH", "Versand voraussichtlich um den 12. März"),  # a regional locale falls back to its language
    ("fr", "Ships around 12 March"),  # a locale the extension does not ship falls back to the default
])
def test_locale_fallback(shirt_state: ShopifyState, locale: str, expected: str) -> None:
    html = render_eta_block(sandbox_product(shirt_state, SHIRT, SHIRT_FIELDS, selected_sku="SHIRT-BLUE-M"),
                            locale=locale, primary_locale="en")
    assert read_block(html).visible == [expected]


def test_only_the_selected_variants_line_is_visible(shirt_state: ShopifyState) -> None:
    for sku, visible in [("SHIRT-BLUE-L", ["Expected between 12 and 16 March"]),
                         ("SHIRT-BLACK-L", ["Ships around 8 January 2027"]),
                         ("SHIRT-BLUE-S", []),  # in stock: every line hidden until the picker moves
                         ("SHIRT-RED-S", [])]:
        html = render_eta_block(sandbox_product(shirt_state, SHIRT, SHIRT_FIELDS, selected_sku=sku))
        assert read_block(html).visible == visible, sku


def test_without_a_selected_variant_the_first_available_one_counts(shirt_state: ShopifyState) -> None:
    # Shopify's selected_or_first_available_variant: SHIRT-BLUE-S is in stock and first.
    html = render_eta_block(sandbox_product(shirt_state, SHIRT, SHIRT_FIELDS))
    assert read_block(html).visible == []
    assert len(read_block(html).lines) == 4


def test_renders_nothing_when_no_variant_qualifies(shirt_state: ShopifyState) -> None:
    in_stock_only = {sku: fields for sku, fields in SHIRT_FIELDS.items()
                     if sku in ("SHIRT-BLUE-S", "SHIRT-RED-S", "SHIRT-RED-L", "SHIRT-BLACK-M")}
    html = render_eta_block(sandbox_product(shirt_state, SHIRT, in_stock_only, selected_sku="SHIRT-RED-S"))
    assert html.strip() == ""
    assert render_eta_block(sandbox_product(shirt_state, SHIRT, {})).strip() == ""


def test_theme_editor_shows_a_placeholder_where_nothing_would_show(shirt_state: ShopifyState) -> None:
    html = render_eta_block(sandbox_product(shirt_state, SHIRT, {}), locale="de", design_mode=True)
    block = read_block(html)
    assert block.lines == {}
    assert block.placeholder is not None and block.placeholder.startswith("Lieferzeit bei Rückstand:")


def test_connector_text_is_used_on_the_primary_locale_only_and_escaped(shirt_state: ShopifyState) -> None:
    fields = {"SHIRT-BLUE-M": eta_fields("2026-03-12", text="Back from <b>Acme</b> & shipped by 12 March")}
    product = sandbox_product(shirt_state, SHIRT, fields, selected_sku="SHIRT-BLUE-M")

    english = render_eta_block(product, locale="en", primary_locale="en")
    assert "&lt;b&gt;Acme&lt;/b&gt; &amp; shipped" in english
    assert read_block(english).visible == ["Back from <b>Acme</b> & shipped by 12 March"]
    # The text is in the shop's language; another storefront language gets the block's own sentence.
    german = render_eta_block(product, locale="de", primary_locale="en")
    assert read_block(german).visible == ["Versand voraussichtlich um den 12. März"]


def test_show_range_off_gives_one_date(shirt_state: ShopifyState) -> None:
    product = sandbox_product(shirt_state, SHIRT, SHIRT_FIELDS, selected_sku="SHIRT-BLUE-L")
    lines = lines_by_sku(shirt_state, render_eta_block(product, show_range=False))
    assert lines["SHIRT-BLUE-L"] == ("Ships around 14 March", False)  # the ETA itself
    assert lines["SHIRT-BLACK-S"] == ("Ships around 2 April", True)  # no ETA: the end of the range


@pytest.mark.parametrize(("fields", "expected"), [
    (eta_fields(None, "2026-02-25", "2026-03-06"), "Expected between 2 and 6 March"),  # begun: from today
    (eta_fields(None, "2026-02-25", "2026-03-02"), "Ships around 2 March"),  # ends today
    (eta_fields("2026-03-20", "2026-03-20", "2026-03-20"), "Ships around 20 March"),  # a range of one day
    (eta_fields("2026-03-20", "2026-03-25", "2026-03-22"), "Ships around 20 March"),  # inverted range: ignored
    (eta_fields("2026-03-20", "2026-03-25"), "Ships around 20 March"),  # half a range: ignored
    (eta_fields(None, "2026-12-28", "2027-01-03"), "Expected between 28 December 2026 and 3 January 2027"),
    (eta_fields(None, "2027-03-01", "2027-03-05"), "Expected between 1 and 5 March 2027"),
    ({"eta": metafield({"date": "2026-03-12", "text": ""}, "json")}, "Ships around 12 March"),  # empty text: built-in
])
def test_date_rules(shirt_state: ShopifyState, fields: dict[str, object], expected: str) -> None:
    product = sandbox_product(shirt_state, SHIRT, {"SHIRT-BLUE-M": fields}, selected_sku="SHIRT-BLUE-M")
    assert read_block(render_eta_block(product)).visible == [expected]


def test_extension_layout_and_schema() -> None:
    config = tomllib.loads((EXTENSION_DIR / "shopify.extension.toml").read_text())
    assert config == {"name": "backorder-eta", "type": "theme"}
    schema = block_schema(EXTENSION_DIR / "blocks" / "eta.liquid")
    assert schema["target"] == "section"
    assert (EXTENSION_DIR / "assets" / schema["javascript"]).is_file()
    assert (EXTENSION_DIR / "assets" / schema["stylesheet"]).is_file()
    assert [s["id"] for s in schema["settings"]] == ["product", "show_range"]
    assert schema["settings"][0]["autofill"] is True
    # Shopify CLI deploys only these folders (README.md at the top level is not part of the bundle).
    folders = {p.name for p in EXTENSION_DIR.iterdir() if p.is_dir()}
    assert folders == {"assets", "blocks", "locales", "snippets"}


def test_locale_files_agree() -> None:
    def keys(tree: dict[str, object], prefix: str = "") -> set[str]:
        found: set[str] = set()
        for name, value in tree.items():
            found |= keys(value, f"{prefix}{name}.") if isinstance(value, dict) else {prefix + name}
        return found

    locales = EXTENSION_DIR / "locales"
    english = json.loads((locales / "en.default.json").read_text())
    german = json.loads((locales / "de.json").read_text())
    assert keys(english) == keys(german)
    for translations in (english, german):
        assert len(translations["backorder_eta"]["month_names"].split(",")) == 12
        for key in ("ships_around", "expected_between", "day", "day_month", "day_month_year"):
            placeholders = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", translations["backorder_eta"][key]))
            expected = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", english["backorder_eta"][key]))
            assert placeholders == expected, key
    assert keys(json.loads((locales / "en.default.schema.json").read_text())) == \
        keys(json.loads((locales / "de.schema.json").read_text()))


def test_the_block_shows_what_the_connector_wrote_through_the_sandbox(shirt_state: ShopifyState) -> None:
    """The connector's own documents and inputs, run by the sandbox's GraphQL, then read back off the variant."""
    client = create_app(shirt_state, api_secret="unused", access_token=TOKEN).test_client()

    def run(document: str, variables: dict[str, object]) -> dict[str, object]:
        answer = client.post("/admin/api/2026-10/graphql.json", json={"query": document, "variables": variables},
                             headers={"X-Shopify-Access-Token": TOKEN})
        assert answer.status_code == 200 and "errors" not in answer.get_json(), answer.get_data(as_text=True)
        return answer.get_json()["data"]

    variants = shirt_state.variants_by_sku()
    created = run(docs.STOREFRONT_DEFINITION_MUTATION, {"definition": DEFINITION})["metafieldDefinitionCreate"]
    assert created["userErrors"] == []  # type: ignore[index]
    again = run(docs.STOREFRONT_DEFINITION_MUTATION, {"definition": DEFINITION})["metafieldDefinitionCreate"]
    assert [error["code"] for error in again["userErrors"]] == ["TAKEN"]  # type: ignore[index]
    to_set, to_clear = metafield_inputs([
        StorefrontEta(str(variants["SHIRT-BLUE-M"].id), date(2026, 3, 12)),
        StorefrontEta(str(variants["SHIRT-BLUE-L"].id), date(2026, 3, 14), date(2026, 3, 12), date(2026, 3, 16)),
        StorefrontEta(str(variants["SHIRT-BLACK-L"].id), date(2027, 1, 8)),
    ])
    assert run(docs.STOREFRONT_SET_MUTATION, {"metafields": to_set})["metafieldsSet"]["userErrors"] == []  # type: ignore[index]
    served = {sku: served_fields(shirt_state, sku) for sku in ("SHIRT-BLUE-M", "SHIRT-BLUE-L", "SHIRT-BLACK-L")}
    lines = lines_by_sku(shirt_state, render_eta_block(sandbox_product(shirt_state, SHIRT, served,
                                                                       selected_sku="SHIRT-BLUE-L")))
    assert lines == {"SHIRT-BLUE-M": ("Ships around 12 March", True),
                     "SHIRT-BLUE-L": ("Expected between 12 and 16 March", False),
                     "SHIRT-BLACK-L": ("Ships around 8 January 2027", True)}

    # Back in stock: the connector deletes the metafield and the line is gone.
    _, to_clear = metafield_inputs([StorefrontEta(str(variants["SHIRT-BLUE-L"].id), None)])
    run(docs.STOREFRONT_CLEAR_MUTATION, {"metafields": to_clear})
    assert served_fields(shirt_state, "SHIRT-BLUE-L") == {}
    query = "query($id: ID!) { productVariant(id: $id) { metafield(namespace: \"$app:backorder\", key: \"eta\") { type jsonValue } } }"
    shown = run(query, {"id": f"gid://shopify/ProductVariant/{variants['SHIRT-BLUE-M'].id}"})
    assert shown["productVariant"] == {"metafield": {"type": "json", "jsonValue": {"date": "2026-03-12"}}}
