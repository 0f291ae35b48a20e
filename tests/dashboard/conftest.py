"""Fixtures for the dashboard tests: a seeded SQLite app, logged-in clients and form helpers."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient

from connector.platforms.base import Capabilities, StorefrontEta
from connector.platforms.shopify.oauth import query_hmac
from connector.services import Services
from connector.web.app import create_app
from tests.conftest import make_settings
from tests.dashboard.dashboard_seed import ALPHA_DOMAIN, Seeded, seed_dashboard

ADMIN_PASSWORD = "correct horse battery staple"
SHOPIFY_SECRET = "test_secret_key"  # tests.conftest.make_settings sets it
CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


class StubPlatform:
    """Just enough of a platform for `reconcile_and_plan` (its capabilities) and the storefront push."""

    capabilities = Capabilities(tags=True, holds=True, customer_notes=False, storefront_batch_size=25)
    storefront_writes: list[StorefrontEta] = []  # every storefront write any instance received

    def prepare_storefront(self) -> None:
        return None

    def write_storefront_etas(self, items: Sequence[StorefrontEta]) -> dict[str, str | None]:
        self.storefront_writes.extend(items)
        return {item.target: None for item in items}

    def close(self) -> None:
        return None


@pytest.fixture
def dash_services(tmp_path: Path) -> Iterator[Services]:
    settings = make_settings(f"sqlite:///{tmp_path}/dashboard.db", tmp_path, admin_password=ADMIN_PASSWORD)
    services = Services(settings, platform_factory=lambda _services, _shop: StubPlatform(), migrate=True)  # type: ignore[arg-type,return-value]
    yield services
    services.close()


@pytest.fixture
def seeded(dash_services: Services) -> Seeded:
    return seed_dashboard(dash_services)


@pytest.fixture
def app(dash_services: Services, seeded: Seeded) -> Flask:
    built = create_app(dash_services)
    built.config["TESTING"] = True
    return built


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_from(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF_PATTERN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login_operator(client: FlaskClient, password: str = ADMIN_PASSWORD, **environ: Any) -> Any:
    token = csrf_from(client)
    return client.post("/login", data={"password": password, "csrf_token": token}, environ_base=environ)


def shopify_admin_query(shop: str = ALPHA_DOMAIN, *, timestamp: int | None = None, secret: str = SHOPIFY_SECRET) -> str:
    params = {"shop": shop, "timestamp": str(timestamp if timestamp is not None else int(time.time())),
              "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWxwaGE"}
    params["hmac"] = query_hmac(params, secret)
    return "/?" + urlencode(params)


@pytest.fixture
def operator(client: FlaskClient) -> FlaskClient:
    response = login_operator(client)
    assert response.status_code == 302
    return client


@pytest.fixture
def merchant(client: FlaskClient) -> FlaskClient:
    response = client.get(shopify_admin_query())
    assert response.status_code == 302 and response.headers["Location"].endswith("/orders")
    return client


def post_form(client: FlaskClient, path: str, data: dict[str, Any] | None = None, *, page: str = "/orders", **kwargs: Any) -> Any:
    """POST `data` with this session's CSRF token, read from `page`."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_from(client, page)}, **kwargs)
