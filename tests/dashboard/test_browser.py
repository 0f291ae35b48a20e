"""Browser test: headless Chromium logs in, filters the backorders, opens an order, previews a reconcile, loads the
Suppliers and Outcomes pages and their charts, screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask

from sandbox.common import ServerThread
from connector.services import Services
from tests.dashboard.conftest import ADMIN_PASSWORD
from tests.dashboard.dashboard_seed import Seeded, add_extra_orders
from tests.dashboard.supplier_seed import OCEAN, add_supplier_history

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-dashboard.png"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]


def test_login_filter_open_order_dry_run_and_screenshot(app: Flask, seeded: Seeded, dash_services: Services,
                                                        tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    add_extra_orders(dash_services, seeded.shops["alpha"], 9)
    add_supplier_history(dash_services, seeded, tmp_path)
    backordered = 3 + 9
    with ServerThread(app) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 860})
            page.set_default_timeout(15_000)
            page.goto(server.url + "/orders")
            expect(page.get_by_role("heading", name="Operator login")).to_be_visible()
            page.get_by_label("Admin password").fill(ADMIN_PASSWORD)
            page.get_by_role("button", name="Log in").click()

            expect(page.get_by_role("heading", name="Backordered orders")).to_be_visible()
            rows = page.locator("table.orders tbody tr")
            expect(rows).to_have_count(backordered)

            page.get_by_label("Search").fill("lovelace")
            page.get_by_label("Status").select_option("notice_sent")
            page.get_by_role("button", name="Apply").click()
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("#1001")

            page.get_by_role("link", name="#1001").click()
            expect(page.get_by_role("heading", name="Order #1001")).to_be_visible()
            expect(page.locator("body")).to_contain_text("supplier Acme: restock")

            page.goto(server.url + "/orders")
            page.get_by_role("link", name="Re-run reconcile…").click()
            expect(page.locator(".preview")).to_contain_text("Dry run")
            expect(page.get_by_role("button", name="Run reconcile now")).to_be_visible()

            page.get_by_role("link", name="Suppliers", exact=True).click()
            expect(page.get_by_role("heading", name="Suppliers")).to_be_visible()
            expect(page.locator("table.scorecards")).to_contain_text(OCEAN)
            histograms = page.locator("section.lateness svg.chart")
            expect(histograms).to_have_count(2)
            expect(histograms.first.locator("rect.bar")).not_to_have_count(0)

            page.get_by_role("link", name="Outcomes", exact=True).click()
            expect(page.get_by_role("heading", name="Outcomes")).to_be_visible()
            charts = page.locator("svg.chart")
            expect(charts).to_have_count(2)
            for index in range(2):
                expect(charts.nth(index).locator("rect.bar")).not_to_have_count(0)
            expect(page.locator("table.report")).to_contain_text("Alpha Outfitters")

            page.goto(server.url + "/orders")
            expect(rows).to_have_count(backordered)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
