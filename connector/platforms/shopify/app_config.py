"""`shopify.app.toml`, the Shopify CLI app configuration: scopes, redirect URL and webhook subscriptions,
written from the connector's settings so what Shopify is told matches what the connector does.

Deployed with `shopify app deploy`. It declares the compliance topics (the only way to subscribe them) and,
as app-specific subscriptions, every other topic the intake serves; set SHOPIFY_APP_WEBHOOKS=true once it
is deployed, so the connector stops making per-shop subscriptions that would double every delivery.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from .scopes import PURPOSES
from .subscriptions import COMPLIANCE_TOPICS, SERVED_TOPICS

CALLBACK_PATH = "/auth/shopify/callback"
WEBHOOK_PATH = "/webhooks/shopify"


def _string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string for the text written here


def _strings(values: Iterable[str]) -> str:
    return "[" + ", ".join(_string(value) for value in values) + "]"


def render_app_config(*, client_id: str, app_url: str, scopes: Sequence[str], api_version: str,
                      name: str = "Backorder Connector") -> str:
    """The TOML text; `app_url` is APP_URL (the public https address of `connector serve`)."""
    base = app_url.rstrip("/")
    why = [f"#   {scope}: {PURPOSES[scope][0]}" if scope in PURPOSES else f"#   {scope}" for scope in scopes]
    lines = [
        "# Shopify app configuration for the backorder connector, written by `connector shopify app-config` from",
        "# the connector's settings (SHOPIFY_API_KEY, APP_URL, SHOPIFY_SCOPES, SHOPIFY_READ_ALL_ORDERS,",
        "# SHOPIFY_API_VERSION). Deploy it with `shopify app deploy`, then set SHOPIFY_APP_WEBHOOKS=true.",
        f"client_id = {_string(client_id)}",
        f"name = {_string(name)}",
        f"application_url = {_string(base + '/')}",
        "embedded = false",
        "",
        "[access_scopes]",
        "# Each scope and why the connector asks for it:",
        *why,
        "# read_all_orders and protected customer data (Level 2: name and email, for customer notices) must also",
        "# be requested in the Partner Dashboard; see README, \"Running it as a Shopify app\".",
        f"scopes = {_string(','.join(scopes))}",
        "# The connector installs through its own authorization-code grant (APP_URL/auth/shopify).",
        "use_legacy_install_flow = true",
        "",
        "[auth]",
        f"redirect_urls = {_strings([base + CALLBACK_PATH])}",
        "",
        "[webhooks]",
        f"api_version = {_string(api_version)}",
        "",
        "[[webhooks.subscriptions]]",
        f"topics = {_strings(SERVED_TOPICS)}",
        f"uri = {_string(base + WEBHOOK_PATH)}",
        "",
        "[[webhooks.subscriptions]]",
        f"compliance_topics = {_strings(sorted(COMPLIANCE_TOPICS))}",
        f"uri = {_string(base + WEBHOOK_PATH)}",
        "",
        "[pos]",
        "embedded = false",
        "",
    ]
    return "\n".join(lines)
