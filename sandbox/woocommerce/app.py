"""Builds the WooCommerce sandbox Flask app (faults, authentication, routes) and serves it on a loopback thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from sandbox.common import FaultPlan, ServerThread
from sandbox.woocommerce.auth import AuthRequest, authenticate
from sandbox.woocommerce.context import EXTENSION_KEY, WooSandbox, current, form_params, query_params, root, sandbox_of
from sandbox.woocommerce.control import control
from sandbox.woocommerce.rest_errors import WooRestError, json_response, no_route
from sandbox.woocommerce.routes_catalog import catalog
from sandbox.woocommerce.refunds import refunds
from sandbox.woocommerce.routes_orders import orders
from sandbox.woocommerce.routes_plugin import NAMESPACE as PLUGIN_NAMESPACE, plugin
from sandbox.woocommerce.routes_webhooks import webhooks
from sandbox.woocommerce.state import WooState
from sandbox.woocommerce.wcauth import wc_auth
from sandbox.woocommerce.webhooks import WebhookDispatcher

REST_PREFIX = "/wp-json"
# WC_REST_Authentication applies API keys to `wc/` and to third-party `wc-*` namespaces (the plugin's).
WC_PREFIXES = ("/wp-json/wc/", "/wp-json/wc-")


def create_app(state: WooState, *, faults: FaultPlan | None = None, clock: Callable[[], float] = time.time) -> Flask:
    """A sandbox store app over `state`; `clock` drives timestamps, OAuth windows and date_modified."""
    app = Flask("sandbox.woocommerce")
    plan = faults or FaultPlan()
    sandbox: WooSandbox

    def webhook_root() -> str:
        return sandbox.site_root()

    dispatcher = WebhookDispatcher(state, plan, clock, webhook_root)
    sandbox = WooSandbox(state, plan, clock, dispatcher)
    app.extensions[EXTENSION_KEY] = sandbox

    app.register_blueprint(orders, url_prefix="/wp-json/wc/v3")
    app.register_blueprint(refunds, url_prefix="/wp-json/wc/v3")
    app.register_blueprint(catalog, url_prefix="/wp-json/wc/v3")
    app.register_blueprint(webhooks, url_prefix="/wp-json/wc/v3")
    app.register_blueprint(plugin, url_prefix=f"/wp-json/{PLUGIN_NAMESPACE}")
    app.register_blueprint(wc_auth)
    app.register_blueprint(control)
    app.before_request(_before_request)
    app.register_error_handler(WooRestError, _rest_error)
    app.register_error_handler(HTTPException, _http_error)
    app.add_url_rule("/wp-json/", "wp_json_index", _index)
    return app


def _before_request() -> Response | None:
    sandbox = current()
    sandbox.seen_root = request.host_url
    if not request.path.startswith(REST_PREFIX):
        return None
    plan = sandbox.faults
    plan.maybe_sleep()
    if plan.should_throttle():
        return WooRestError("rate_limit_exceeded", "Too many requests. Please wait and try again.", 429).response({"Retry-After": "1"})
    if plan.should_fail():
        if plan.roll(0.5):
            return WooRestError("internal_server_error", "There has been a critical error on this website.", 500).response()
        return WooRestError("service_unavailable", "Briefly unavailable for scheduled maintenance. Check back in a minute.", 503).response({"Retry-After": "1"})
    g.woo_identity = None
    if request.path.startswith(WC_PREFIXES):
        auth_request = AuthRequest(
            method=request.method,
            path=request.path,
            query=query_params(),
            form=form_params(),
            authorization=request.headers.get("Authorization"),
            origin=request.host_url,
        )
        g.woo_identity = authenticate(sandbox.state, auth_request, sandbox.now())
    return None


def _rest_error(error: WooRestError) -> Response:
    return error.response()


def _http_error(error: HTTPException) -> Response | HTTPException:
    if request.path.startswith(REST_PREFIX) and error.code in {404, 405}:
        return no_route().response()
    return error


def _index() -> Response:
    state = current().state
    return json_response({
        "name": state.site_title,
        "description": "",
        "url": root(),
        "home": root(),
        "gmt_offset": state.gmt_offset_hours,
        "timezone_string": "",
        "namespaces": ["wp/v2", "wc/v3", "wc/store/v1", *([PLUGIN_NAMESPACE] if state.backorder_eta_plugin else [])],
        "authentication": [],
    })


def run(port: int, seed_path: str | Path, *, host: str = "127.0.0.1", https_mode: bool = False) -> ServerThread:
    """Load a seed and serve it on host:port (0 picks a free port); returns the started server thread.

    `https_mode` makes the store behave as if `is_ssl()` were true (Basic and query keys honoured,
    OAuth base URIs signed as https). Without a site_url in the seed, the store calls itself
    by the address it is served on.
    """
    state = WooState.load_seed(seed_path)
    if https_mode:
        state.https_mode = True
    app = create_app(state)
    server = ServerThread(app, host=host, port=port)
    if state.site_url is None:
        state.site_url = server.url
    sandbox_of(app).seen_root = server.url
    return server.start()
