"""Bad input on every endpoint: whatever arrives, no answer is a 500 and nothing invalid is stored.

Routes are read from the app's own URL map, so the dashboard and any route added later are covered
without this file changing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.routing import Rule

from connector.pipeline.inbox import process_due_deliveries
from connector.platforms.shopify.oauth import query_hmac
from sandbox.common import ServerThread
from sandbox.shopify import ShopifyState
from sandbox.shopify import create_app as create_shopify_sandbox
from connector.services import Services
from connector.store.models import InboxItem, Order, Shop
from connector.web.app import create_app
from reliability_support import EAGER_RETRY, SHOPIFY_API_SECRET, SHOPIFY_DOMAIN, b64_hmac, shopify_seed, table_counts
from tests.conftest import make_settings
from webhooks.wsgi import INTAKE_ROUTES

MAX_BODY = 16 * 1024
# A request may legitimately leave these behind: an install's one-time state, a failed login's record.
BOOKKEEPING = {"one_time_tokens", "login_attempts"}
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TEXT = st.text(st.characters(min_codepoint=1, max_codepoint=0x2FF, blacklist_categories=("Cs",)), max_size=40)
HEADER_VALUE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
HEADER_NAMES = ["X-Shopify-Hmac-Sha256", "X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id",
                "X-WC-Webhook-Signature", "X-WC-Webhook-ID", "X-WC-Webhook-Topic", "X-WC-Webhook-Delivery-ID",
                "X-CSRF-Token", "Cookie", "Referer", "Origin"]
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "text/plain", "application/xml", "", "application/json; charset=utf-16"]
BODIES = st.one_of(st.binary(max_size=400), TEXT.map(str.encode), st.just(b'{"id": 1'), st.just(b"[]"),
                   st.just(b"webhook_id=1"), st.just(b'{"customer": {"email": "x@example.com"}}'),
                   st.dictionaries(TEXT, TEXT, max_size=4).map(lambda d: urlencode(d).encode()))


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = Services(make_settings(f"sqlite:///{tmp_path}/c.db", tmp_path, admin_password="correct horse battery",
                                   max_body_bytes=MAX_BODY, webhook_max_body_bytes=MAX_BODY,
                                   allow_loopback_api_url=True), migrate=True)
    yield built
    built.close()


@pytest.fixture
def app(services: Services) -> Flask:
    with services.db.session() as session:  # one installed store of each kind, so ids and domains can match
        session.add(Shop(platform="shopify", domain=SHOPIFY_DOMAIN, name="S", settings={},
                         credentials=services.box.seal({"access_token": "shpat_x"})))
        session.add(Shop(platform="woocommerce", domain="https://store.example", name="W", settings={},
                         credentials=services.box.seal({"consumer_key": "ck_x", "consumer_secret": "cs_x",
                                                        "webhook_secret": "s3cret"})))
    return create_app(services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def routes(app: Flask) -> list[tuple[Rule, str]]:
    """Every route the server answers: the web app's, and the intake's in front of it."""
    every = [*app.url_map.iter_rules(), *INTAKE_ROUTES.iter_rules()]
    return sorted(((rule, method) for rule in every
                   for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})),
                  key=lambda pair: (pair[0].rule, pair[1]))


def fill(rule: Rule, values: list[str]) -> str:
    """The rule's path with each variable replaced by one of `values` (quoted as a client would)."""
    path = rule.rule
    for index, _name in enumerate(rule.arguments):
        start = path.index("<")
        path = path[:start] + quote(values[index % len(values)] or "0", safe="") + path[path.index(">", start) + 1:]
    return path


def stored(services: Services) -> dict[str, int]:
    return {name: count for name, count in table_counts(services).items() if name not in BOOKKEEPING}


@FUZZ
@given(data=st.data(), body=BODIES, content_type=st.sampled_from(CONTENT_TYPES),
       headers=st.dictionaries(st.sampled_from(HEADER_NAMES), HEADER_VALUE, max_size=5),
       query=st.dictionaries(st.sampled_from(["shop", "code", "state", "hmac", "timestamp", "store_url", "user_id",
                                              "api_url", "success", "page", "sku", "q"]), TEXT, max_size=4),
       path_values=st.lists(st.one_of(TEXT, st.integers(-5, 2**40).map(str)), min_size=1, max_size=3))
def test_random_requests_to_every_route_never_500_and_store_nothing(
    app: Flask, client: FlaskClient, services: Services, data: st.DataObject, body: bytes, content_type: str,
    headers: dict[str, str], query: dict[str, str], path_values: list[str],
) -> None:
    rule, method = data.draw(st.sampled_from(routes(app)), label="route")
    before = stored(services)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as outbound:
        answer = client.open(fill(rule, path_values), method=method, query_string=query, data=body,
                             headers={**headers, "Content-Type": content_type} if content_type else headers)
        assert len(outbound.calls) == 0  # unsigned input never makes the connector call anyone
    assert answer.status_code < 500, (rule.rule, method, answer.get_data(as_text=True)[:300])
    assert stored(services) == before


def post_rules(app: Flask) -> list[Rule]:
    return [rule for rule, method in routes(app) if method == "POST"]


# Routes that read the body before anything else: the size limit must be what refuses it.
BODY_FIRST = {"/webhooks/shopify", "/webhooks/woocommerce/<int:shop_id>", "/auth/woocommerce/callback", "/login"}


def test_every_post_route_refuses_a_body_over_the_limit_with_413(app: Flask, client: FlaskClient,
                                                                services: Services) -> None:
    huge = b'{"id": 1, "pad": "' + b"x" * MAX_BODY + b'"}'
    before = stored(services)
    checked = 0
    for bound in post_rules(app):
        rule, path = bound.rule, fill(bound, ["2"])
        signed = {"X-Shopify-Hmac-Sha256": b64_hmac(SHOPIFY_API_SECRET, huge), "X-Shopify-Topic": "orders/create",
                  "X-Shopify-Shop-Domain": SHOPIFY_DOMAIN, "X-Shopify-Webhook-Id": "huge-1",
                  "X-WC-Webhook-Signature": b64_hmac("s3cret", huge), "X-WC-Webhook-Topic": "order.created",
                  "X-WC-Webhook-Delivery-ID": "huge-1", "Content-Type": "application/json"}
        answer = client.post(path, data=huge, headers=signed)
        if rule in BODY_FIRST:
            assert answer.status_code == 413, (rule, answer.status_code)
            checked += 1
        else:  # refused before its body is read (a bad link, no session, no CSRF token) is as good
            assert answer.status_code in (302, 303, 400, 401, 403, 404, 413), (rule, answer.status_code)
    assert checked == len(BODY_FIRST)
    # Only the signed Shopify delivery is kept, as a record without its body, for the next sync to act on.
    assert stored(services) == {**before, "inbox": before.get("inbox", 0) + 1}
    with services.db.session() as session:
        assert [(i.platform, i.body, i.body_omitted) for i in session.scalars(select(InboxItem))] == [
            ("shopify", b"", len(huge))]


def shopify_delivery(client: FlaskClient, body: bytes, *, signature: str | None, webhook_id: str = "d-1",
                     topic: str = "orders/create", shop: str = SHOPIFY_DOMAIN,
                     content_type: str = "application/json") -> int:
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop, "X-Shopify-Webhook-Id": webhook_id,
               "Content-Type": content_type}
    if signature is not None:
        headers["X-Shopify-Hmac-Sha256"] = signature
    return client.post("/webhooks/shopify", data=body, headers=headers).status_code


ORDER = json.dumps({"id": 6001, "name": "#1", "created_at": "2026-11-02T10:00:00Z", "line_items": []}).encode()


@pytest.mark.parametrize("case", ["missing", "wrong secret", "another body's", "truncated body", "garbage",
                                  "hex instead of base64"])
def test_a_badly_signed_delivery_is_401_and_not_stored(client: FlaskClient, services: Services, case: str) -> None:
    signature = {
        "missing": None, "wrong secret": b64_hmac("not-the-secret", ORDER), "another body's": b64_hmac(SHOPIFY_API_SECRET, b"{}"),
        "truncated body": b64_hmac(SHOPIFY_API_SECRET, ORDER), "garbage": "!!!not base64!!!",
        "hex instead of base64": hashlib.sha256(ORDER).hexdigest(),
    }[case]
    body = ORDER[:-5] if case == "truncated body" else ORDER
    assert shopify_delivery(client, body, signature=signature) == 401
    assert stored(services)["inbox"] == 0


def test_a_reused_signature_and_id_are_stored_once(client: FlaskClient, services: Services) -> None:
    signature = b64_hmac(SHOPIFY_API_SECRET, ORDER)
    assert [shopify_delivery(client, ORDER, signature=signature) for _ in range(3)] == [200, 200, 200]
    assert stored(services)["inbox"] == 1


@pytest.mark.parametrize("body, topic, shop, content_type, orders_after", [
    (b'{"id": 6001, "line_items": [', "orders/create", SHOPIFY_DOMAIN, "application/json", 0),  # malformed JSON
    (b"[1, 2, 3]", "orders/updated", SHOPIFY_DOMAIN, "application/json", 0),  # JSON, not an order
    (ORDER, "made/up", SHOPIFY_DOMAIN, "application/json", 0),  # unknown topic
    (ORDER, "orders/create", "never-installed.myshopify.com", "application/json", 0),  # unknown shop
    (b'{"id": "not a number", "created_at": "yesterday"}', "orders/create", SHOPIFY_DOMAIN, "application/json", 0),
    (ORDER, "orders/create", SHOPIFY_DOMAIN, "text/plain", 1),  # the signature, not the content type, decides
])
def test_authentic_but_unusable_deliveries_are_settled_without_effect(
    client: FlaskClient, services: Services, body: bytes, topic: str, shop: str, content_type: str, orders_after: int
) -> None:
    status = shopify_delivery(client, body, signature=b64_hmac(SHOPIFY_API_SECRET, body), topic=topic, shop=shop,
                              content_type=content_type)
    assert status == 200  # signed by Shopify: kept for the record, never acted on
    process_due_deliveries(services, retry=EAGER_RETRY)
    with services.db.session() as session:
        items = session.query(InboxItem).all()
        assert [item.status for item in items] != ["pending"] and len(items) == 1
        assert session.query(Order).count() == orders_after


@pytest.mark.parametrize("case", ["unknown shop", "bad signature", "ping"])
def test_woocommerce_deliveries_that_must_not_be_stored(client: FlaskClient, services: Services, case: str) -> None:
    body = ORDER if case != "ping" else b"webhook_id=7"
    path = "/webhooks/woocommerce/" + ("99" if case == "unknown shop" else "2")
    headers = {"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Delivery-ID": "w-1",
               "Content-Type": "application/x-www-form-urlencoded" if case == "ping" else "application/json"}
    if case != "ping":
        headers["X-WC-Webhook-Signature"] = b64_hmac("s3cret" if case == "unknown shop" else "wrong", body)
    answer = client.post(path, data=body, headers=headers)
    assert answer.status_code == {"unknown shop": 404, "bad signature": 401, "ping": 200}[case]
    assert stored(services)["inbox"] == 0


# ---- install flow: forged state and replayed callbacks, against the Shopify sandbox's OAuth ----------------

INSTALL_SHOP = "fresh-install.myshopify.com"


@pytest.fixture
def shopify_sandbox() -> Iterator[str]:
    seed = {**shopify_seed(1), "shop": INSTALL_SHOP}
    server = ServerThread(create_shopify_sandbox(ShopifyState.from_seed(seed), api_secret=SHOPIFY_API_SECRET)).start()
    yield server.url
    server.stop()


def _callback_from_sandbox(client: FlaskClient, sandbox_url: str) -> str:
    """Start an install, let the sandbox approve it, and return the signed callback address it redirects to."""
    import requests

    start = client.get("/auth/shopify", query_string={"shop": INSTALL_SHOP, "api_url": sandbox_url})
    assert start.status_code == 302, start.get_data(as_text=True)
    approval = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert approval.status_code in (302, 303)
    target = urlsplit(approval.headers["Location"])
    return f"{target.path}?{target.query}"


def test_a_replayed_oauth_callback_is_refused_and_installs_once(client: FlaskClient, services: Services,
                                                               shopify_sandbox: str) -> None:
    callback = _callback_from_sandbox(client, shopify_sandbox)
    first = client.get(callback)
    assert first.status_code in (302, 303), first.get_data(as_text=True)
    replay = client.get(callback)
    assert replay.status_code == 400
    with services.db.session() as session:
        assert session.query(Shop).filter_by(domain=INSTALL_SHOP).count() == 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=st.one_of(TEXT, st.text("abcdef0123456789", min_size=32, max_size=64)))
def test_a_forged_state_never_installs(client: FlaskClient, services: Services, shopify_sandbox: str,
                                       state: str) -> None:
    callback = _callback_from_sandbox(client, shopify_sandbox)
    params = {key: values[0] for key, values in parse_qs(urlsplit(callback).query).items()}
    params["state"] = state
    params["hmac"] = query_hmac(params, SHOPIFY_API_SECRET)  # correctly signed: only the state is forged
    answer = client.get(f"/auth/shopify/callback?{urlencode(params)}")
    assert answer.status_code in (400, 401)
    with services.db.session() as session:
        assert session.query(Shop).filter_by(domain=INSTALL_SHOP).count() == 0
