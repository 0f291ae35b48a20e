"""Fixtures and helpers of the WooCommerce sandbox tests: a fixed clock, an independent OAuth signer, a receiver."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask, Response, request

from sandbox.common import FaultPlan, ServerThread
from sandbox.woocommerce import WooState, create_app

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_SEED = REPO / "examples" / "sandbox" / "woocommerce_seed.json"
EXAMPLE_FEED = REPO / "examples" / "sandbox" / "feeds" / "woocommerce_supplier.csv"
SITE = "http://shop.example"
CK, CS = "ck_readwrite1", "cs_readwrite1"
RO_CK, RO_CS = "ck_readonly1", "cs_readonly1"
NOW = 1_795_003_200  # 2026-11-18T12:00:00 GMT, a fixed instant for every test


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ---- an OAuth 1.0a signer written from the platform notes, independent of the sandbox ----------


def _enc(text: str) -> str:
    return quote(text, safe="-._~")


def sign(method: str, url: str, query: dict[str, str], key: str = CK, secret: str = CS, *, nonce: str = "n" * 32,
         timestamp: float = NOW, algorithm: str = "HMAC-SHA256") -> dict[str, str]:
    oauth = {"oauth_consumer_key": key, "oauth_nonce": nonce, "oauth_signature_method": algorithm,
             "oauth_timestamp": str(int(timestamp))}
    pairs = sorted({**query, **oauth}.items())
    normalized = "%26".join(_enc(f"{_enc(k)}={_enc(v)}") for k, v in pairs)
    base = f"{method}&{_enc(url)}&{normalized}"
    digest = hmac.new(f"{secret}&".encode(), base.encode(), hashlib.sha256 if algorithm.endswith("256") else hashlib.sha1)
    return {**query, **oauth, "oauth_signature": base64.b64encode(digest.digest()).decode()}


def basic(key: str = CK, secret: str = CS) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


# ---- fixtures ----------------------------------------------------------------------------------


def _order(order_id: int, status: str, created: str, modified: str, *, product_id: int = 10, variation_id: int = 0,
           quantity: int = 1, email: str = "ada@example.com") -> dict[str, Any]:
    return {"id": order_id, "status": status, "date_created_gmt": created, "date_modified_gmt": modified,
            "billing": {"first_name": "Ada", "last_name": "L", "email": email},
            "line_items": [{"id": order_id * 10, "product_id": product_id, "variation_id": variation_id, "quantity": quantity}]}


SEED: dict[str, Any] = {
    "site_url": SITE,
    "site_title": "Test Shop",
    "gmt_offset_hours": -5,
    "api_keys": [
        {"key_id": 1, "consumer_key": CK, "consumer_secret": CS, "permissions": "read_write"},
        {"key_id": 2, "consumer_key": RO_CK, "consumer_secret": RO_CS, "permissions": "read"},
    ],
    "products": [
        {"id": 10, "name": "Tent", "sku": "TENT", "price": "100.00", "manage_stock": True, "stock_quantity": 1,
         "backorders": "notify", "date_created_gmt": "2026-10-01T00:00:00"},
        {"id": 20, "name": "Hoodie", "type": "variable", "sku": "HOOD", "price": "50.00", "manage_stock": True,
         "stock_quantity": 4, "backorders": "yes", "date_created_gmt": "2026-10-01T00:00:00",
         "variations": [{"id": 21, "sku": "HOOD-RED", "price": "50.00", "attributes": [{"name": "Color", "option": "Red"}],
                         "manage_stock": "parent"}]},
        {"id": 30, "name": "Gift card", "sku": "GIFT", "price": "25.00", "date_created_gmt": "2026-10-01T00:00:00"},
    ],
    "orders": [
        _order(1, "processing", "2026-11-10T10:00:00", "2026-11-10T10:00:00"),
        _order(2, "on-hold", "2026-11-11T10:00:00", "2026-11-12T03:00:00"),
        _order(3, "pending", "2026-11-12T10:00:00", "2026-11-12T10:00:00"),
        _order(4, "completed", "2026-11-13T10:00:00", "2026-11-14T10:00:00"),
        _order(5, "cancelled", "2026-11-14T10:00:00", "2026-11-14T12:00:00"),
        _order(6, "processing", "2026-11-15T10:00:00", "2026-11-15T10:00:00", product_id=20, variation_id=21),
        _order(7, "trash", "2026-11-16T10:00:00", "2026-11-16T10:00:00"),
    ],
}


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def state() -> WooState:
    return WooState.from_seed(copy.deepcopy(SEED))


@pytest.fixture()
def app(state: WooState, clock: Clock) -> Flask:
    return create_app(state, faults=FaultPlan(seed=7), clock=clock)


@pytest.fixture()
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture()
def https(state: WooState) -> WooState:
    state.https_mode = True
    return state


class Receiver:
    """A loopback HTTP endpoint that records every request's raw bytes and answers with `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        app = Flask("receiver")

        @app.post("/<path:anything>")
        def record(anything: str) -> Response:
            with self.lock:
                self.requests.append({"path": "/" + anything, "headers": dict(request.headers), "body": request.get_data()})
            return Response("ok", status=self.status)

        self.server = ServerThread(app).start()

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"


@pytest.fixture()
def receiver() -> Any:
    rec = Receiver()
    yield rec
    rec.server.stop()


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()]
