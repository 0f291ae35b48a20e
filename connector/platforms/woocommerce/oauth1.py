"""One-legged OAuth 1.0a request signing exactly as WooCommerce core verifies it over plain HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlsplit, urlunsplit

SIGNATURE_METHOD = "HMAC-SHA256"
_NONCE_ALPHABET = string.ascii_letters + string.digits


def rawurlencode(value: str) -> str:
    """PHP `rawurlencode`: RFC 3986, everything but A-Z a-z 0-9 - _ . ~ escaped (`/` included)."""
    return quote(value, safe="")


def new_nonce() -> str:
    """32 random alphanumeric characters: what WooCommerce expects and remembers for 15 minutes."""
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(32))


def base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The string WooCommerce signs: METHOD & rawurlencode(url without query) & encoded params.

    Core sorts the raw keys with `strcmp` (byte order), rawurlencodes key and value, joins them with
    `=` and rawurlencodes that pair a second time; pairs are joined with `%26`. Values are the
    decoded ones PHP sees in `$_GET`, which is why a `:` ends up as `%253A`.
    """
    scheme, netloc, path, _query, _fragment = urlsplit(url)
    bare_url = urlunsplit((scheme, netloc, path, "", ""))
    ordered = sorted(params, key=lambda pair: pair[0].encode("utf-8"))
    pairs = (rawurlencode(f"{rawurlencode(key)}={rawurlencode(value)}") for key, value in ordered)
    return f"{method.upper()}&{rawurlencode(bare_url)}&{'%26'.join(pairs)}"


def sign(
    method: str,
    url: str,
    params: Mapping[str, object],
    consumer_key: str,
    consumer_secret: str,
    *,
    nonce: str,
    timestamp: int | str,
) -> dict[str, str]:
    """The OAuth parameters (signature included) to add to the query string of this request.

    `params` are the other query parameters the request will carry, as scalar values (lists must
    already be joined, e.g. `status=processing,on-hold`); JSON bodies are not signed.
    """
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": nonce,
        "oauth_signature_method": SIGNATURE_METHOD,
        "oauth_timestamp": str(timestamp),
    }
    signed = [(str(key), _php_scalar(value)) for key, value in params.items()]
    signed.extend(oauth.items())
    text = base_string(method, url, signed)
    digest = hmac.new(f"{consumer_secret}&".encode(), text.encode("utf-8"), hashlib.sha256).digest()
    return {**oauth, "oauth_signature": base64.b64encode(digest).decode("ascii")}


def _php_scalar(value: object) -> str:
    """The string PHP sees for one query value; lists must be joined by the caller first."""
    if isinstance(value, (list, tuple, set, dict)):
        raise TypeError("join list filters into one comma-separated value before signing")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
