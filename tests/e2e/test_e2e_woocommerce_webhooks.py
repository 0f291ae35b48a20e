"""WooCommerce webhooks that are off: one the store owner paused stays paused; one WooCommerce disabled after
failed deliveries is switched back on only after a test delivery reached the intake, and the dashboard says why."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connector.pipeline.webhook_setup import ensure_shop_webhooks
from connector.services import Services
from connector.store.models import InboxItem, WebhookSubscription
from connector.web.app import create_app
from e2e_support import connect_woocommerce, drain, start_woocommerce, wait_for_installed
from sandbox.common import ServerThread

PASSWORD = "correct horse battery staple"


def statuses(services: Services, shop_id: int) -> dict[str, tuple[str | None, str | None]]:
    with services.db.session() as session:
        return {hook.topic: (hook.status, hook.status_note) for hook in session.scalars(
            select(WebhookSubscription).where(WebhookSubscription.shop_id == shop_id))}


def test_paused_stays_paused_and_disabled_comes_back_only_after_a_test_delivery(
        web: tuple[ServerThread, Services], tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from sandbox.woocommerce.context import sandbox_of

    server, services = web
    store = start_woocommerce(tmp_path, request)
    connect_woocommerce(server.url, store.url)
    shop_id = wait_for_installed(services, "woocommerce")
    hooks = {hook.topic: hook for hook in sandbox_of(store.server.app).state.webhooks.values()}
    hooks["order.updated"].status = "paused"  # the store owner's choice
    hooks["order.created"].status, hooks["order.created"].failure_count = "disabled", 6  # WooCommerce gave up

    assert ensure_shop_webhooks(services, shop_id)
    assert hooks["order.updated"].status == "paused"  # never re-enabled
    assert hooks["order.created"].status == "active"  # the test delivery got through to the intake
    recorded = statuses(services, shop_id)
    assert recorded["order.updated"][0] == "paused" and "leaves it paused" in (recorded["order.updated"][1] or "")
    assert recorded["order.created"][0] == "active" and "Re-enabled after a test delivery" in (recorded["order.created"][1] or "")
    assert recorded["product.updated"] == ("active", None)

    drain(services)  # the test delivery that got through is in the inbox, settled with a note
    with services.db.session() as session:
        tests = list(session.scalars(select(InboxItem).where(InboxItem.topic == "action.backorder_connector_test")))
    assert len(tests) == 1 and tests[0].status == "done" and "test delivery" in (tests[0].note or "")

    # The intake is down (a bad deploy answering 503) and WooCommerce disables another webhook: the test
    # cannot get through, so it stays off and the dashboard says why.
    intake = server.app.app  # type: ignore[attr-defined]
    server.app.app = unavailable  # type: ignore[attr-defined]
    try:
        hooks["order.deleted"].status, hooks["order.deleted"].failure_count = "disabled", 6
        assert ensure_shop_webhooks(services, shop_id)
    finally:
        server.app.app = intake  # type: ignore[attr-defined]
    assert hooks["order.deleted"].status == "disabled"
    deleted = statuses(services, shop_id)["order.deleted"]
    assert deleted[0] == "disabled" and "HTTP 503" in (deleted[1] or "") and "stays disabled" in (deleted[1] or "")

    operator = Services(services.settings.model_copy(update={"admin_password": PASSWORD}), migrate=True)
    client = create_app(operator).test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token is not None
    client.post("/login", data={"password": PASSWORD, "csrf_token": token.group(1)})
    page = client.get("/deliveries").get_data(as_text=True)
    assert "Webhook order.deleted is disabled" in page and "WooCommerce disabled it after repeated failed deliveries" in page
    assert "Webhook order.updated is paused" in page
    operator.close()


def unavailable(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"down"]
