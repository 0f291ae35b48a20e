"""The Shopify storefront ETA writer: one json metafield per variant, 25 per metafieldsSet, clears deleted."""

from __future__ import annotations

import json
from datetime import date

import pytest
from shopify_support import FakeShopify

from connector.errors import Skipped, UserError
from connector.platforms.base import StorefrontEta
from connector.platforms.shopify.adapter import ShopifyPlatform
from connector.platforms.shopify.storefront import DEFINITION, storefront_value

OK = {"userErrors": []}


def test_the_value_holds_only_what_is_known() -> None:
    assert storefront_value(StorefrontEta("1", date(2026, 3, 12))) == '{"date":"2026-03-12"}'
    ranged = StorefrontEta("1", date(2026, 3, 14), date(2026, 3, 12), date(2026, 3, 16), "Back soon")
    assert json.loads(storefront_value(ranged) or "") == {"date": "2026-03-14", "earliest": "2026-03-12",
                                                          "latest": "2026-03-16", "text": "Back soon"}
    assert storefront_value(StorefrontEta("1", None, text="ignored")) is None  # nothing to show: deleted


def test_sixty_variants_are_two_sets_of_25_and_one_of_ten_and_a_delete(platform: ShopifyPlatform,
                                                                        shop: FakeShopify) -> None:
    for _ in range(3):
        shop.data("BackorderEtaSet", {"metafieldsSet": {"metafields": [], **OK}})
    shop.data("BackorderEtaClear", {"metafieldsDelete": {"deletedMetafields": [], **OK}})
    items = [StorefrontEta(str(n), date(2026, 3, 12)) for n in range(60)] + [StorefrontEta("99", None)]
    answers = platform.write_storefront_etas(items)
    assert set(answers.values()) == {None} and len(answers) == 61
    assert shop.ops() == ["BackorderEtaSet"] * 3 + ["BackorderEtaClear"]
    assert [len(call.variables["metafields"]) for call in shop.calls] == [25, 25, 10, 1]
    first = shop.calls[0].variables["metafields"][0]
    assert first == {"ownerId": "gid://shopify/ProductVariant/0", "namespace": "$app:backorder", "key": "eta",
                     "type": "json", "value": '{"date":"2026-03-12"}'}
    assert shop.calls[3].variables["metafields"] == [
        {"ownerId": "gid://shopify/ProductVariant/99", "namespace": "$app:backorder", "key": "eta"}]


def test_the_definition_is_created_with_storefront_access_and_taken_is_fine(platform: ShopifyPlatform,
                                                                            shop: FakeShopify) -> None:
    shop.data("BackorderEtaDefinitionCreate", {"metafieldDefinitionCreate": {
        "createdDefinition": {"id": "gid://shopify/MetafieldDefinition/1", "namespace": "app--1--backorder",
                              "key": "eta"}, **OK}})
    shop.data("BackorderEtaDefinitionCreate", {"metafieldDefinitionCreate": {"createdDefinition": None, "userErrors": [
        {"field": ["definition", "key"], "message": "Key is in use", "code": "TAKEN"}]}})
    shop.data("BackorderEtaDefinitionCreate", {"metafieldDefinitionCreate": {"createdDefinition": None, "userErrors": [
        {"field": ["definition", "type"], "message": "Type is invalid", "code": "INCLUSION"}]}})
    platform.prepare_storefront()
    platform.prepare_storefront()
    with pytest.raises(UserError, match="Type is invalid"):
        platform.prepare_storefront()
    assert shop.calls[0].variables == {"definition": DEFINITION}
    assert DEFINITION["access"] == {"storefront": "PUBLIC_READ"} and DEFINITION["ownerType"] == "PRODUCTVARIANT"


def test_without_write_products_nothing_is_sent(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    platform.granted = ("write_orders", "read_products")
    with pytest.raises(Skipped, match="write_products"):
        platform.write_storefront_etas([StorefrontEta("1", date(2026, 3, 12))])
    assert shop.calls == []
