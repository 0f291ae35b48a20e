"""Shopify webhook intake: verify the body's HMAC, store the delivery in the inbox, answer 200.

POST /webhooks/shopify
    Headers (any case, with or without the `X-` prefix): Shopify-Hmac-Sha256, Shopify-Topic,
    Shopify-Shop-Domain, Shopify-Webhook-Id (also kept when present: Api-Version, Event-Id,
    Triggered-At). The raw body is verified with SHOPIFY_API_SECRET or, during a rotation,
    SHOPIFY_API_SECRET_PREVIOUS before anything else looks at it.
    401  missing or bad signature (nothing stored)
    400  signed, but a required header is missing or the shop domain is not name.myshopify.com
    413  body larger than WEBHOOK_MAX_BODY_BYTES (10 MiB): still verified as it streams in (never held
         in memory), then recorded in the inbox by topic, shop and webhook id without its body, so the
         worker schedules a sync that fetches the order. Past four times the limit it cannot be
         verified and nothing is stored.
    200  stored, deduplicated on the webhook id (a repeat is still 200). The delivery is stored under its
         shop domain with no shop id: the worker attributes it to the installed shop before applying it, so
         the INSERT runs no foreign-key check and the intake needs no shop lookup. Compliance topics that
         arrive after uninstall are stored the same way.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask

from connector.platforms.shopify.oauth import valid_shop_domain, verify_webhook_digests
from connector.pipeline.intake import Delivery
from connector.services import SERVICES_KEY, Services
from webhooks.answer import STALE, Answer, refuse, stored_answer
from webhooks.body import HARD_CAP_FACTOR, read_signed_body, signed_body
from webhooks.freshness import record_refusal, shop_mismatch, staleness
from webhooks.headers import header, kept_headers
from webhooks.wsgi import IntakeRequest

log = logging.getLogger("webhooks.shopify")

KEPT_HEADERS = (
    "Shopify-Topic",
    "Shopify-Shop-Domain",
    "Shopify-Webhook-Id",
    "Shopify-Api-Version",
    "Shopify-Event-Id",
    "Shopify-Triggered-At",
)


def receive(app: Flask, request: IntakeRequest) -> Answer:
    """Answer one POST /webhooks/shopify (`app` holds the services)."""
    services: Services = app.extensions[SERVICES_KEY]
    limit = services.settings.webhook_max_body_bytes
    secrets = services.settings.shopify_secrets
    whole = request.read_declared(limit)
    if whole is not None:
        read = signed_body(whole, secrets=secrets)
    else:
        # Read past the limit (the signature still covers every byte), up to the hard cap; a declared length past it is a 413.
        read = read_signed_body(request.stream(HARD_CAP_FACTOR * limit), limit=limit, secrets=secrets)
    if read.cut_off:
        return refuse(413, "Payload Too Large", f"the body is far over the {limit}-byte limit")
    if not verify_webhook_digests(read.digests, header(request.headers, "Shopify-Hmac-Sha256")):
        if not services.settings.shopify_secrets:
            log.error("Shopify webhook refused: SHOPIFY_API_SECRET is not set")
        return refuse(401, "Unauthorized", "missing or invalid webhook signature")

    # Each header is read once: the ones the delivery keeps, which include every one judged below.
    headers = kept_headers(request.headers, KEPT_HEADERS)
    topic = headers.get("X-Shopify-Topic")
    domain = headers.get("X-Shopify-Shop-Domain")
    webhook_id = headers.get("X-Shopify-Webhook-Id")
    if not topic or not domain or not webhook_id:
        return refuse(400, "Bad Request", "Shopify-Topic, Shopify-Shop-Domain and Shopify-Webhook-Id are required")
    domain = domain.lower()
    if not valid_shop_domain(domain):
        return refuse(400, "Bad Request", "Shopify-Shop-Domain is not a name.myshopify.com domain")

    max_age = timedelta(minutes=services.settings.webhook_max_age_minutes)
    stale = staleness(headers.get("X-Shopify-Triggered-At"), max_age)
    if stale is not None:
        record_refusal(services, "shopify", domain, topic, f"stale: {stale}")
        return STALE
    foreign = shop_mismatch(topic, read.body, domain)
    if foreign is not None:
        record_refusal(services, "shopify", domain, topic, foreign)
        return refuse(400, "Bad Request", foreign)

    stored = services.intake.store(Delivery(
        platform="shopify", delivery_id=webhook_id, topic=topic, shop_domain=domain, shop_id=None, headers=headers,
        body=read.body or b"", body_omitted=None if read.body is not None else read.size,
    ))
    if read.over_limit:
        log.warning("shopify %s from %s: %d-byte body over the limit; recorded without it", topic[:100], domain,
                    read.size)
        return refuse(413, "Payload Too Large", f"the body ({read.size} bytes) is over the {limit}-byte "
                              "limit; the delivery is recorded and the order will be fetched by the next sync")
    log.info("shopify %s from %s: %s", topic[:100], domain, "stored" if stored else "duplicate")
    return stored_answer(stored)
