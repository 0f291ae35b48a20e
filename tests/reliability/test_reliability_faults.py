"""Faults: a sync-and-push cycle against a store injecting 5xx, slow answers, throttling and dropped
webhooks ends with the store exactly as a fault-free run leaves it, and one notice per order."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from sandbox.common import FaultPlan, ServerThread
from connector.services import Services
from connector.web.app import create_app
from reliability_support import Store, install_shop, quick_platform, run_cycle, start_store
from tests.conftest import make_settings

FAULTS = dict(error_rate=0.2, slow_rate=0.1, slow_seconds=0.02, throttle_rate=0.15, drop_webhook_rate=0.5)


@contextmanager
def connector_for(tmp_path: Path, database_url: str) -> Iterator[tuple[Services, str]]:
    """Services with eager clients, and the connector's web app listening for the store's webhooks."""
    services = Services(make_settings(database_url, tmp_path, mail_from="shop@example.com"),
                        platform_factory=quick_platform, migrate=True)
    web = ServerThread(create_app(services)).start()
    try:
        yield services, web.url
    finally:
        web.stop()
        services.close()


def notices_per_order(services: Services) -> Counter[str]:
    """Customer notices sent as .eml files (no SMTP is configured), counted per recipient."""
    outbox = services.settings.outbox_dir
    counts: Counter[str] = Counter()
    for message in outbox.rglob("*.eml") if outbox.exists() else []:
        for line in message.read_text(errors="replace").splitlines():
            if line.lower().startswith("to:"):
                counts[line.split(":", 1)[1].strip()] += 1
                break
    return counts


def retries_logged(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for record in caplog.records
               if record.name.startswith("connector") and "retr" in record.getMessage().lower())


def one_run(tmp_path: Path, database_url: str, platform: str, faults: FaultPlan) -> tuple[Store, Services, list]:
    with connector_for(tmp_path, database_url) as (services, web_url):
        store = start_store(platform, faults, webhook_url=f"{web_url}/webhooks/shopify")
        try:
            shop_id = install_shop(services, store)
            run_cycle(services, shop_id)
            # Webhooks still queued in the store arrive; then the store recovers and the periodic sync
            # runs once more, as it would in production.
            if platform == "shopify":
                requests.post(f"{store.url}/_sandbox/webhooks/flush", timeout=30)
                store.faults.update({"error_rate": 0, "throttle_rate": 0, "slow_rate": 0})
                run_cycle(services, shop_id)
            return store, services, store.state()
        finally:
            store.server.stop()


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_a_faulty_store_ends_like_a_fault_free_one(tmp_path: Path, platform: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    clean_dir, faulty_dir = tmp_path / "clean", tmp_path / "faulty"
    clean_dir.mkdir()
    faulty_dir.mkdir()
    _, clean_services, clean = one_run(clean_dir, f"sqlite:///{clean_dir}/c.db", platform, FaultPlan(seed=1))
    assert not retries_logged(caplog)
    caplog.clear()
    _, faulty_services, faulty = one_run(faulty_dir, f"sqlite:///{faulty_dir}/c.db", platform,
                                         FaultPlan(seed=11, **FAULTS))
    assert retries_logged(caplog) >= 3  # the faults did happen, and were outlasted
    check_same_outcome(platform, clean, faulty, clean_services, faulty_services)


def check_same_outcome(platform: str, clean: list, faulty: list, clean_services: Services,
                       faulty_services: Services) -> None:
    """The faulty run left the store, and the customers' inboxes, exactly as the clean run did."""
    assert faulty == clean
    if platform == "shopify":
        tagged = [order for order in clean if "backordered" in order["tags"]]
        assert tagged and all(order["holds"] and order["note"] and order["metafields"] for order in tagged)
        clean_notices, faulty_notices = notices_per_order(clean_services), notices_per_order(faulty_services)
        assert clean_notices == faulty_notices
        assert len(clean_notices) == len(tagged) and set(clean_notices.values()) == {1}
    else:
        marked = [order for order in clean if order["meta"]]
        assert marked and all(order["notes"] for order in marked)
        assert [order["emails"] for order in faulty] == [order["emails"] for order in clean]
        assert {order["emails"] for order in clean} <= {0, 1} and any(order["emails"] for order in clean)
