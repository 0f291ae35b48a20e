"""Headless Chromium: the ETA block follows the variant picker on a sandbox product page, and is screenshotted."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sandbox.shopify.state import ShopifyState
from tests.storefront.shopify_liquid import EXTENSION_DIR, ShopifyEnvironment
from tests.storefront.storefront_support import NOW, ROOT, SHIRT, SHIRT_FIELDS, render_eta_block, sandbox_product

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = ROOT / "docs" / "screenshot-storefront-eta.png"
PAGE_TEMPLATE = Path(__file__).resolve().parent / "product_page.liquid"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
# A stand-in for a Dawn-style theme script: Dawn's pubsub globals, loaded after the app block's script.
THEME_JS = """
let themeSubscribers = {};
function subscribe(eventName, callback) {
  (themeSubscribers[eventName] = themeSubscribers[eventName] || []).push(callback);
  return () => { themeSubscribers[eventName] = themeSubscribers[eventName].filter((cb) => cb !== callback); };
}
function publish(eventName, data) {
  return Promise.all((themeSubscribers[eventName] || []).map((callback) => callback(data)));
}
const PUB_SUB_EVENTS = { variantChange: 'variant-change' };
"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]


def write_product_page(folder: Path, state: ShopifyState, selected_sku: str) -> Path:
    """The sandbox shirt's page with the rendered block, the extension's assets and the theme script."""
    product = sandbox_product(state, SHIRT, SHIRT_FIELDS, selected_sku=selected_sku)
    env = ShopifyEnvironment(EXTENSION_DIR, locale="en", primary_locale="en", now=NOW)
    page = env.from_string(PAGE_TEMPLATE.read_text(encoding="utf-8")).render(
        product=product, shop_name="backorder-demo", price="$25.00", eta_block=render_eta_block(product))
    (folder / "product.html").write_text(page, encoding="utf-8")
    for asset in ("backorder-eta.js", "backorder-eta.css"):
        shutil.copy(EXTENSION_DIR / "assets" / asset, folder / asset)
    (folder / "theme.js").write_text(THEME_JS, encoding="utf-8")
    return folder / "product.html"


def test_block_follows_every_kind_of_variant_picker_and_is_screenshotted(shirt_state: ShopifyState,
                                                                          tmp_path: Path) -> None:
    from playwright.sync_api import Page, expect, sync_playwright

    ids = {v.sku: v.id for v in shirt_state.variants.values()}
    page_file = write_product_page(tmp_path, shirt_state, selected_sku="SHIRT-BLUE-M")

    def shown(page: Page, text: str | None) -> None:
        visible = page.locator("[data-backorder-eta] [data-variant-id]:visible")
        if text is None:
            expect(visible).to_have_count(0)
        else:
            expect(visible).to_have_count(1)
            expect(visible).to_have_text(text)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1180, "height": 640})
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            shown(page, "Ships around 12 March")

            # Any theme: the product form's id select.
            page.select_option("select[name=id]", str(ids["SHIRT-BLUE-L"]))
            shown(page, "Expected between 12 and 16 March")
            page.select_option("select[name=id]", str(ids["SHIRT-BLUE-S"]))  # in stock
            shown(page, None)

            # Dawn: pub/sub, subscribed once the theme's deferred scripts have run.
            page.evaluate("id => publish(PUB_SUB_EVENTS.variantChange, {data: {variant: {id}}})", ids["SHIRT-BLACK-L"])
            shown(page, "Ships around 8 January 2027")

            # Horizon: variant:update bubbling from the picker; a null resource means no such variant.
            horizon = """([id, productId]) => document.querySelector('#variant-id').dispatchEvent(new CustomEvent(
                'variant:update', {bubbles: true, detail: {resource: id === null ? null : {id}, sourceId: 'picker',
                data: {productId: String(productId)}}}))"""
            page.evaluate(horizon, [ids["SHIRT-BLUE-M"], SHIRT])
            shown(page, "Ships around 12 March")
            page.evaluate(horizon, [None, SHIRT])
            shown(page, None)

            # variant:change on the document.
            page.evaluate("id => document.dispatchEvent(new CustomEvent('variant:change', {detail: {variant: {id}}}))",
                          ids["SHIRT-BLACK-S"])
            shown(page, "Expected between 30 March and 2 April")

            # A variant of another product (a featured product, a quick-add) changes nothing.
            page.evaluate(horizon, [44999999999999, 8999999999999])
            page.evaluate("() => publish(PUB_SUB_EVENTS.variantChange, {data: {variant: {id: 44999999999998}}})")
            shown(page, "Expected between 30 March and 2 April")
            assert errors == []

            page.select_option("select[name=id]", str(ids["SHIRT-BLUE-L"]))
            shown(page, "Expected between 12 and 16 March")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
