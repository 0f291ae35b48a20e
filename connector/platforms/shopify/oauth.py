"""Shopify app install: authorize URL, query and webhook HMACs, code exchange and token refresh."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from connector.errors import AuthError, InputError, PlatformError, TransportError
from connector import boundedjson
from connector.outbound import current_policy, guarded_session
from connector.platforms.base import TokenSet

from .addresses import shop_base_url, valid_shop_domain

__all__ = [
    "TokenRefresher",
    "TokenSet",
    "authorize_url",
    "exchange_code",
    "query_hmac",
    "refresh_token",
    "valid_shop_domain",
    "verify_query_hmac",
    "verify_webhook",
    "verify_webhook_digests",
    "webhook_hmac",
]

TIMEOUT_SECONDS = 30.0
QueryValue = str | Sequence[str]


TokenRefresher = Callable[[str], TokenSet]
"""Given the current refresh token, return a fresh TokenSet (a closure over `refresh_token`)."""


def authorize_url(shop: str, api_key: str, scopes: Sequence[str], redirect_uri: str, state: str) -> str:
    """Where to send the merchant to approve the app (authorization-code grant, offline token)."""
    if not valid_shop_domain(shop):
        raise InputError("shop parameter", "not a name.myshopify.com domain")
    query = urlencode({"client_id": api_key, "scope": ",".join(scopes), "redirect_uri": redirect_uri, "state": state})
    return f"https://{shop}/admin/oauth/authorize?{query}"


def _signed_pairs(params: Mapping[str, QueryValue]) -> list[str] | None:
    """The `k=v` strings Shopify signs, or None when the query is ambiguous (a repeated key)."""
    pairs = []
    for key, value in params.items():
        if key == "hmac":
            continue
        if key.endswith("[]"):
            values = [value] if isinstance(value, str) else list(value)
            key = key[:-2]
            text = json.dumps([str(item) for item in values])  # ids[]=2&ids[]=1 -> ids=["2", "1"]
        elif isinstance(value, str):
            text = value
        elif len(value) == 1:
            text = str(value[0])
        else:
            return None
        # escaped so a value cannot smuggle in another pair
        escaped_key = key.replace("%", "%25").replace("=", "%3D")
        escaped_value = text.replace("%", "%25")
        pairs.append(f"{escaped_key}={escaped_value}".replace("&", "%26"))
    return sorted(pairs)


def query_hmac(params: Mapping[str, QueryValue], secret: str) -> str:
    """Hex HMAC-SHA256 Shopify puts in the `hmac` parameter of install and callback requests."""
    pairs = _signed_pairs(params)
    if pairs is None:
        raise InputError("query string", "a parameter is repeated")
    return hmac.new(secret.encode(), "&".join(pairs).encode(), hashlib.sha256).hexdigest()


def verify_query_hmac(params: Mapping[str, QueryValue], secret: str) -> bool:
    """True when the query's `hmac` is Shopify's signature of the rest of it (constant-time)."""
    given = params.get("hmac")
    if not isinstance(given, str):
        given = given[0] if given is not None and len(given) == 1 else None
    pairs = _signed_pairs(params)
    if not given or pairs is None or not secret:
        return False
    expected = hmac.new(secret.encode(), "&".join(pairs).encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8", "replace"))


def webhook_hmac(body: bytes, secret: str) -> str:
    """Base64 HMAC-SHA256 of the raw body, as in `X-Shopify-Hmac-Sha256`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_webhook(body: bytes, header_value: str | None, secrets: Sequence[str]) -> bool:
    """True when `header_value` signs `body` with any of `secrets` (current and, during a rotation, previous)."""
    digests = [hmac.new(secret.encode(), body, hashlib.sha256).digest() for secret in secrets if secret]
    return verify_webhook_digests(digests, header_value)


def verify_webhook_digests(digests: Sequence[bytes], header_value: str | None) -> bool:
    """True when `header_value` is the base64 of one of `digests` (HMAC-SHA256 of the body, one per secret,
    computed as the body streamed in)."""
    if not header_value:
        return False
    given = header_value.strip().encode("utf-8", "replace")
    matched = False
    for digest in digests:
        # every digest is tried, so the time taken does not reveal which one matched
        matched |= hmac.compare_digest(base64.b64encode(digest), given)
    return matched


def exchange_code(shop: str, code: str, api_key: str, secret: str, *, base_url: str | None = None,
                  session: requests.Session | None = None,
                  now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> TokenSet:
    """Trade the callback's `code` for an expiring offline token and its refresh token."""
    body = {"client_id": api_key, "client_secret": secret, "code": code, "expiring": "1"}
    return _token_request(shop, body, base_url, session, now, "authorization code")


def refresh_token(shop: str, refresh_token: str, api_key: str, secret: str, *, base_url: str | None = None,
                  session: requests.Session | None = None,
                  now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> TokenSet:
    """Trade a refresh token for a new access token and a new refresh token (the old one is spent)."""
    body = {"client_id": api_key, "client_secret": secret, "grant_type": "refresh_token",
            "refresh_token": refresh_token}
    return _token_request(shop, body, base_url, session, now, "refresh token")


def _token_request(shop: str, body: dict[str, str], base_url: str | None, session: requests.Session | None,
                   now: Callable[[], datetime], what: str) -> TokenSet:
    url = f"{shop_base_url(shop, base_url)}/admin/oauth/access_token"
    http = session or guarded_session(current_policy())
    try:
        # never follow a redirect: a 307 would re-post the client secret to wherever it points
        response = http.post(url, json=body, headers={"Accept": "application/json"}, timeout=TIMEOUT_SECONDS,
                             allow_redirects=False)
    except requests.RequestException as exc:
        raise TransportError(f"could not reach {shop} to exchange the {what}: {type(exc).__name__}") from None
    finally:
        if session is None:
            http.close()
    if response.status_code >= 500:
        raise TransportError(f"{shop} answered HTTP {response.status_code} to the {what} exchange",
                             status=response.status_code)
    if response.status_code in (400, 401, 403):
        raise AuthError(f"{shop} refused the {what} (HTTP {response.status_code})", status=response.status_code)
    if response.status_code != 200:
        raise PlatformError(f"{shop} answered HTTP {response.status_code} to the {what} exchange",
                            status=response.status_code)
    try:
        payload: Any = boundedjson.loads(response.content, source=f"{shop} {what} answer")
    except InputError:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
        raise PlatformError(f"{shop} answered the {what} exchange without an access token")
    issued = now()
    return TokenSet(
        access_token=payload["access_token"],
        scope=str(payload.get("scope", "")),
        expires_at=_after(issued, payload.get("expires_in")),
        refresh_token=payload.get("refresh_token"),
        refresh_expires_at=_after(issued, payload.get("refresh_token_expires_in")),
    )


def _after(start: datetime, seconds: Any) -> datetime | None:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    return start + timedelta(seconds=seconds)
