"""Builds the Flask app: routes, error answers, security headers and the health check.

Routes (each module's docstring documents its own):
    GET  /healthz                          database reachable? {"status": "ok", "version": ...} or 503
    POST /webhooks/shopify                 webhooks/shopify.py
    POST /webhooks/woocommerce/<shop_id>   webhooks/woocommerce.py
    GET  /auth/shopify, /auth/shopify/callback              connector/web/install_shopify.py
    GET  /auth/woocommerce, /auth/woocommerce/return,
    POST /auth/woocommerce/callback                         connector/web/install_woocommerce.py
    GET|POST /connect/woocommerce (operator)                connector/web/dashboard/connect.py
    GET|POST /choice/<token>                                connector/web/choice.py
    /  ...                                 the merchant dashboard (connector/web/dashboard/)

Every error is answered as JSON on API routes and as a small page elsewhere; bad input is never a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Flask, Request, Response, jsonify
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy import text
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from connector import __version__
from connector.errors import ConfigError, InputError, ShopNotFound
from connector.services import Services
from connector.web.context import SERVICES_KEY, current_services, error_response
from connector.web.guards import install_guards

log = logging.getLogger("connector.web")

SESSIONLESS_PREFIXES = ("/webhooks/", "/healthz")
_SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    # Choice links carry a token in the path: never leak it to another site through Referer.
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"),
)
_SESSION_KEY_PURPOSE = b"backorder-connector/flask-session/v1"


def session_secret(connector_secret_key: str | None) -> str:
    """The Flask session key: derived from CONNECTOR_SECRET_KEY so it is used for nothing else."""
    if not connector_secret_key:
        raise ConfigError("CONNECTOR_SECRET_KEY", "is required to run the web app (make one with `connector secret-key`)")
    return hmac.new(connector_secret_key.encode(), _SESSION_KEY_PURPOSE, hashlib.sha256).hexdigest()


def create_app(services: Services | None = None) -> Flask:
    """The web app serving `services` (built from the environment when None)."""
    services = services or Services()
    settings = services.settings
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=session_secret(settings.connector_secret_key),
        # During a key rotation, sessions signed under the previous key still open (Flask re-signs them).
        SECRET_KEY_FALLBACKS=[session_secret(settings.connector_secret_key_previous)]
        if settings.connector_secret_key_previous else [],
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        MAX_FORM_MEMORY_SIZE=min(settings.max_body_bytes, 500_000),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.app_url.startswith("https://"),
    )
    app.extensions[SERVICES_KEY] = services
    install_guards(app)  # before any route: the bounded `int` converter must be in place when they are added
    app.session_interface = _PeopleSessions()

    from connector.web.choice import blueprint as choice_blueprint
    from connector.web.dashboard import blueprint as dashboard_blueprint
    from connector.web.install_shopify import blueprint as shopify_install_blueprint
    from connector.web.install_woocommerce import blueprint as woocommerce_install_blueprint
    from webhooks import register_webhooks

    register_webhooks(app)
    app.register_blueprint(shopify_install_blueprint)
    app.register_blueprint(woocommerce_install_blueprint)
    app.register_blueprint(choice_blueprint)
    app.register_blueprint(dashboard_blueprint)

    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    _register_error_handlers(app)
    app.after_request(_security_headers)
    if settings.proxy_count:
        # Behind a reverse proxy the client address (login rate limit) and scheme come from X-Forwarded-*.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
            app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count, x_host=settings.proxy_count)
    return app


class _PeopleSessions(SecureCookieSessionInterface):
    """Sessions for the pages people use; the routes stores call get none (no cookie to verify per delivery)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(SESSIONLESS_PREFIXES):
            return None  # Flask then gives the request a null session, never saved
        return super().open_session(app, request)


def healthz() -> tuple[Response, int]:
    """200 when the database answers `SELECT 1`, 503 otherwise; never says why beyond the error type."""
    try:
        with current_services().db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database means "not healthy", not a crash
        log.warning("health check failed: database unavailable (%s)", type(exc).__name__)
        return jsonify(status="unavailable", version=__version__), 503
    return jsonify(status="ok", version=__version__), 200


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        status = error.code or 500
        return error_response(status, error.name, error.description or error.name)

    @app.errorhandler(InputError)
    def input_error(error: InputError) -> tuple[Response | str, int]:
        return error_response(400, "Bad Request", str(error))

    @app.errorhandler(ShopNotFound)
    def shop_not_found(error: ShopNotFound) -> tuple[Response | str, int]:
        return error_response(404, "Not Found", "no such shop")

    @app.errorhandler(ConfigError)
    def config_error(error: ConfigError) -> tuple[Response | str, int]:
        log.error("configuration problem: %s", error)
        return error_response(500, "Not Configured", f"the connector is not configured: setting {error.setting}")

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response | str, int]:
        # Flask calls error handlers inside its own `except`, so the traceback is there to log.
        log.exception("unhandled error in %s", type(error).__name__)  # noqa: LOG004
        return error_response(500, "Internal Server Error", "something went wrong; the operator can see the log")


def _security_headers(response: Response) -> Response:
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    # Appended unless the view set its own: werkzeug's per-header setdefault costs a webhook more than its INSERT.
    headers.extend([(name, value) for name, value in _SECURITY_HEADERS if name.lower() not in present])
    return response
