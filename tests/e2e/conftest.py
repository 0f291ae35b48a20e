"""Fixtures of the end-to-end suite: the two sandbox stores on loopback ports, stopped after each test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connector.sandbox.common import ServerThread
from connector.services import Services
from e2e_support import (
    SHOPIFY_SECRET,
    SHOPIFY_TOKEN,
    WriteRecorder,
    shopify_seed,
    woocommerce_seed,
    write_seed,
)
from tests.conftest import make_settings

MAIL_FROM = "E2E Outfitters <orders@e2e-outfitters.example>"


@dataclass
class Store:
    """A sandbox store, running, with a recorder of the writes it receives."""

    server: ServerThread
    recorder: WriteRecorder

    @property
    def url(self) -> str:
        return self.server.url


def start_shopify(tmp_path: Path, request: pytest.FixtureRequest, **options: object) -> Store:
    from connector.sandbox.shopify import run

    options.setdefault("restore_rate", 1000.0)  # a Plus store's refill, so pacing never slows the suite
    server = run(0, write_seed(tmp_path / "shopify_seed.json", shopify_seed()), api_secret=SHOPIFY_SECRET,
                 access_token=SHOPIFY_TOKEN, **options)
    request.addfinalizer(server.stop)
    return Store(server, WriteRecorder(server.app, "shopify"))


def start_woocommerce(tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    from connector.sandbox.woocommerce import run

    server = run(0, write_seed(tmp_path / "woocommerce_seed.json", woocommerce_seed()))
    request.addfinalizer(server.stop)
    return Store(server, WriteRecorder(server.app, "woocommerce"))


@pytest.fixture
def shopify_store(tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    return start_shopify(tmp_path, request)


@pytest.fixture
def woo_store(tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    return start_woocommerce(tmp_path, request)


def e2e_services(database_url: str, tmp_path: Path, **overrides: object) -> Services:
    settings = make_settings(database_url, tmp_path, allow_loopback_api_url=True, smtp_url=None,
                             mail_from=MAIL_FROM, **overrides)
    return Services(settings)


@pytest.fixture
def sqlite_services(sqlite_url: str, tmp_path: Path) -> Iterator[Services]:
    services = e2e_services(sqlite_url, tmp_path)
    yield services
    services.close()
