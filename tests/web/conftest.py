"""Fixtures for the web app tests: a fresh SQLite database, Services with a fake platform, a test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from connector import outbound
from connector.services import Services
from connector.web.app import create_app
from connector.web.install_woocommerce import BACKGROUND_RUNNER
from web_support import FakePlatform, PlatformLog, make_web_settings


@pytest.fixture
def platform_log() -> PlatformLog:
    return PlatformLog()


@pytest.fixture
def web_services(tmp_path: Path, platform_log: PlatformLog) -> Iterator[Services]:
    services = Services(
        make_web_settings(tmp_path),
        platform_factory=lambda _services, shop: FakePlatform(shop, platform_log), migrate=True,
    )
    yield services
    services.close()


def _resolve(host: str, port: int) -> list[str]:
    """Made-up store names resolve to a public address (nothing connects to it: the platform is fake)."""
    if host.endswith(".example"):
        return ["93.184.215.14"]
    return outbound.system_resolver(host, port)


@pytest.fixture(autouse=True)
def made_up_stores_resolve() -> Iterator[None]:
    outbound.configure(allow_loopback=True, resolver=_resolve)
    yield
    outbound.configure(allow_loopback=True, resolver=outbound.system_resolver)


@pytest.fixture
def app(web_services: Services, made_up_stores_resolve: None) -> Flask:
    app = create_app(web_services)
    app.config["TESTING"] = True
    app.config[BACKGROUND_RUNNER] = lambda job: job()  # run post-answer work inline, deterministically
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
