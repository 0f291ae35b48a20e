"""Signed, URL-safe tokens for the keep-waiting-or-cancel link in delay notices.

A token carries (shop id, order id, notice ref, issue time) and an HMAC-SHA256 over them, keyed by
the connector's secret. It is not encrypted: it names only database ids and a notice reference,
nothing personal. Tampered, malformed or expired tokens raise InputError.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from connector.errors import ConfigError, InputError

TOKEN_SOURCE = "choice link"
_VERSION = 1
_PURPOSE = b"backorder-connector/choice-link/v1"
_CLOCK_SKEW = timedelta(minutes=5)
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class ChoiceClaim:
    """What a valid choice token says: which order's notice the customer is answering."""

    shop_id: int
    order_id: int
    notice_ref: str
    issued_at: datetime


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, body: str) -> bytes:
    if not secret:
        raise ConfigError("CONNECTOR_SECRET_KEY", "is needed to sign customer choice links")
    key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()  # a key used for nothing else
    return hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()


def make_choice_token(
    secret: str, shop_id: int, order_id: int, notice_ref: str, *, now: datetime | None = None
) -> str:
    """A token for the choice link of one notice; `now` defaults to the current time."""
    issued = now or datetime.now(timezone.utc)
    payload = {"v": _VERSION, "s": shop_id, "o": order_id, "n": notice_ref, "t": int(issued.timestamp())}
    body = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_b64encode(_signature(secret, body))}"


def read_choice_token(
    secret: str, token: str, max_age_days: int = 60, *, now: datetime | None = None
) -> ChoiceClaim:
    """The claim in `token` if its signature holds and it is at most `max_age_days` old."""
    if not _TOKEN_SHAPE.fullmatch(token):
        raise InputError(TOKEN_SOURCE, "the link is incomplete or damaged")
    body, _, signature = token.partition(".")
    expected = _b64encode(_signature(secret, body))
    if not hmac.compare_digest(signature, expected):
        raise InputError(TOKEN_SOURCE, "the link has been altered")
    try:
        payload = json.loads(_b64decode(body))
        claim = ChoiceClaim(
            shop_id=_int(payload["s"]),
            order_id=_int(payload["o"]),
            notice_ref=str(payload["n"]),
            issued_at=datetime.fromtimestamp(_int(payload["t"]), timezone.utc),
        )
        if payload["v"] != _VERSION:
            raise ValueError("unknown version")
    except (ValueError, KeyError, TypeError, OverflowError):
        raise InputError(TOKEN_SOURCE, "the link is not a choice link") from None
    current = now or datetime.now(timezone.utc)
    if claim.issued_at > current + _CLOCK_SKEW:
        raise InputError(TOKEN_SOURCE, "the link was issued in the future")
    if current - claim.issued_at > timedelta(days=max_age_days):
        raise InputError(TOKEN_SOURCE, f"the link has expired (links are valid for {max_age_days} days)")
    return claim


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("not an integer")
    return value


def choice_url(app_url: str, token: str) -> str:
    """The address the web app serves the choice page at."""
    return f"{app_url.rstrip('/')}/choice/{token}"
