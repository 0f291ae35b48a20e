"""Per-app sandbox objects and per-request helpers (PHP-style parameters, JSON bodies, the site root)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from flask import Flask, current_app, g, request

from sandbox.common import FaultPlan
from sandbox.woocommerce.php import PhpValue, parse_php_pairs
from sandbox.woocommerce.present import site_root
from sandbox.woocommerce.rest_errors import WooRestError, forbidden
from sandbox.woocommerce.state import WooState

if TYPE_CHECKING:
    from sandbox.woocommerce.auth import Identity
    from sandbox.woocommerce.webhooks import WebhookDispatcher

EXTENSION_KEY = "woocommerce_sandbox"


@dataclass(slots=True)
class WooSandbox:
    """What one sandbox app runs on: its state, its faults, its clock and its webhook sender."""

    state: WooState
    faults: FaultPlan
    clock: Callable[[], float]
    dispatcher: WebhookDispatcher
    # Where the store was last reached; the site URL for webhook payloads when the seed fixes none.
    seen_root: str = "http://127.0.0.1"

    def now(self) -> float:
        return self.clock()

    def site_root(self) -> str:
        return site_root(self.state, self.seen_root)


def sandbox_of(app: Flask) -> WooSandbox:
    return app.extensions[EXTENSION_KEY]


def current() -> WooSandbox:
    return sandbox_of(current_app)


def root() -> str:
    return site_root(current().state, request.host_url)


def query_pairs() -> list[tuple[str, str]]:
    return parse_qsl(request.query_string.decode("utf-8", "replace"), keep_blank_values=True)


def query_params() -> dict[str, PhpValue]:
    return parse_php_pairs(query_pairs())


def form_params() -> dict[str, PhpValue]:
    """$_POST: only form-encoded bodies fill it."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return {}
    return parse_php_pairs(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))


def body_params() -> dict[str, Any]:
    """The request's body parameters: a JSON object, or form fields; bad JSON is rest_invalid_json."""
    if request.mimetype == "application/json" or (request.data and request.data.lstrip()[:1] in (b"{", b"[")):
        raw = request.get_data(as_text=True)
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise WooRestError("rest_invalid_json", "Invalid JSON body passed.", 400, json_error_code=4,
                               json_error_message=f"Syntax error ({exc.msg})") from None
        if not isinstance(data, dict):
            raise WooRestError("rest_invalid_json", "Invalid JSON body passed.", 400, json_error_code=4,
                               json_error_message="Syntax error")
        return data
    return dict(form_params())


def identity() -> Identity | None:
    return g.get("woo_identity")


def require(action: str) -> Identity:
    """The caller's identity, or the permission error an anonymous caller gets for this kind of action."""
    who = identity()
    if who is None:
        raise forbidden(action)
    return who
