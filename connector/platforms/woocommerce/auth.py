"""Pure WooCommerce helpers for the web app: store URL checks, the wc-auth key exchange, webhook signatures and pings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Literal
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator

from connector import boundedjson
from connector.errors import InputError
from connector.outbound import OutboundPolicy, current_policy
from connector.outbound.addresses import is_loopback_name

AUTHORIZE_PATH = "/wc-auth/v1/authorize"
MAX_CALLBACK_BYTES = 64 * 1024  # four short strings and a number
KeyPermissions = Literal["read", "write", "read_write"]



def normalize_store_url(url: str, *, source: str = "store URL", policy: OutboundPolicy | None = None) -> str:
    """A store URL fit for outbound requests, as `scheme://host[:port][/path]` with no trailing slash.

    Refuses anything but http/https, a missing host, embedded credentials, a query or a fragment, and
    whatever the outbound policy refuses (plain http except to this machine when OUTBOUND_ALLOW_LOOPBACK
    is set, addresses that are not public): WooCommerce ignores Basic auth over HTTP, and credentials
    must not cross a network in clear. Messages never echo a URL that held credentials.
    """
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InputError(source, "not a valid URL (bad host or port)") from None
    if parts.username is not None or parts.password is not None:
        raise InputError(source, "must not contain a user name or password; pass the API keys separately")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InputError(source, f"must start with https:// (got {text!r})")
    host = (parts.hostname or "").lower()
    if not host:
        raise InputError(source, f"has no host name (got {text!r})")
    if parts.query or parts.fragment:
        raise InputError(source, f"must not contain a query or fragment (got {text!r})")
    (policy or current_policy()).check_url(text, source=source)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, netloc, path, "", ""))


def authorize_url(store_url: str, app_name: str, user_id: str, return_url: str, callback_url: str) -> str:
    """Where to send the merchant so WooCommerce creates read_write keys and POSTs them to `callback_url`.

    WooCommerce itself refuses a callback that is not HTTPS; http is accepted here only for
    loopback hosts so the sandbox store can run the flow.
    """
    base = normalize_store_url(store_url)
    check_callback_url(callback_url)
    query = urlencode(
        {
            "app_name": app_name,
            "scope": "read_write",
            "user_id": user_id,
            "return_url": return_url,
            "callback_url": callback_url,
        }
    )
    return f"{base}{AUTHORIZE_PATH}?{query}"


def check_callback_url(url: str) -> None:
    """The callback is our own APP_URL, which the store calls: https, or http on this machine."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_name(parts.hostname or "")):
        raise InputError("callback_url", "must be https:// (or http:// on this machine)")


class KeyCallback(BaseModel):
    """The keys WooCommerce POSTs to the callback URL after the merchant approves the app."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    key_id: int
    user_id: str  # the one-time value we sent; WooCommerce may echo it as a number
    consumer_key: str
    consumer_secret: SecretStr
    key_permissions: KeyPermissions

    @field_validator("user_id", mode="before")
    @classmethod
    def _user_id_as_text(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("must be a string or a number")
        return str(value) if isinstance(value, int) else value

    @field_validator("consumer_key")
    @classmethod
    def _looks_like_key(cls, value: str) -> str:
        if not value.startswith("ck_"):
            raise ValueError("must start with ck_")
        return value

    @field_validator("consumer_secret")
    @classmethod
    def _looks_like_secret(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("cs_"):
            raise ValueError("must start with cs_")
        return value


def parse_key_callback(body: bytes, *, source: str = "WooCommerce key callback") -> KeyCallback:
    """Parse the callback body; errors name the fields but never echo their values."""
    data = boundedjson.loads(body, source=source, max_bytes=MAX_CALLBACK_BYTES)
    if not isinstance(data, dict):
        raise InputError(source, "body is not a JSON object")
    try:
        return KeyCallback.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}" for item in error.errors()
        )
        raise InputError(source, problems) from None


_ENTITY = re.compile(r"&(?:amp|lt|gt|quot);|&#0*(?:39|34|60|62|38);|&#[xX]0*(?:27|22|26);")
_ENTITY_CHARS = {"39": "'", "34": '"', "60": "<", "62": ">", "38": "&", "27": "'", "22": '"', "26": "&"}
_NAMED = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"'}


def _specialchars_decode(text: str) -> str:
    """WordPress `wp_specialchars_decode($text, ENT_QUOTES)`: one pass, no double decoding."""

    def replace(match: re.Match[str]) -> str:
        entity = match.group(0)
        if entity in _NAMED:
            return _NAMED[entity]
        digits = entity.rstrip(";").lstrip("&#xX").lstrip("0")
        return _ENTITY_CHARS[digits]

    return _ENTITY.sub(replace, text)


def webhook_signature(body: bytes, secret: str) -> str:
    """What WooCommerce puts in X-WC-Webhook-Signature: base64 HMAC-SHA256 of the raw body.

    Core keys the HMAC with `wp_specialchars_decode(secret, ENT_QUOTES)`, so the same decoding is
    applied here: it gives the right key whether WooCommerce stored the secret as typed or with
    HTML entities. Secrets this connector generates contain no `&` and are unaffected.
    """
    key = _specialchars_decode(secret).encode("utf-8")
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def verify_webhook(body: bytes, signature: str | None, secret: str) -> bool:
    """Constant-time check of a delivery's signature against the raw body bytes.

    An empty secret never verifies: anyone could compute that signature.
    """
    if not secret or not signature:
        return False
    expected = webhook_signature(body, secret).encode("ascii")
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))


def is_ping(content_type: str | None, form_body: bytes) -> bool:
    """True for the ping WooCommerce sends when a webhook is created: form body `webhook_id=<n>`.

    The ping carries no signature and must be answered 200 before any signature check.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in ("", "application/x-www-form-urlencoded"):
        return False
    try:
        fields = parse_qs(form_body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return False
    values = fields.get("webhook_id")
    return set(fields) == {"webhook_id"} and values is not None and len(values) == 1 and values[0].isdigit()
