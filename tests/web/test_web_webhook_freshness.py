"""Replay-safe Shopify webhooks (issue 13, finding 6): a captured signed delivery sent again later is answered
200 and not stored, a compliance body about another shop is 400, and both are recorded and shown."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from connector.services import Services
from connector.store.models import WebhookRefusal, utcnow
from web_support import ADMIN_PASSWORD, add_shop, inbox_count, shopify_headers
from webhooks.freshness import staleness, triggered_at

URL = "/webhooks/shopify"


def _at(minutes_ago: float) -> str:
    # Shopify writes nanoseconds; the fraction here is made up, so ages read to the minute may be one less.
    return (utcnow() - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.123456789Z")


def _refusals(services: Services) -> list[tuple[str, str, str]]:
    with services.db.session() as session:
        return [(r.shop_domain, r.topic, r.reason) for r in session.scalars(select(WebhookRefusal))]


def test_a_delivery_older_than_the_window_is_answered_200_and_not_stored(client: FlaskClient,
                                                                          web_services: Services) -> None:
    body = b'{"id": 1}'
    headers = {**shopify_headers(body), "X-Shopify-Triggered-At": _at(361), "X-Shopify-Webhook-Id": "replayed-1"}
    response = client.post(URL, data=body, headers=headers)
    assert response.status_code == 200 and response.get_json() == {"status": "stale"}
    assert inbox_count(web_services) == 0
    [(domain, topic, reason)] = _refusals(web_services)
    assert reason.startswith("stale: triggered 36") and reason.endswith("past the 360-minute window")
    # Shopify's own retries, up to 4 hours after the event, still get through.
    headers.update({"X-Shopify-Triggered-At": _at(240), "X-Shopify-Webhook-Id": "retry-1"})
    assert client.post(URL, data=body, headers=headers).get_json() == {"status": "stored"}
    assert inbox_count(web_services) == 1


@pytest.mark.parametrize("topic", ["shop/redact", "customers/redact", "customers/data_request", "app/uninstalled"])
def test_a_compliance_body_about_another_shop_is_400(client: FlaskClient, web_services: Services, topic: str) -> None:
    """Shop A's signed shop/redact relabelled as shop B's must not erase B."""
    field = "myshopify_domain" if topic == "app/uninstalled" else "shop_domain"
    body = json.dumps({field: "alpha.myshopify.com", "shop_id": 1}).encode()
    headers = {**shopify_headers(body), "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": "beta.myshopify.com"}
    assert client.post(URL, data=body, headers=headers).status_code == 400
    assert inbox_count(web_services) == 0
    assert _refusals(web_services) == [("beta.myshopify.com", topic, "the body names another shop than "
                                                                      "Shopify-Shop-Domain")]
    headers["X-Shopify-Shop-Domain"] = "alpha.myshopify.com"
    assert client.post(URL, data=body, headers=headers).status_code == 200


def test_refusals_are_counted_on_the_deliveries_page(client: FlaskClient, web_services: Services) -> None:
    add_shop(web_services, "shopify", "demo.myshopify.com")
    body = b'{"id": 2}'
    client.post(URL, data=body, headers={**shopify_headers(body), "X-Shopify-Triggered-At": _at(3000)})
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token is not None
    client.post("/login", data={"password": ADMIN_PASSWORD, "csrf_token": token.group(1)})
    page = client.get("/deliveries").get_data(as_text=True)
    assert "1 in 7 days" in page and "minutes ago, past the 360-minute window" in page


@pytest.mark.parametrize(("value", "stale"), [
    ("2026-12-04T15:59:00Z", True), ("2026-12-04T16:00:00Z", False), ("2026-12-04T21:59:00.000000001Z", False), ("2026-12-04T22:00:00+00:00", False),
    ("", False), ("not a time", False), ("2026-12-04T16:00:00", False),
])
def test_trigger_times_as_shopify_writes_them(value: str, stale: bool) -> None:
    now = triggered_at("2026-12-04T22:00:00Z")
    assert now is not None
    assert (staleness(value, timedelta(minutes=360), now) is not None) == stale


def test_a_trigger_time_keeps_its_microseconds_and_its_zone() -> None:
    assert triggered_at("2026-12-04T22:00:00.123456789Z") == datetime(2026, 12, 4, 22, 0, 0, 123456, tzinfo=UTC)
    assert triggered_at(" 2026-12-04T23:00:00.5+01:00 ") == datetime(2026, 12, 4, 22, 0, 0, 500000, tzinfo=UTC)
    assert triggered_at("2026-12-04T22:00:00") is None  # no zone: its age would be a guess
