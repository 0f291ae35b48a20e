"""Shared pieces of the end-to-end suite: small seeded sandbox stores, a recorder of the writes a store
receives, the CLI and worker steps of a cycle, and the install flow a merchant's browser follows."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import requests
import pytest
from click.testing import CliRunner
from flask import Flask
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse
from sqlalchemy import select

from connector.cli import cli
from connector.feeds.importer import ImportResult, import_feed
from connector.pipeline.webhook_setup import PENDING_SETTING
from connector.pipeline.worker import WorkerStats, run_worker
from sandbox.common import ServerThread
from connector.services import Services
from connector.settings import Settings
from connector.store.models import Action, Order, OrderDecision, Shop
from tests.conftest import TEST_SECRET_KEY, make_settings

SHOPIFY_DOMAIN = "e2e-outfitters.myshopify.com"
SHOPIFY_TOKEN = "shpat_e2e_0123456789abcdef"
SHOPIFY_API_KEY = "test-api-key"
SHOPIFY_SECRET = "test_secret_key"  # what tests/conftest.py's make_settings uses for SHOPIFY_API_SECRET
WOO_KEY = "ck_" + "e2e4" * 10
WOO_SECRET = "cs_" + "5ec7" * 10
LOCATION = 7001
MERCHANT_NOTE = "Gift wrap, please. Customer prefers DHL."
MAIL_FROM = "E2E Outfitters <orders@e2e-outfitters.example>"
TODAY = datetime.now(UTC).date()


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def _shopify_time(offset_days: int) -> str:
    return f"{day(offset_days).isoformat()}T09:00:00Z"


def shopify_seed() -> dict[str, Any]:
    """Four SKUs: a shirt out of stock with a restock date, a lantern out of stock with no supplier date,
    a mug in stock, one sock for two customers. Order #1001 carries the merchant's own tags and note."""
    stock = {"E2E-SHIRT": 0, "E2E-LANTERN": 0, "E2E-MUG": 40, "E2E-SOCK": 1}
    products = [{"id": 8001 + n, "title": sku.removeprefix("E2E-").title(), "variants": [{
        "id": 9001 + n, "sku": sku, "inventoryItemId": 9_007_199_254_741_000 + n, "inventoryPolicy": "CONTINUE",
        "inventoryLevels": [{"locationId": LOCATION, "quantities": {"available": units}}]}]}
        for n, (sku, units) in enumerate(stock.items())]

    def order(number: int, offset: int, email: str | None, lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
        customer = {"id": 4000 + number, "firstName": f"Buyer{number}", "lastName": "E2E", "email": email,
                    "locale": "en"} if email else None
        return {"id": 6000 + number, "name": f"#{1000 + number}", "createdAt": _shopify_time(offset),
                "updatedAt": _shopify_time(offset), "displayFinancialStatus": "PAID", "customer": customer,
                "lineItems": [{"id": 5000 + 10 * number + index, "sku": sku, "quantity": quantity}
                              for index, (sku, quantity) in enumerate(lines)], **extra}

    orders = [
        order(1, -9, "ada@example.com", [("E2E-SHIRT", 2), ("E2E-MUG", 1)], note=MERCHANT_NOTE, tags=["vip", "wholesale"]),
        order(2, -8, "bob@example.com", [("E2E-SOCK", 1)]),
        order(3, -7, "grace@example.com", [("E2E-LANTERN", 1)]),
        order(4, -6, "linus@example.com", [("E2E-SOCK", 1), ("E2E-MUG", 2)]),
    ]
    return {"shop": SHOPIFY_DOMAIN, "locations": [{"id": LOCATION, "name": "Main warehouse"}],
            "products": products, "orders": orders}


def shopify_feed_rows() -> list[dict[str, Any]]:
    return [
        {"sku": "E2E-SHIRT", "available": 0, "restock_date": day(10).isoformat(), "restock_qty": 20, "lead_time_days": 2},
        {"sku": "E2E-MUG", "available": 100, "restock_date": "", "restock_qty": "", "lead_time_days": 3},
        {"sku": "E2E-SOCK", "available": 0, "restock_date": day(5).isoformat(), "restock_qty": 10, "lead_time_days": 1},
    ]


def _woo_time(offset_days: int) -> str:
    return f"{day(offset_days).isoformat()}T09:00:00"


def woocommerce_seed(webhooks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A kettle oversold by three units (two open orders wait for it) and cups in stock."""
    reduced = [{"key": "_reduced_stock", "value": "1"}]
    products = [
        {"id": 10, "name": "Kettle", "type": "simple", "sku": "WE2E-KETTLE", "price": "40.00", "manage_stock": True,
         "stock_quantity": -3, "backorders": "notify", "stock_status": "onbackorder", "date_created_gmt": _woo_time(-60)},
        {"id": 11, "name": "Cup", "type": "simple", "sku": "WE2E-CUP", "price": "8.00", "manage_stock": True,
         "stock_quantity": 30, "backorders": "no", "stock_status": "instock", "date_created_gmt": _woo_time(-60)},
    ]

    def order(order_id: int, offset: int, status: str, email: str, lines: list[tuple[int, int]]) -> dict[str, Any]:
        return {"id": order_id, "status": status, "date_created_gmt": _woo_time(offset), "customer_id": order_id,
                "billing": {"first_name": f"Buyer{order_id}", "last_name": "E2E", "email": email},
                "line_items": [{"id": 10 * order_id + index, "product_id": product, "quantity": quantity,
                                "meta_data": reduced} for index, (product, quantity) in enumerate(lines)],
                "meta_data": []}

    return {"site_url": None, "site_title": "E2E kitchen", "https_mode": False, "gmt_offset_hours": 0,
            "currency": "EUR", "customer_note_email_enabled": True,
            "api_keys": [{"key_id": 1, "user_id": 1, "consumer_key": WOO_KEY, "consumer_secret": WOO_SECRET,
                          "permissions": "read_write", "description": "e2e suite"}],
            "products": products,
            "orders": [order(501, -9, "processing", "lea@example.com", [(10, 2), (11, 1)]),
                       order(502, -8, "processing", "tom@example.com", [(10, 1)]),
                       order(503, -7, "on-hold", "ines@example.com", [(11, 1)])],
            "webhooks": webhooks or []}


def woocommerce_feed_rows() -> list[dict[str, Any]]:
    return [
        {"sku": "WE2E-KETTLE", "available": 0, "restock_date": day(9).isoformat(), "restock_qty": 10, "lead_time_days": 1},
        {"sku": "WE2E-CUP", "available": 50, "restock_date": "", "restock_qty": "", "lead_time_days": 2},
    ]


def write_seed(path: Path, seed: dict[str, Any]) -> Path:
    path.write_text(json.dumps(seed))
    return path


def write_feed(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    rows = list(rows)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- what a store receives ---------------------------------------------------------------------


def _mutation_calls(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(root field, variables) of the mutation a GraphQL request body runs; [] for a query."""
    try:
        payload = json.loads(body)
        document = parse(payload["query"])
    except (ValueError, KeyError, TypeError, GraphQLError):
        return []
    wanted = payload.get("operationName")
    variables = payload.get("variables") or {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if wanted and (definition.name is None or definition.name.value != wanted):
            continue
        if definition.operation != OperationType.MUTATION:
            return []
        return [(selection.name.value, variables) for selection in definition.selection_set.selections
                if isinstance(selection, FieldNode)]
    return []


class WriteRecorder:
    """WSGI middleware around a sandbox app that records every write request it receives through the
    store's API: Shopify mutations (root field and variables) and WooCommerce REST calls other than GET."""

    def __init__(self, app: Flask, platform: str) -> None:
        self.platform = platform
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._inner = app.wsgi_app
        app.wsgi_app = self  # type: ignore[method-assign]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if self.platform == "shopify" and path.endswith("/graphql.json") and method == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            self.calls.extend(_mutation_calls(body))
        elif self.platform == "woocommerce" and path.startswith("/wp-json/") and method not in ("GET", "HEAD"):
            self.calls.append((f"{method} {path}", {}))
        return self._inner(environ, start_response)

    def take(self) -> list[str]:
        """The writes received since the last call (Shopify: mutation names; WooCommerce: method and path)."""
        return [name for name, _ in self.take_calls()]

    def take_calls(self) -> list[tuple[str, dict[str, Any]]]:
        taken, self.calls = self.calls, []
        return taken


class Store:
    """A sandbox store, running on a loopback port, with a recorder of the writes it receives."""

    def __init__(self, server: ServerThread, platform: str) -> None:
        self.server = server
        self.recorder = WriteRecorder(server.app, platform)

    @property
    def url(self) -> str:
        return self.server.url


def start_shopify(tmp_path: Path, request: pytest.FixtureRequest, seed: dict[str, Any] | None = None,
                  **options: Any) -> Store:
    """The Shopify sandbox over `seed` (default `shopify_seed()`), stopped when the test ends."""
    from sandbox.shopify import run

    options.setdefault("restore_rate", 1000.0)  # a Plus store's refill, so pacing never slows the suite
    server = run(0, write_seed(tmp_path / "shopify_seed.json", seed or shopify_seed()), api_secret=SHOPIFY_SECRET,
                 access_token=SHOPIFY_TOKEN, **options)
    request.addfinalizer(server.stop)
    return Store(server, "shopify")


def start_woocommerce(tmp_path: Path, request: pytest.FixtureRequest,
                      webhooks: list[dict[str, Any]] | None = None) -> Store:
    """The WooCommerce sandbox over `woocommerce_seed(webhooks)`, stopped when the test ends."""
    from sandbox.woocommerce import run

    server = run(0, write_seed(tmp_path / "woocommerce_seed.json", woocommerce_seed(webhooks)))
    request.addfinalizer(server.stop)
    return Store(server, "woocommerce")


# --- the connector's side --------------------------------------------------------------------


def e2e_services(database_url: str, tmp_path: Path, **overrides: Any) -> Services:
    """Services over a fresh database; notices go to .eml files under the data folder's outbox."""
    overrides.setdefault("admin_password", OPERATOR_PASSWORD)
    settings = make_settings(database_url, tmp_path, allow_loopback_api_url=True, smtp_url=None,
                             mail_from=MAIL_FROM, **overrides)
    services = Services(settings)
    services.upgrade_database()  # the CLI commands the tests run next only check the schema
    return services


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment a `connector` command needs to act on the test's database and data folder."""
    return {"DATABASE_URL": settings.database_url, "DATA_DIR": str(settings.data_dir),
            "CONNECTOR_SECRET_KEY": TEST_SECRET_KEY, "SHOPIFY_API_KEY": SHOPIFY_API_KEY,
            "SHOPIFY_API_SECRET": SHOPIFY_SECRET, "APP_URL": settings.app_url}


def connector(settings: Settings, *args: str) -> str:
    """Run one `connector` command as an operator would; returns what it printed on stdout (notes go to
    stderr), failing on a bad exit."""
    result = CliRunner().invoke(cli, list(args), env=cli_env(settings), catch_exceptions=False)
    assert result.exit_code == 0, f"connector {' '.join(args)} exited {result.exit_code}: {result.output}"
    return result.stdout


def import_supplier_feed(services: Services, path: Path, supplier: str, shop_id: int) -> ImportResult:
    with services.db.session() as session:
        return import_feed(session, str(path), supplier, shop_id=shop_id)


def drain(services: Services) -> WorkerStats:
    """The worker, once, without the periodic schedule: due jobs, deliveries and actions until none is left."""
    return run_worker(services, once=True, schedule=False)


def run_cycle(services: Services, shop_id: int, feed: Path, supplier: str,
              as_of: date = TODAY) -> tuple[str, str, WorkerStats]:
    """One sync -> feed import -> reconcile -> push-back cycle; returns the sync and reconcile output lines."""
    synced = connector(services.settings, "sync", "--shop", str(shop_id))
    import_supplier_feed(services, feed, supplier, shop_id)
    reconciled = connector(services.settings, "reconcile", "--shop", str(shop_id), "--as-of", as_of.isoformat())
    return synced, reconciled, drain(services)


def unsettled(services: Services) -> list[tuple[str, str, str | None]]:
    """Actions neither done, sent nor superseded, with their last error: [] after a clean drain."""
    with services.db.session() as session:
        rows = session.execute(select(Action.kind, Action.status, Action.last_error)
                               .where(Action.status.not_in(("done", "sent", "superseded"))))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def sent_notices(services: Services) -> list[tuple[str, str]]:
    """(order name, notice kind) of every notice sent, oldest first."""
    with services.db.session() as session:
        rows = session.execute(select(Order.name, Action.payload).join(Order, Order.id == Action.order_id)
                               .where(Action.kind == "notify", Action.status == "sent").order_by(Action.id))
        return [(name, str(payload["notice"])) for name, payload in rows]


def decisions(services: Services, shop_id: int) -> dict[str, tuple[str, date | None]]:
    """Order name -> (status, ETA) as the connector decided."""
    with services.db.session() as session:
        rows = session.execute(select(Order.name, OrderDecision.status, OrderDecision.eta)
                               .join(Order, Order.id == OrderDecision.order_id).where(Order.shop_id == shop_id))
        return {name: (status, eta) for name, status, eta in rows}


def eml_notices(outbox: Path) -> list[tuple[str, str]]:
    """(recipient, subject) of every .eml file the connector wrote."""
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        found.append((str(message["To"]), str(message["Subject"])))
    return found


# --- installing through the web app ------------------------------------------------------------


class AppSlot:
    """A WSGI app filled in after its server is listening: the app's settings need the server's port."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.app(environ, start_response)


OPERATOR_PASSWORD = "e2e operator password"


def connect_woocommerce(server_url: str, store_url: str) -> requests.Response:
    """The operator connects the store from the dashboard; the store approves and posts the key back."""
    from sandbox.demo import connect_woocommerce_as_operator

    return connect_woocommerce_as_operator(server_url, store_url, OPERATOR_PASSWORD)


def browse(url: str, params: dict[str, str]) -> requests.Response:
    """Follow an install the way a merchant's browser would: every redirect, one cookie jar."""
    with requests.Session() as browser:
        response = browser.get(url, params=params, timeout=30, allow_redirects=True)
    assert response.status_code < 400, f"{response.url} answered {response.status_code}: {response.text[:300]}"
    return response


def wait_for_installed(services: Services, platform: str, patience: float = 20.0) -> int:
    """The shop id once the install is stored and its webhooks are in place (WooCommerce sets them up
    after answering the key handover)."""
    deadline = time.monotonic() + patience
    while True:
        with services.db.session() as session:
            shop = session.scalar(select(Shop).where(Shop.platform == platform))
            if shop is not None and not shop.setting(PENDING_SETTING, False):
                return shop.id
        assert time.monotonic() < deadline, f"the {platform} install did not finish"
        time.sleep(0.05)
