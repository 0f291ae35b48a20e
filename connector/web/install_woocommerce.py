"""WooCommerce app authorization (the wc-auth key exchange): an operator starts it, only the store completes it.

Start (operator only): POST /connect/woocommerce from the dashboard (CSRF-protected, see
    connector/web/dashboard/connect.py) or `connector shops connect woocommerce --url URL`. Both call
    `begin_install`: the store URL must pass the outbound policy (its host is resolved now, and again on
    every connection), a one-time numeric `user_id` is issued (30 minutes; HMAC-tagged so forged ids are
    refused before the database is asked) bound to that URL, and the authorize URL
    `<store_url>/wc-auth/v1/authorize?app_name&scope=read_write&user_id&return_url&callback_url` is returned.
    Expired one-time tokens are purged whenever a new one is issued.
GET  /auth/woocommerce?store_url=...
    Starts nothing: it sends the browser to the dashboard's connect form (after the operator login).
POST /auth/woocommerce/callback
    JSON (at most 64 KiB and 64 levels) {key_id, user_id (string or number), consumer_key,
    consumer_secret, key_permissions}. 400 when malformed, when key_permissions is not read_write, or
    when user_id is not an unused, unexpired one of ours (it is used up atomically). The keys are then
    verified against the store the operator named (never an address from the body): one authenticated
    read (`Platform.shop_profile`) must succeed, else 400 and nothing is stored (WooCommerce then
    deletes the key). Only a verified key is saved: the shop is created, or an existing shop's keys are
    replaced, so a shop's working keys are never overwritten by keys that do not work. WooCommerce has
    no REST API to revoke a key, so a replaced key's id is kept (shop setting `revoke_key`), logged and
    shown on the dashboard for two weeks with where the store owner revokes it. Then the shop is marked
    `webhooks_pending` and the answer is 200 (any other answer makes WooCommerce delete the key).
GET  /auth/woocommerce/return
    A plain page saying whether the store approved the connector.

Webhooks: WooCommerce waits for the callback's answer before it lets the merchant go on, and creating
a webhook makes WooCommerce ping our endpoint, so the callback does not create them inline. After
answering, a background thread runs `webhook_setup.ensure_shop_webhooks`, which creates them (each
with a random secret of its own, stored sealed in webhook_subscriptions). If it fails or the process
stops, the shop's `webhooks_pending` setting stays set and the periodic sync calls the same function.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from connector.errors import ConfigError, ConnectorError, InputError
from connector.outbound import current_policy
from connector.pipeline.shops import verify_credentials
from connector.pipeline.webhook_setup import PENDING_SETTING, ensure_shop_webhooks
from connector.platforms.woocommerce.auth import (
    authorize_url,
    check_callback_url,
    normalize_store_url,
    parse_key_callback,
)
from connector.services import Services
from connector.store.models import utcnow
from connector.store.repo import REVOKE_SETTING, ensure_shop, save_credentials
from connector.web.app import session_secret
from connector.web.context import current_services, error_response
from connector.web.tokens import consume_token, issue_token
from webhooks.woocommerce import forget_shop_secrets

log = logging.getLogger("connector.web.woocommerce")
blueprint = Blueprint("woocommerce_install", __name__)

USER_PURPOSE = "wc_user"
USER_LIFETIME = timedelta(minutes=30)
CALLBACK_PATH = "/auth/woocommerce/callback"
RETURN_PATH = "/auth/woocommerce/return"
# App config key: how post-answer work is run (tests run it inline).
BACKGROUND_RUNNER = "CONNECTOR_BACKGROUND_RUNNER"

# user_id = nonce (37 bits, top bit set) << 16 | 16-bit tag: below 2**53, so it survives WooCommerce and
# any JSON parser as a number, and it may come back as a string or as an int.
_NONCE_BITS = 36
_TAG_BITS = 16


def _tag(nonce: int, key: str) -> int:
    digest = hmac.new(key.encode(), b"wc-user:%d" % nonce, hashlib.sha256).digest()
    return int.from_bytes(digest[:2], "big")


def _tag_key(services: Services) -> str:
    return session_secret(services.settings.connector_secret_key)


def new_user_id(key: str) -> str:
    nonce = secrets.randbits(_NONCE_BITS) | (1 << _NONCE_BITS)
    return str((nonce << _TAG_BITS) | _tag(nonce, key))


def checked_user_id(user_id: str, key: str) -> str | None:
    """The canonical form of a user_id this app issued (tag valid), else None."""
    text = user_id.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 17:
        return None
    value = int(text)
    nonce, tag = value >> _TAG_BITS, value & ((1 << _TAG_BITS) - 1)
    expected = _tag(nonce, key).to_bytes(2, "big")
    if nonce >> _NONCE_BITS != 1 or not hmac.compare_digest(tag.to_bytes(2, "big"), expected):
        return None
    return str(value)


def begin_install(services: Services, store_url: str, *, source: str = "store URL") -> str:
    """Issue a one-time user_id for `store_url` and return the wc-auth URL to send the store owner to.

    Only operators call this (the dashboard's connect form, the CLI). The store URL must pass the
    outbound policy now, its host name resolved included, so an internal address is refused before
    anything is issued."""
    settings = services.settings
    store_url = normalize_store_url(store_url, source=source)
    parts = urlsplit(store_url)
    current_policy().vet(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    callback_url = settings.app_url + CALLBACK_PATH
    try:
        check_callback_url(callback_url)
    except InputError:
        raise ConfigError("APP_URL", "must be https:// (or http:// on this machine) for WooCommerce to post keys to it") from None
    user_id = new_user_id(_tag_key(services))
    with services.db.session() as session:
        issue_token(session, user_id, purpose=USER_PURPOSE, subject=store_url, lifetime=USER_LIFETIME)
    log.info("woocommerce install of %s started (user_id issued, valid %s)", store_url, USER_LIFETIME)
    return authorize_url(store_url, settings.woocommerce_app_name, user_id, settings.app_url + RETURN_PATH, callback_url)


@blueprint.get("/auth/woocommerce")
def authorize() -> BaseResponse:
    """Installs start on the dashboard (an operator action); this old entry only leads there."""
    store_url = (request.args.get("store_url") or "")[:2000]
    return redirect(url_for("dashboard.connect_woocommerce", store_url=store_url or None), 303)


@blueprint.post(CALLBACK_PATH)
def callback() -> tuple[Response | str, int]:
    services = current_services()
    keys = parse_key_callback(request.get_data(cache=False))
    if keys.key_permissions != "read_write":
        return error_response(400, "Bad Request", "key_permissions must be read_write")
    user_id = checked_user_id(keys.user_id, _tag_key(services))
    if user_id is None:
        return error_response(400, "Bad Request", "user_id was not issued by this connector")
    with services.db.session() as session:
        store_url = consume_token(session, user_id, purpose=USER_PURPOSE)
    if store_url is None:
        return error_response(400, "Bad Request", "user_id has expired or was already used")
    credentials: dict[str, object] = {"consumer_key": keys.consumer_key,
                                      "consumer_secret": keys.consumer_secret.get_secret_value(),
                                      "key_id": keys.key_id}
    try:
        profile = verify_credentials(services, "woocommerce", store_url, api_url=None, credentials=credentials,
                                     settings={})
    except ConnectorError as error:
        log.warning("woocommerce key %s for %s refused: %s", keys.key_id, store_url, error)
        return error_response(400, "Bad Request", "the key did not work against the store; nothing was stored")
    with services.db.session() as session:
        name = profile.name or urlsplit(store_url).hostname or store_url
        shop = ensure_shop(session, "woocommerce", store_url, name=name,
                           api_url=None)
        replaced = services.box.open(shop.credentials).get("key_id")
        save_credentials(shop, services.box, **credentials)
        if replaced is not None and replaced != keys.key_id:
            shop.set_setting(REVOKE_SETTING, {"key_id": replaced, "at": utcnow().isoformat()})
        shop.set_setting(PENDING_SETTING, True)
        shop_id = shop.id
    forget_shop_secrets(current_app, shop_id)
    log.info("woocommerce store %s authorized (shop %s, key %s verified)", store_url, shop_id, keys.key_id)
    if replaced is not None and replaced != keys.key_id:
        log.warning("woocommerce shop %s: key %s replaced by key %s; WooCommerce offers no API to revoke it, so "
                    "revoke it under WooCommerce > Settings > Advanced > REST API", shop_id, replaced, keys.key_id)
    run_in_background(partial(ensure_shop_webhooks, services, shop_id))
    return jsonify(status="ok", shop_id=shop_id), 200


@blueprint.get(RETURN_PATH)
def returned() -> str:
    return render_template("woocommerce_return.html", success=request.args.get("success") == "1")


def run_in_background(job: Callable[[], object]) -> None:
    """Run `job` after the current request, off the request thread (or as the app config says)."""
    runner = current_app.config.get(BACKGROUND_RUNNER)
    if runner is not None:
        runner(job)
        return
    threading.Thread(target=job, name="connector-background", daemon=True).start()

