"""Shopify app install for a non-embedded public app (OAuth authorization-code grant, expiring offline token).

GET /auth/shopify?shop=<name>.myshopify.com[&api_url=<loopback URL>]
    Checks the shop domain (and the query HMAC when Shopify signed the request), issues a one-time
    state (10 minutes) kept in `one_time_tokens` and in a signed cookie, and redirects (302) to
    `https://<shop>/admin/oauth/authorize` with client_id, scope, redirect_uri and state.
    `api_url` points the flow at a sandbox store; accepted only for an http(s) loopback address
    and only when ALLOW_LOOPBACK_API_URL is set. Bad domain or api_url: 400.
GET /auth/shopify/callback?code=&hmac=&shop=&state=&timestamp=[&host=]
    Bad or missing HMAC: 401. Stale timestamp, bad shop, missing cookie, state not matching the
    cookie, or a state unknown/expired/already used (replay): 400. Then exchanges the code, stores
    the shop with its tokens sealed (one transaction), subscribes the webhooks (a failure is logged;
    the periodic sync retries) and redirects to the app in the shop's admin, which opens the
    dashboard signed for that shop (a sandbox store: straight to the dashboard).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request
from werkzeug.wrappers import Response as BaseResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from connector.errors import AuthError, ConfigError, InputError, PlatformError
from connector.platforms.shopify.addresses import check_base_url, is_loopback_host
from connector.platforms.shopify.oauth import authorize_url, exchange_code, valid_shop_domain, verify_query_hmac
from connector.platforms.shopify.scopes import access_report, parse_scopes, requested_scopes
from connector.settings import Settings
from connector.web.context import current_services, error_response
from connector.store.models import utcnow
from connector.store.repo import ensure_shop, record_access, save_credentials
from connector.web.tokens import consume_token, issue_token
from connector.pipeline.webhook_setup import PENDING_SETTING, ensure_shop_webhooks

log = logging.getLogger("connector.web.shopify")
blueprint = Blueprint("shopify_install", __name__)

STATE_PURPOSE = "shopify_state"
STATE_LIFETIME = timedelta(minutes=10)
# How far Shopify's `timestamp` may be from our clock (either way) before the callback is refused.
TIMESTAMP_WINDOW_SECONDS = 300
COOKIE_NAME = "shopify_install"
COOKIE_PATH = "/auth/shopify"
CALLBACK_PATH = "/auth/shopify/callback"

Answer = BaseResponse | tuple[BaseResponse | str, int]  # redirect() answers werkzeug's base Response


def requested(settings: Settings) -> tuple[str, ...]:
    """The scopes the install asks for: SHOPIFY_SCOPES, plus read_all_orders unless SHOPIFY_READ_ALL_ORDERS is off."""
    return requested_scopes(settings.shopify_scopes, read_all_orders=settings.shopify_read_all_orders)


def _api_secrets(settings: Settings) -> list[str]:
    if not settings.shopify_secrets:
        raise ConfigError("SHOPIFY_API_SECRET", "is required for the Shopify install flow")
    return settings.shopify_secrets


def _cookie_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="backorder-connector/shopify-install")


def _signed_by_shopify(api_secrets: list[str]) -> bool:
    params = request.args.to_dict(flat=False)
    return any(verify_query_hmac(params, secret) for secret in api_secrets)


def sandbox_api_url(value: str | None, settings: Settings) -> str | None:
    """The `api_url` override for a sandbox store, or None; InputError unless allowed and on loopback."""
    if not value:
        return None
    source = "api_url parameter"
    if not settings.allow_loopback_api_url:
        raise InputError(source, "is only accepted when ALLOW_LOOPBACK_API_URL is set (sandbox and demo)")
    try:
        host = urlsplit(value.strip()).hostname
        checked = check_base_url(value, source)
    except ValueError:
        raise InputError(source, "is not a valid URL") from None
    except ConfigError as exc:
        raise InputError(source, exc.problem) from None
    if not is_loopback_host(host):
        raise InputError(source, "must point at this machine (127.0.0.1, ::1 or localhost)")
    return checked


@blueprint.get("/auth/shopify")
def install() -> Answer:
    services = current_services()
    settings = services.settings
    shop = (request.args.get("shop") or "").lower()
    if not valid_shop_domain(shop):
        return error_response(400, "Bad Request", "shop must be a name.myshopify.com domain")
    api_key = settings.require("shopify_api_key")
    api_secrets = _api_secrets(settings)
    if "hmac" in request.args and not _signed_by_shopify(api_secrets):
        return error_response(401, "Unauthorized", "the install request is not signed by Shopify")
    api_url = sandbox_api_url(request.args.get("api_url"), settings)

    state = secrets.token_urlsafe(32)
    with services.db.session() as session:
        issue_token(session, state, purpose=STATE_PURPOSE, subject=shop, lifetime=STATE_LIFETIME)
    target = authorize_url(shop, api_key, list(requested(settings)), settings.app_url + CALLBACK_PATH, state)
    if api_url:
        target = api_url + target.removeprefix(f"https://{shop}")
    response = redirect(target, 302)
    response.set_cookie(
        COOKIE_NAME,
        _cookie_serializer().dumps({"state": state, "shop": shop, "api_url": api_url}),
        max_age=int(STATE_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        secure=settings.app_url.startswith("https://"),
        samesite="Lax",  # sent on Shopify's top-level redirect back to the callback
    )
    return response


def _read_cookie() -> dict[str, Any] | None:
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        value = _cookie_serializer().loads(raw, max_age=int(STATE_LIFETIME.total_seconds()))
    except BadSignature:
        return None
    return value if isinstance(value, dict) else None


def _fresh(timestamp: str | None) -> bool:
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(time.time() - int(timestamp)) <= TIMESTAMP_WINDOW_SECONDS


@blueprint.get(CALLBACK_PATH)
def callback() -> Answer:
    services = current_services()
    settings = services.settings
    api_key = settings.require("shopify_api_key")
    api_secrets = _api_secrets(settings)
    if not _signed_by_shopify(api_secrets):
        return error_response(401, "Unauthorized", "the callback is not signed by Shopify")
    shop = request.args.get("shop", "")
    code = request.args.get("code", "")
    state = request.args.get("state", "")
    if not valid_shop_domain(shop):
        return error_response(400, "Bad Request", "shop must be a name.myshopify.com domain")
    if not _fresh(request.args.get("timestamp")):
        return error_response(400, "Bad Request", "the callback is too old (or its timestamp is wrong)")
    if not code or not state:
        return error_response(400, "Bad Request", "the callback lacks its code or state")
    cookie = _read_cookie()
    if cookie is None or cookie.get("shop") != shop or not hmac.compare_digest(str(cookie.get("state")).encode(), state.encode()):
        return error_response(400, "Bad Request", "this install was not started in this browser; start it again")
    with services.db.session() as session:
        claimed = consume_token(session, state, purpose=STATE_PURPOSE, subject=shop)
    if claimed is None:
        return error_response(400, "Bad Request", "this install link has expired or was already used; start again")

    api_url = cookie.get("api_url") or None
    if api_url:
        api_url = sandbox_api_url(api_url, settings)  # the setting may have been turned off since
    try:
        tokens = exchange_code(shop, code, api_key, api_secrets[0], base_url=api_url)
    except AuthError:
        return error_response(400, "Bad Request", "Shopify refused the authorization code; start the install again")
    except PlatformError as exc:
        log.warning("shop %s: code exchange failed: %s", shop, exc)
        return error_response(502, "Bad Gateway", "could not reach Shopify to finish the install; try again")

    with services.db.session() as session:
        stored = ensure_shop(session, "shopify", shop, name=shop.removesuffix(".myshopify.com"), api_url=api_url)
        save_credentials(stored, services.box, access_token=tokens.access_token, refresh_token=tokens.refresh_token)
        stored.token_expires_at = tokens.expires_at
        stored.set_setting("granted_scopes", tokens.scope)
        stored.set_setting(PENDING_SETTING, True)
        shop_id = stored.id
        # Compared at once with what was asked for; every sync checks again with the store itself.
        report = access_report(parse_scopes(tokens.scope), requested(settings), now=utcnow())
        record_access(session, shop_id, report)
    if report.missing:
        log.warning("shop %s installed without the scopes %s", shop, ", ".join(report.missing))
    log.info("shop %s installed (id %s)", shop, shop_id)
    ensure_shop_webhooks(services, shop_id)  # a failure is logged; the periodic sync retries

    # A real store opens the app from its admin, which calls our "/" with a signed query that logs the
    # merchant in to their own shop; a sandbox store has no admin, so its operator uses the login.
    target = "/" if api_url else f"https://{shop}/admin/apps/{api_key}"
    response = redirect(target, 302)
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH)
    return response

