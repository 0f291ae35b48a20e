"""WooCommerce app authorization (the wc-auth key exchange) and the webhooks it then creates.

GET  /auth/woocommerce?store_url=https://store.example
    Normalizes the store URL (400 unless https, or http on this machine), issues a one-time numeric
    `user_id` (30 minutes; HMAC-tagged so forged ids are refused before the database is asked) and
    redirects (302) to `<store_url>/wc-auth/v1/authorize` with app_name, scope=read_write, user_id,
    return_url and callback_url.
POST /auth/woocommerce/callback
    JSON {key_id, user_id (string or number), consumer_key, consumer_secret, key_permissions}.
    400 when malformed, when key_permissions is not read_write, or when user_id is not an unused,
    unexpired one of ours (it is used up atomically). Otherwise the shop is created or updated
    with its keys sealed, marked `webhooks_pending`, and the answer is 200 (any other answer
    makes WooCommerce delete the key).
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

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from connector.errors import ConfigError, InputError
from connector.platforms.woocommerce.auth import authorize_url, normalize_store_url, parse_key_callback
from connector.web.context import current_services, error_response
from connector.store.repo import ensure_shop, save_credentials
from connector.web.tokens import consume_token, issue_token
from connector.pipeline.webhook_setup import PENDING_SETTING, ensure_shop_webhooks
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


def _tag(nonce: int) -> int:
    digest = hmac.new(str(current_app.config["SECRET_KEY"]).encode(), b"wc-user:%d" % nonce, hashlib.sha256).digest()
    return int.from_bytes(digest[:2], "big")


def new_user_id() -> str:
    nonce = secrets.randbits(_NONCE_BITS) | (1 << _NONCE_BITS)
    return str((nonce << _TAG_BITS) | _tag(nonce))


def checked_user_id(user_id: str) -> str | None:
    """The canonical form of a user_id this app issued (tag valid), else None."""
    text = user_id.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 17:
        return None
    value = int(text)
    nonce, tag = value >> _TAG_BITS, value & ((1 << _TAG_BITS) - 1)
    if nonce >> _NONCE_BITS != 1 or not hmac.compare_digest(tag.to_bytes(2, "big"), _tag(nonce).to_bytes(2, "big")):
        return None
    return str(value)


@blueprint.get("/auth/woocommerce")
def authorize() -> BaseResponse:
    services = current_services()
    settings = services.settings
    store_url = normalize_store_url(request.args.get("store_url") or "", source="store_url parameter")
    callback_url = settings.app_url + CALLBACK_PATH
    try:
        normalize_store_url(callback_url, source="APP_URL")
    except InputError:
        raise ConfigError("APP_URL", "must be https:// (or http:// on this machine) for WooCommerce to post keys to it") from None
    user_id = new_user_id()
    with services.db.session() as session:
        issue_token(session, user_id, purpose=USER_PURPOSE, subject=store_url, lifetime=USER_LIFETIME)
    target = authorize_url(store_url, settings.woocommerce_app_name, user_id, settings.app_url + RETURN_PATH, callback_url)
    return redirect(target, 302)


@blueprint.post(CALLBACK_PATH)
def callback() -> tuple[Response | str, int]:
    services = current_services()
    keys = parse_key_callback(request.get_data(cache=False))
    if keys.key_permissions != "read_write":
        return error_response(400, "Bad Request", "key_permissions must be read_write")
    user_id = checked_user_id(keys.user_id)
    if user_id is None:
        return error_response(400, "Bad Request", "user_id was not issued by this connector")
    with services.db.session() as session:
        store_url = consume_token(session, user_id, purpose=USER_PURPOSE)
        if store_url is None:
            return error_response(400, "Bad Request", "user_id has expired or was already used")
        shop = ensure_shop(session, "woocommerce", store_url, name=urlsplit(store_url).hostname or store_url,
                              api_url=None)
        save_credentials(
            shop,
            services.box,
            consumer_key=keys.consumer_key,
            consumer_secret=keys.consumer_secret.get_secret_value(),
            key_id=keys.key_id,
        )
        shop.set_setting(PENDING_SETTING, True)
        shop_id = shop.id
    forget_shop_secrets(current_app, shop_id)
    log.info("woocommerce store %s authorized (shop %s, key %s)", store_url, shop_id, keys.key_id)
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

