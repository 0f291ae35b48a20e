"""Fixtures of the end-to-end suite: sandbox stores and the connector's web app on loopback ports, each
stopped when its test ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.common import ServerThread
from connector.services import Services
from e2e_support import AppSlot, Store, e2e_services, start_shopify, start_woocommerce


@pytest.fixture
def shopify_store(tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    return start_shopify(tmp_path, request)


@pytest.fixture
def woo_store(tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    return start_woocommerce(tmp_path, request)


@pytest.fixture
def sqlite_services(sqlite_url: str, tmp_path: Path) -> Iterator[Services]:
    services = e2e_services(sqlite_url, tmp_path)
    yield services
    services.close()


@pytest.fixture
def web(tmp_path: Path, sqlite_url: str, request: pytest.FixtureRequest) -> tuple[ServerThread, Services]:
    """The connector's web app on a loopback port, its settings naming that port as APP_URL."""
    from connector.web.app import create_app

    slot = AppSlot()
    server = ServerThread(slot).start()
    request.addfinalizer(server.stop)
    services = e2e_services(sqlite_url, tmp_path, app_url=server.url)
    request.addfinalizer(services.close)
    slot.app = create_app(services)
    return server, services
