"""WooCommerce webhook intake: answer the creation ping, verify signed deliveries, store them in the inbox.

POST /webhooks/woocommerce/<shop_id>
    404  no WooCommerce shop with that id
    200  the creation ping (form body `webhook_id=N`, no signature header); nothing stored
    401  missing or bad X-WC-Webhook-Signature (base64 HMAC-SHA256 of the raw body); nothing stored.
         The secret is the one stored for the webhook named by X-WC-Webhook-ID
         (webhook_subscriptions.secret) or the shop's own `webhook_secret` (manual set-up).
    400  signed, but X-WC-Webhook-Topic or X-WC-Webhook-Delivery-ID is missing
    413  body larger than WEBHOOK_MAX_BODY_BYTES (nothing stored; the periodic sync catches up)
    200  stored, deduplicated on (shop, X-WC-Webhook-Delivery-ID); a repeat is still 200

Decrypted secrets are cached per process for a short while so a delivery costs one INSERT. A
signature that fails is checked once more against freshly loaded secrets when the delivery names a
webhook the cache does not know (one just created) or the cache entry is more than a few seconds old
(a changed secret), so new webhooks and rotated secrets work at once.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import select

from connector.pipeline.intake import Delivery, ShopMissing
from connector.platforms.woocommerce.auth import is_ping, verify_webhook
from connector.store.models import MAX_ID, Shop, WebhookSubscription
from connector.services import SERVICES_KEY, Services
from webhooks.answer import EMPTY, Answer, refuse, stored_answer
from webhooks.cache import TTLCache, process_cache
from webhooks.headers import header, kept_headers
from webhooks.wsgi import IntakeRequest

log = logging.getLogger("webhooks.woocommerce")

CACHE_KEY = "connector.woocommerce_secrets"
CACHE_TTL_SECONDS = 60.0
RELOAD_AFTER_SECONDS = 5.0
KEPT_HEADERS = (
    "WC-Webhook-Source",
    "WC-Webhook-Topic",
    "WC-Webhook-Resource",
    "WC-Webhook-Event",
    "WC-Webhook-ID",
    "WC-Webhook-Delivery-ID",
)


@dataclass(slots=True)
class ShopSecrets:
    """What verifying one shop's deliveries needs, decrypted."""

    domain: str
    shop_secret: str | None
    by_webhook: dict[str, str] = field(default_factory=dict)

    def candidates(self, webhook_id: str | None) -> list[str]:
        named = self.by_webhook.get(webhook_id) if webhook_id else None
        return [secret for secret in (named, self.shop_secret) if secret]


def load_secrets(services: Services, shop_id: int) -> ShopSecrets | None:
    """A WooCommerce shop's secrets from the database, or None when there is no such shop."""
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or shop.platform != "woocommerce":
            return None
        rows = session.execute(
            select(WebhookSubscription.platform_id, WebhookSubscription.secret).where(
                WebhookSubscription.shop_id == shop_id
            )
        ).all()
        domain, sealed_credentials = shop.domain, shop.credentials
    box = services.box
    by_webhook = {}
    for platform_id, sealed in rows:
        secret = box.open(sealed).get("secret") if sealed else None
        if secret:
            by_webhook[str(platform_id)] = str(secret)
    shop_secret = box.open(sealed_credentials).get("webhook_secret")
    return ShopSecrets(domain=domain, shop_secret=str(shop_secret) if shop_secret else None, by_webhook=by_webhook)


def secret_cache(app: Flask) -> TTLCache[int, ShopSecrets]:
    return process_cache(app.extensions, CACHE_KEY, lambda: TTLCache(CACHE_TTL_SECONDS))


def forget_shop_secrets(app: Flask, shop_id: int) -> None:
    """Drop this process's cached secrets of a shop (after its keys or webhooks change)."""
    secret_cache(app).forget(shop_id)


def _signed(body: bytes, signature: str | None, secrets: ShopSecrets, webhook_id: str | None) -> bool:
    return any(verify_webhook(body, signature, secret) for secret in secrets.candidates(webhook_id))


def receive(app: Flask, request: IntakeRequest, shop_id: int) -> Answer:
    """Answer one POST /webhooks/woocommerce/<shop_id> (`app` holds the services and the secrets cache)."""
    services: Services = app.extensions[SERVICES_KEY]
    cache = secret_cache(app)
    secrets = cache.get(shop_id, lambda: load_secrets(services, shop_id)) if shop_id <= MAX_ID else None
    if secrets is None:
        return refuse(404, "Not Found", "no WooCommerce shop with this id")
    body = request.read_body(services.settings.webhook_max_body_bytes)
    signature = header(request.headers, "WC-Webhook-Signature")
    if signature is None and is_ping(request.content_type, body):
        log.info("woocommerce ping for shop %s", shop_id)
        return EMPTY

    webhook_id = header(request.headers, "WC-Webhook-ID")
    verified = _signed(body, signature, secrets, webhook_id)
    unknown_webhook = webhook_id is not None and webhook_id not in secrets.by_webhook
    if not verified and signature and (unknown_webhook or cache.age(shop_id) > RELOAD_AFTER_SECONDS):
        reloaded = cache.get(shop_id, lambda: load_secrets(services, shop_id), reload=True)
        verified = reloaded is not None and _signed(body, signature, reloaded, webhook_id)
    if not verified:
        return refuse(401, "Unauthorized", "missing or invalid webhook signature")

    topic = header(request.headers, "WC-Webhook-Topic")
    delivery_id = header(request.headers, "WC-Webhook-Delivery-ID")
    if not topic or not delivery_id:
        return refuse(400, "Bad Request", "X-WC-Webhook-Topic and X-WC-Webhook-Delivery-ID are required")
    try:
        stored = services.intake.store(Delivery(
            platform="woocommerce",
            # Scoped by shop, so one store's ids never shadow another's, and by the body's digest:
            # WooCommerce derives the id from the webhook id and the current second, so two
            # different payloads of one webhook can share it. An identical repeat is still a no-op.
            delivery_id=f"{shop_id}:{delivery_id}:{hashlib.sha256(body).hexdigest()[:16]}",
            topic=topic,
            shop_domain=secrets.domain,
            shop_id=shop_id,
            headers=kept_headers(request.headers, KEPT_HEADERS),
            body=body,
        ))
    except ShopMissing:
        forget_shop_secrets(app, shop_id)  # removed since its secrets were cached
        return refuse(404, "Not Found", "no WooCommerce shop with this id")
    log.info("woocommerce %s for shop %s: %s", topic[:100], shop_id, "stored" if stored else "duplicate")
    return stored_answer(stored)
