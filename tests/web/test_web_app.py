"""The app shell: health check, JSON errors for API routes, pages for people, the dashboard hook, `connector serve`."""

from __future__ import annotations

import sys
import types
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from connector import __version__
from connector.commands import serve
from connector.errors import ConfigError
from connector.services import Services
from connector.web.app import create_app
from web_support import make_web_settings


def test_healthz_reports_ok_and_the_version(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "version": __version__}


class _BrokenDatabase:
    class engine:
        @staticmethod
        def connect() -> Any:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    def dispose(self) -> None:
        pass


def test_healthz_is_503_when_the_database_is_down(app: Flask, web_services: Services) -> None:
    web_services.__dict__["db"] = _BrokenDatabase()
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"
    assert "refused" not in response.get_data(as_text=True)


def test_api_routes_answer_errors_as_json_and_pages_as_html(client: FlaskClient) -> None:
    api = client.get("/webhooks/nothing-here")
    assert api.status_code == 404 and api.get_json()["error"] == "Not Found"
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "<html" in page.get_data(as_text=True)
    assert client.post("/healthz").status_code == 405


def test_security_headers_are_set(client: FlaskClient) -> None:
    headers = client.get("/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


def test_the_app_needs_the_secret_key(tmp_path: Path) -> None:
    services = Services(make_web_settings(tmp_path, connector_secret_key=None), migrate=True)
    with pytest.raises(ConfigError, match="CONNECTOR_SECRET_KEY"):
        create_app(services)


def test_a_dashboard_blueprint_is_registered_when_its_module_exists(
    web_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    dashboard = types.ModuleType("connector.web.dashboard")
    dashboard.__spec__ = ModuleSpec("connector.web.dashboard", None, origin="test")
    dashboard.blueprint = Blueprint("dashboard", __name__)
    dashboard.blueprint.add_url_rule("/", "home", lambda: "the dashboard")
    monkeypatch.setitem(sys.modules, "connector.web.dashboard", dashboard)
    assert create_app(web_services).test_client().get("/").get_data(as_text=True) == "the dashboard"


def test_serve_runs_gunicorn_with_the_given_options(web_services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[Any] = []
    monkeypatch.setattr(serve.ConnectorServer, "run", lambda self: ran.append(self))
    result = CliRunner().invoke(serve.serve_command, ["--host", "0.0.0.0", "--port", "9123", "--workers", "3"],
                                obj=web_services)
    assert result.exit_code == 0, result.output
    [server] = ran
    assert server.cfg.bind == ["0.0.0.0:9123"]
    assert server.cfg.workers == 3
    assert server.cfg.worker_class_str == "gthread"
    assert isinstance(server.load(), Flask)


def test_serve_dev_uses_the_flask_server(web_services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(Flask, "run", lambda self, **kwargs: calls.append(kwargs))
    monkeypatch.setattr(serve.ConnectorServer, "run", lambda self: pytest.fail("gunicorn must not run with --dev"))
    result = CliRunner().invoke(serve.serve_command, ["--dev", "--port", "9124"], obj=web_services)
    assert result.exit_code == 0, result.output
    assert calls == [{"host": "127.0.0.1", "port": 9124, "debug": False, "use_reloader": False, "threaded": True}]
