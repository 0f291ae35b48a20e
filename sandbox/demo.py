"""The live demo: both sandbox stores, their real install flows, sync, feeds, reconcile, push-back and notices.

Everything runs in this process on loopback addresses with a fresh SQLite database under
`data/demo/`, so the demo needs no account and can be run again at once. The web app is served
by a threaded server because installs call back into it while it is answering (the WooCommerce key
handover, Shopify's webhook subscription checks).
"""

from __future__ import annotations

import csv
import re
import shutil
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from connector.crypto import generate_secret_key
from connector.errors import ConnectorError
from connector.feeds.importer import import_feed
from connector.pipeline.scheduler import mark_reconcile
from connector.pipeline.webhook_setup import PENDING_SETTING
from connector.pipeline.worker import WorkerStats, run_worker
from sandbox.common import ServerThread
from connector.services import Services
from connector.settings import load_settings
from connector.pipeline.brake import send_held
from connector.pipeline.storefront import SETTING_ON as STOREFRONT_SETTING
from connector.store.models import Action, HeldReconcile, LineDecision, Order, OrderLine, Shop
from sandbox.demo_cancel import customers_cancel
from sandbox.demo_reorder import advise_reorder, explain_reasons

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "sandbox"
DEMO_API_KEY = "demo-app-key"
DEMO_API_SECRET = "demo-app-secret-not-for-production"
DEMO_ADMIN_PASSWORD = "demo"
MAIL_FROM = "Demo Outfitters <orders@demo-outfitters.example>"
# The second half of the demo: a supplier pushes these restocks back by this many days.
SLIP_DAYS = 12
SLIP_SKUS = 4
PLUS_BUCKET = 10_000.0
PLUS_RESTORE_RATE = 1_000.0


class DemoError(ConnectorError):
    """A step of the demo did not go as it must."""


@dataclass
class DemoRun:
    """What the demo did, for the closing summary."""

    services: Services
    web: ServerThread
    shopify: ServerThread
    woocommerce: ServerThread
    shop_ids: dict[str, int] = field(default_factory=dict)
    steps: list[tuple[str, str]] = field(default_factory=list)
    worker: WorkerStats = field(default_factory=WorkerStats)
    late_suppliers: int = 0  # late at p80 in the closing scorecard
    tables: list[Any] = field(default_factory=list)  # rich tables the summary prints after the steps
    started: float = field(default_factory=time.monotonic)
    _last: float = field(default_factory=time.monotonic)

    def step(self, title: str, detail: str) -> None:
        now = time.monotonic()
        self.steps.append((title, f"{detail} [{now - self._last:.1f} s]"))
        self._last = now

    def stop(self) -> None:
        for server in (self.web, self.shopify, self.woocommerce):
            server.stop()
        self.services.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_services(data_dir: Path, port: int) -> Services:
    """Settings for the demo alone: its own database, keys and loopback app address."""
    return Services(
        load_settings(
            database_url=f"sqlite:///{data_dir}/connector.db",
            data_dir=data_dir,
            app_url=f"http://127.0.0.1:{port}",
            connector_secret_key=generate_secret_key(),
            shopify_api_key=DEMO_API_KEY,
            shopify_api_secret=DEMO_API_SECRET,
            shopify_api_secret_previous=None,
            allow_loopback_api_url=True,
            outbound_allow_loopback=True,
            smtp_url=None,
            mail_from=MAIL_FROM,
            admin_password=DEMO_ADMIN_PASSWORD,
            worker_poll_seconds=0.2,
            cancel_mode="automatic",  # a customer's cancel is refunded at once (the product's default: approve)
        ),
        migrate=True,  # the demo starts from an empty database, so it creates the schema (its --help says so)
    )


def start(data_dir: Path, port: int | None = None) -> DemoRun:
    """Fresh data folder, both sandboxes and the web app, each on a loopback port."""
    from sandbox.shopify import run as run_shopify
    from sandbox.woocommerce import run as run_woocommerce
    from connector.web.app import create_app

    if data_dir.exists():
        shutil.rmtree(data_dir)
    (data_dir / "feeds").mkdir(parents=True)
    port = port or free_port()
    services = demo_services(data_dir, port)
    web = ServerThread(create_app(services), port=port).start()
    # A Shopify Plus store's limits (1,000 points/s restored): the demo's first push-back spends about
    # 15,000 points, which a standard plan (100/s) would pace over two and a half minutes.
    shopify = run_shopify(0, EXAMPLES / "shopify_seed.json", api_secret=DEMO_API_SECRET,
                          bucket_size=PLUS_BUCKET, restore_rate=PLUS_RESTORE_RATE)
    woocommerce = run_woocommerce(0, EXAMPLES / "woocommerce_seed.json")
    return DemoRun(services, web, shopify, woocommerce)


def _browse(url: str, params: dict[str, str]) -> requests.Response:
    """Follow an install the way a merchant's browser would: every redirect, one cookie jar."""
    with requests.Session() as browser:
        response = browser.get(url, params=params, timeout=30, allow_redirects=True)
    if response.status_code >= 400:
        raise DemoError(f"install step {response.url} answered {response.status_code}: {response.text[:200]}")
    return response


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def connect_woocommerce_as_operator(app_url: str, store_url: str, password: str) -> requests.Response:
    """What an operator does on the dashboard: log in, submit the connect form, approve on the store (which
    posts the key back), and land on the return page; one browser, every redirect followed."""
    with requests.Session() as browser:
        def token(path: str) -> str:
            page = browser.get(f"{app_url}{path}", timeout=30)
            found = _CSRF.search(page.text)
            if found is None:
                raise DemoError(f"{app_url}{path} answered {page.status_code} without a form")
            return found.group(1)

        login = browser.post(f"{app_url}/login", data={"password": password, "csrf_token": token("/login")},
                             timeout=30, allow_redirects=False)
        if login.status_code != 302:
            raise DemoError(f"operator login answered {login.status_code}")
        response = browser.post(f"{app_url}/connect/woocommerce",
                                data={"store_url": store_url, "csrf_token": token("/connect/woocommerce")},
                                timeout=30, allow_redirects=True)
    if response.status_code >= 400:
        raise DemoError(f"install step {response.url} answered {response.status_code}: {response.text[:200]}")
    return response


def install_shops(run: DemoRun) -> None:
    """Install the Shopify app through OAuth and authorize WooCommerce through wc-auth, as a merchant would."""
    from sandbox.shopify import sandbox_of as shopify_of

    app_url = run.services.settings.app_url
    shop_domain = shopify_of(run.shopify.app).state.shop
    _browse(f"{app_url}/auth/shopify", {"shop": shop_domain, "api_url": run.shopify.url})
    connect_woocommerce_as_operator(app_url, run.woocommerce.url, DEMO_ADMIN_PASSWORD)
    deadline = time.monotonic() + 20
    while True:
        with run.services.db.session() as session:
            shops = list(session.scalars(select(Shop).order_by(Shop.id)))
            pending = [shop.domain for shop in shops if shop.setting(PENDING_SETTING, False)]
            run.shop_ids = {shop.platform: shop.id for shop in shops}
        if len(run.shop_ids) == 2 and not pending:
            break
        if time.monotonic() > deadline:
            raise DemoError(f"install did not finish: shops {sorted(run.shop_ids)}, webhooks pending for {pending}")
        time.sleep(0.1)
    with run.services.db.session() as session:  # the merchant has added the theme block and the plugin
        for shop in session.scalars(select(Shop)):
            shop.set_setting(STOREFRONT_SETTING, True)
    run.step("Installed", f"Shopify {shop_domain} by OAuth, WooCommerce {run.woocommerce.url} by wc-auth; "
                          "webhooks subscribed; storefront ETA turned on")


def storefront_etas(run: DemoRun) -> dict[str, dict[str, str]]:
    """SKU -> the ETA each sandbox serves on its product pages (Shopify: the variant's metafield; WooCommerce:
    the product or variation meta the plugin reads)."""
    import json

    from sandbox.shopify import sandbox_of as shopify_of
    from sandbox.shopify.model import app_namespace
    from sandbox.woocommerce import sandbox_of as woo_of
    from sandbox.woocommerce.model import Product, Variation

    shopify = shopify_of(run.shopify.app).state
    served: dict[str, dict[str, str]] = {"shopify": {}, "woocommerce": {}}
    with shopify.lock:
        for variant in shopify.variants.values():
            found = variant.metafield(app_namespace("$app:backorder"), "eta")
            if found is not None and variant.sku:
                served["shopify"][variant.sku] = json.loads(found.value)["date"]
    woo = woo_of(run.woocommerce.app).state
    with woo.lock:
        items: list[Product | Variation] = [*woo.products.values(), *woo.variations.values()]
        for item in items:
            eta = next((entry.value for entry in item.meta if entry.key == "_backorder_eta" and entry.value), None)
            if eta and item.sku:
                served["woocommerce"][item.sku] = str(eta)
    return served


def show_storefront(run: DemoRun) -> None:
    served = storefront_etas(run)
    parts = []
    for platform, label in (("shopify", "Shopify variants"), ("woocommerce", "WooCommerce products")):
        sample = ", ".join(f"{sku} {eta}" for sku, eta in sorted(served[platform].items())[:2])
        parts.append(f"{len(served[platform])} {label} show an ETA before purchase ({sample})")
    run.step("Storefront ETA", "; ".join(parts) + "; in-stock variants show none (see each SKU page)")


def import_feeds(run: DemoRun) -> None:
    """Each store's supplier feed, copied into the demo folder so the demo can change it later."""
    from sandbox.demo_history import seed_history

    lines = [seed_history(run)]
    for platform, shop_id in sorted(run.shop_ids.items()):
        source = run.services.settings.data_dir / "feeds" / f"{platform}_supplier.csv"
        shutil.copyfile(EXAMPLES / "feeds" / f"{platform}_supplier.csv", source)
        with run.services.db.session() as session:
            result = import_feed(session, str(source), f"{platform}-supplier", shop_id=shop_id)
            mark_reconcile(session, shop_id)
        lines.append(result.line())
    run.step("Supplier feeds", "; ".join(lines))


def drain(run: DemoRun, *, flush_stores: bool = True) -> WorkerStats:
    """Let the stores deliver their webhooks, then work until nothing is due."""
    from sandbox.shopify import sandbox_of as shopify_of
    from sandbox.woocommerce import sandbox_of as woo_of

    total = WorkerStats()
    for _ in range(5):
        if flush_stores:
            shopify_of(run.shopify.app).webhooks.flush(10)
            woo_of(run.woocommerce.app).dispatcher.flush(10)
        stats = run_worker(run.services, once=True)
        for name in ("passes", "jobs", "deliveries", "actions"):
            setattr(total, name, getattr(total, name) + getattr(stats, name))
            setattr(run.worker, name, getattr(run.worker, name) + getattr(stats, name))
        if stats.deliveries == 0 and stats.actions == 0 and stats.jobs == 0:
            break
    return total


def place_new_orders(run: DemoRun) -> None:
    """Shoppers order items that are out of stock; the stores tell the connector by webhook."""
    backordered = _backordered_skus(run)
    placed = []
    shopify_skus = backordered.get(run.shop_ids["shopify"], [])[:3]
    for index, sku in enumerate(shopify_skus):
        body = {"email": f"new.buyer{index}@example.com",
                "customer": {"first_name": ["Noor", "Jonas", "Ama"][index % 3], "email": f"new.buyer{index}@example.com",
                             "locale": "de" if index == 1 else "en"},
                "line_items": [{"sku": sku, "quantity": 2}]}
        _post(f"{run.shopify.url}/_sandbox/orders", body)
        placed.append(f"Shopify {sku}")
    for index, sku in enumerate(backordered.get(run.shop_ids["woocommerce"], [])[:3]):
        body = {"status": "processing", "billing": {"first_name": ["Lea", "Tom", "Ines"][index % 3],
                                                     "email": f"woo.buyer{index}@example.com"},
                "line_items": [{"sku": sku, "quantity": 1}]}
        _post(f"{run.woocommerce.url}/_sandbox/orders", body)
        placed.append(f"WooCommerce {sku}")
    before = run.worker.deliveries
    drain(run)
    run.step("New orders", f"{len(placed)} placed in the stores ({', '.join(placed)}); "
                           f"{run.worker.deliveries - before} webhook deliveries processed")


def slip_supplier_dates(run: DemoRun) -> None:
    """A supplier pushes some restocks back; the connector re-imports and tells the customers."""
    slipped = []
    for platform, shop_id in sorted(run.shop_ids.items()):
        source = run.services.settings.data_dir / "feeds" / f"{platform}_supplier.csv"
        with source.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        changed = 0
        waiting = set(_backordered_skus(run).get(shop_id, []))
        for row in rows:
            if row["sku"] in waiting and row.get("restock_date") and changed < SLIP_SKUS:
                row["restock_date"] = (date.fromisoformat(row["restock_date"]) + timedelta(days=SLIP_DAYS)).isoformat()
                changed += 1
                slipped.append(row["sku"])
        with source.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        with run.services.db.session() as session:
            import_feed(session, str(source), f"{platform}-supplier", shop_id=shop_id)
            mark_reconcile(session, shop_id)
    before = _count_notices(run)
    shown = storefront_etas(run)
    drain(run)
    braked = _send_held(run)
    after = _count_notices(run)
    now_shown = storefront_etas(run)
    moved = sum(1 for platform in now_shown for sku, eta in now_shown[platform].items()
                if shown[platform].get(sku) != eta)
    run.step("Supplier delay", f"restock dates of {', '.join(slipped) or 'no SKU'} moved {SLIP_DAYS} days later; "
                               f"{braked}{after.get('eta_changed', 0) - before.get('eta_changed', 0)} ETA-changed "
                               f"notices sent; {moved} storefront ETA(s) moved with them")


def _send_held(run: DemoRun) -> str:
    """What the notice brake held, approved the way a merchant would on the dashboard, then drained."""
    with run.services.db.session() as session:
        held = list(session.scalars(select(HeldReconcile).where(HeldReconcile.status == "held")))
        seen = [(h.id, h.notices, h.waiting) for h in held]
    if not seen:
        return ""
    for held_id, _notices, _waiting in seen:
        send_held(run.services, held_id, by="the demo's merchant (dashboard)")
    drain(run)
    told = ", ".join(f"{notices} of {waiting}" for _id, notices, waiting in seen)
    return (f"the notice brake held the reconcile that would tell {told} waiting customers, and the merchant "
            "sent it after review; ")


def _post(url: str, body: dict[str, Any]) -> None:
    response = requests.post(url, json=body, timeout=30)
    if response.status_code >= 400:
        raise DemoError(f"{url} answered {response.status_code}: {response.text[:200]}")


def _backordered_skus(run: DemoRun) -> dict[int, list[str]]:
    """SKUs with backordered units per shop, most waiting units first."""
    with run.services.db.session() as session:
        rows = session.execute(
            select(Order.shop_id, OrderLine.sku, func.sum(LineDecision.backordered))
            .join(OrderLine, OrderLine.id == LineDecision.order_line_id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(LineDecision.backordered > 0, LineDecision.eta.is_not(None))
            .group_by(Order.shop_id, OrderLine.sku)
            .order_by(func.sum(LineDecision.backordered).desc(), OrderLine.sku)
        ).all()
    result: dict[int, list[str]] = {}
    for shop_id, sku, _units in rows:
        result.setdefault(shop_id, []).append(sku)
    return result


def _count_notices(run: DemoRun) -> Counter[str]:
    with run.services.db.session() as session:
        rows = session.execute(
            select(Action.payload).where(Action.kind == "notify", Action.status == "sent")
        ).scalars()
        return Counter(str(payload.get("notice", payload.get("kind", "?"))) for payload in rows)


def run_demo(data_dir: Path, *, port: int | None = None) -> DemoRun:
    """The whole loop; returns the running demo (the caller stops it, or leaves it up)."""
    run = start(data_dir, port)
    try:
        install_shops(run)
        import_feeds(run)
        drain(run)
        with run.services.db.session() as session:
            synced = session.scalar(select(func.count()).select_from(Order))
        run.step("First sync", f"{synced} orders synced from both stores, reconciled and pushed back")
        show_storefront(run)
        place_new_orders(run)
        slip_supplier_dates(run)
        explain_reasons(run)
        customers_cancel(run)
        advise_reorder(run)
        from sandbox.demo_history import scorecard_table

        table, late = scorecard_table(run)
        run.tables.append(table)
        run.late_suppliers = late
        if not late:
            raise DemoError("no supplier is late in the scorecard")
    except BaseException:
        run.stop()
        raise
    return run
