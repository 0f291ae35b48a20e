"""Replay checks on signed deliveries: too old to be a live event, or a compliance body about another shop.

Shopify signs the body only, so a captured delivery could be sent again later under a new webhook id,
another topic or another shop's domain. Two checks close that, both after the signature:

- Freshness: `X-Shopify-Triggered-At` older than WEBHOOK_MAX_AGE_MINUTES (default 360: Shopify retries
  a failed delivery for up to 4 hours, plus margin for clock skew) is answered 200, so the platform
  stops retrying, and not stored. WooCommerce sends no time header, so its deliveries are not checked.
- Shop match: for shop/redact, customers/redact, customers/data_request and app/uninstalled, the shop
  the body names must be the header's shop, else 400 (shop A's erasure cannot be aimed at shop B).

Each refusal is logged and recorded in webhook_refusals (the dashboard's Deliveries page counts them).
Cheap by design: one header parse per delivery, and the body is parsed only for the four small topics.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from connector import boundedjson
from connector.errors import InputError
from connector.services import Services
from connector.store.models import WebhookRefusal, utcnow

log = logging.getLogger("webhooks.freshness")

SHOP_BOUND_TOPICS = frozenset({"shop/redact", "customers/redact", "customers/data_request", "app/uninstalled"})
_BODY_SHOP_FIELDS = ("shop_domain", "myshopify_domain")


def triggered_at(value: str | None) -> datetime | None:
    """Shopify's `2026-12-04T22:00:00.123456789Z`, or None if unreadable or without a zone. Python 3.11's
    ISO reader takes the `Z` and cuts the nanoseconds to microseconds itself."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def staleness(value: str | None, max_age: timedelta, now: datetime | None = None) -> str | None:
    """Why a delivery triggered at `value` is too old, or None (a missing or unreadable time is not judged)."""
    moment = triggered_at(value)
    if moment is None:
        return None
    age = (now or utcnow()) - moment
    if age > max_age:
        return f"triggered {int(age.total_seconds() // 60)} minutes ago, past the {int(max_age.total_seconds() // 60)}-minute window"
    return None


def shop_mismatch(topic: str, body: bytes | None, domain: str) -> str | None:
    """Why a compliance or uninstall body does not belong to the header's shop, or None."""
    if topic not in SHOP_BOUND_TOPICS or body is None:
        return None
    try:
        data = boundedjson.loads(body, source=topic, max_bytes=256 * 1024)
    except InputError:
        return "the body is not a JSON object"
    if not isinstance(data, dict):
        return "the body is not a JSON object"
    named = {str(data[field]).lower() for field in _BODY_SHOP_FIELDS if isinstance(data.get(field), str)}
    if named and domain not in named:
        return "the body names another shop than Shopify-Shop-Domain"
    return None


def record_refusal(services: Services, platform: str, domain: str, topic: str, reason: str) -> None:
    log.warning("%s %s from %s refused: %s", platform, topic[:100], domain[:255], reason)
    with services.db.session() as session:
        session.add(WebhookRefusal(platform=platform, shop_domain=domain[:255], topic=topic[:100], reason=reason[:255]))
