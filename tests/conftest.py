"""Shared fixtures: a fresh database per test on SQLite and, where TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from connector import outbound
from connector.services import Services
from connector.settings import Settings, load_settings

# Tests only ever talk to this machine: the sandbox stores, fake feed servers. Explicitly allowed here (and so
# in every Settings a test loads); tests of the policy itself pass their own OutboundPolicy.
os.environ["OUTBOUND_ALLOW_LOOPBACK"] = "true"
outbound.configure(allow_loopback=True)

TEST_SECRET_KEY = "u5c9E0_i7xDisZ4qOT8hlZqfvziEJ0jh6YxJTrzTeDc="  # the format `connector secret-key` prints
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-soak", action="store_true", help="run the long soak tests")


def pytest_configure(config: pytest.Config) -> None:
    # A new database gets the migrated schema copied in, not the migrations run again. Imported here, not at the
    # top: processes that tests start import this module as tests.conftest, without tests/ on their path.
    from migrated_template import install

    install()
    if config.getoption("--run-soak"):
        # Read by the route fuzz tests at import: `make soak` gives them their long run.
        os.environ["CONNECTOR_FUZZ_EXAMPLES"] = "5000"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-soak"):
        return
    skip = pytest.mark.skip(reason="soak test: run with `make soak`")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/connector.db"


def _postgres_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a brand-new schema, dropped afterwards."""
    assert POSTGRES_URL
    base = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set; .ci/run sets it to the local PostgreSQL")
    yield from _postgres_schema_url()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/connector.db"
        return
    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set; .ci/run sets it to the local PostgreSQL")
    yield from _postgres_schema_url()


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": tmp_path / "data",
        "connector_secret_key": TEST_SECRET_KEY,
        "shopify_api_key": "test-api-key",
        "shopify_api_secret": "test_secret_key",
        "app_url": "http://127.0.0.1:8000",
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    built = Services(make_settings(database_url, tmp_path), migrate=True)
    yield built
    built.close()
