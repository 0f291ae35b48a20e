"""Hypothesis fuzz of the intake, install, login and choice routes (issue 13): never a 500, 500 examples each (5,000 under make soak).

The fixtures (app, database) live for the whole test, so examples share them; nothing here reaches the
network (the outbound resolver is replaced by one that answers a public address at once)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector import outbound
from connector.services import Services
from web_support import ADMIN_PASSWORD, SHOPIFY_SECRET, FakePlatform, PlatformLog, b64_hmac, make_web_settings

# 500 examples a route in `make test`; `make soak` runs the module again with 5,000 (tests/conftest.py).
EXAMPLES = int(os.environ.get("CONNECTOR_FUZZ_EXAMPLES", "500"))
pytestmark = pytest.mark.fuzz
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# Anything a header may carry through the test client, NUL and other control characters included.
HEADER_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x2FF, blacklist_characters="\r\n"), max_size=40)
TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=("Cs",)), max_size=60)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12)
CALLBACK_FIELDS = st.fixed_dictionaries({}, optional={
    "key_id": st.integers() | TEXT, "user_id": st.integers() | TEXT | st.just("68719476736000"),
    "consumer_key": st.just("ck_") | TEXT, "consumer_secret": st.just("cs_x") | TEXT,
    "key_permissions": st.sampled_from(["read_write", "read", "write", ""]) | TEXT})
BODIES = st.one_of(
    st.binary(max_size=200),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    CALLBACK_FIELDS.map(lambda value: json.dumps(value).encode()),
    st.integers(min_value=60, max_value=20_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(min_value=60, max_value=20_000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
)
SHOPIFY_TOPICS = st.sampled_from(["orders/updated", "shop/redact", "customers/redact", "customers/data_request",
                                  "app/uninstalled", "products/update"]) | HEADER_TEXT
SHOPIFY_DOMAINS = st.sampled_from(["alpha.myshopify.com", "beta.myshopify.com"]) | HEADER_TEXT
TIMES = st.sampled_from(["", "2026-12-04T22:00:00Z", "yesterday", "9999-99-99T99:99:99Z", "1970-01-01T00:00:00Z",
                         "2026-12-04T22:00:00.123456789Z"]) | HEADER_TEXT


@pytest.fixture
def web_services(platform_log: PlatformLog) -> Iterator[Services]:
    """The web tests' services, with the database in memory-backed storage when the machine has it: 2,000
    stored deliveries are 2,000 commits, and waiting for the disk each time would be most of the run."""
    folder = Path(tempfile.mkdtemp(dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    services = Services(make_web_settings(folder),
                        platform_factory=lambda _services, shop: FakePlatform(shop, platform_log), migrate=True)
    yield services
    services.close()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def quiet_resolver() -> Iterator[None]:
    outbound.configure(allow_loopback=True, resolver=lambda _host, _port: ["93.184.215.14"])
    yield
    outbound.configure(allow_loopback=True, resolver=outbound.system_resolver)


def _is_clean(status: int) -> bool:
    return status < 500


@FUZZ
@given(body=BODIES, topic=SHOPIFY_TOPICS, domain=SHOPIFY_DOMAINS, webhook_id=HEADER_TEXT, triggered=TIMES)
def test_signed_shopify_deliveries_never_500(client: FlaskClient, body: bytes, topic: str, domain: str,
                                              webhook_id: str, triggered: str) -> None:
    headers = {"X-Shopify-Hmac-Sha256": b64_hmac(SHOPIFY_SECRET, body), "X-Shopify-Topic": topic,
               "X-Shopify-Shop-Domain": domain, "X-Shopify-Webhook-Id": webhook_id,
               "X-Shopify-Triggered-At": triggered}
    assert _is_clean(client.post("/webhooks/shopify", data=body, headers=headers).status_code)


@FUZZ
@given(body=BODIES)
def test_woocommerce_key_callbacks_never_500(client: FlaskClient, body: bytes) -> None:
    response = client.post("/auth/woocommerce/callback", data=body, content_type="application/json")
    assert response.status_code in (400, 413)  # 413: over MAX_BODY_BYTES


@FUZZ
@given(store_url=TEXT | st.from_regex(r"\Ahttps?://[a-z0-9.:\[\]%@-]{0,30}(/[^\s]{0,10})?\Z"))
def test_connecting_a_store_never_500s(client: FlaskClient, quiet_resolver: None, store_url: str) -> None:
    token = _operator_token(client)
    response = client.post("/connect/woocommerce", data={"store_url": store_url, "csrf_token": token})
    assert response.status_code in (303, 400)


@FUZZ
@given(password=TEXT, next_target=TEXT | st.sampled_from(["/%09/evil.example", "//evil", "/orders"]),
       with_token=st.booleans())
def test_login_never_500s(client: FlaskClient, password: str, next_target: str, with_token: bool) -> None:
    assert _is_clean(client.get("/login", query_string={"next": next_target}).status_code)
    data = {"password": password, "next": next_target}
    if with_token:
        with client.session_transaction() as session:
            data["csrf_token"] = session.setdefault("csrf_token", "fuzz-token")
    response = client.post("/login", data=data)
    assert response.status_code in (302, 400, 401, 429)
    if response.status_code == 302:
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith("//")


@FUZZ
@given(token=TEXT.filter(lambda text: "/" not in text and text not in ("", ".", "..")), choice=TEXT,
       method=st.sampled_from(["GET", "POST"]))
def test_choice_links_never_500(client: FlaskClient, token: str, choice: str, method: str) -> None:
    response = client.open(f"/choice/{token}", method=method, data={"choice": choice, "csrf_token": "x"})
    assert _is_clean(response.status_code)


def _operator_token(client: FlaskClient) -> str:
    """The CSRF token of an operator session (logged in once, then reused by every example)."""
    with client.session_transaction() as session:
        if session.get("dashboard", {}).get("role") == "operator":
            return str(session["csrf_token"])
        session["csrf_token"] = "fuzz-operator-token"
    response = client.post("/login", data={"password": ADMIN_PASSWORD, "csrf_token": "fuzz-operator-token"})
    assert response.status_code == 302
    with client.session_transaction() as session:
        session["csrf_token"] = "fuzz-operator-token"
    return "fuzz-operator-token"
