"""REST API authentication as WooCommerce core does it: Basic/query keys only over HTTPS, OAuth 1.0a one-legged otherwise."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

from sandbox.woocommerce.php import PhpValue, rawurlencode
from sandbox.woocommerce.rest_errors import WooRestError, auth_error
from sandbox.woocommerce.state import WooState

NONCE_WINDOW_SECONDS = 15 * 60
REQUIRED_OAUTH_PARAMS = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")
_HASHES = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
_HEADER_PARAM = re.compile(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))')


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a request runs as once its key checked out."""

    key_id: int
    user_id: int
    permissions: str
    method: str  # "basic" or "oauth1"


@dataclass(frozen=True, slots=True)
class AuthRequest:
    """The parts of an HTTP request authentication reads ($_GET, $_POST, headers)."""

    method: str
    path: str
    query: dict[str, PhpValue]
    form: dict[str, PhpValue]
    authorization: str | None
    origin: str  # scheme://host[:port] the request reached; the site URL when the seed fixes none


def signing_url(site_url: str, path: str, https: bool) -> str:
    """get_home_url(null, path, is_ssl() ? 'https' : 'http'): the site URL with the request path and the scheme forced."""
    parts = urlsplit(site_url.rstrip("/") + path)
    return urlunsplit(("https" if https else "http", parts.netloc, parts.path, "", ""))


def oauth_base_string(method: str, url: str, params: dict[str, PhpValue]) -> str:
    """The OAuth 1.0a string WooCommerce signs: METHOD&rawurlencode(url)&pairs, each pair encoded twice."""
    pairs: list[str] = []
    for key in sorted((k for k in params if k != "oauth_signature"), key=lambda k: k.encode("utf-8")):
        _flatten(rawurlencode(key), params[key], pairs)
    return f"{method.upper()}&{rawurlencode(url)}&{'%26'.join(pairs)}"


def _flatten(key: str, value: PhpValue, out: list[str]) -> None:
    if isinstance(value, dict):
        # Arrays become key%5B{index}%5D in their own order, indexes left unencoded.
        for index, item in value.items():
            _flatten(f"{key}%5B{index}%5D", item, out)
    else:
        out.append(rawurlencode(f"{key}={rawurlencode(str(value))}"))


def oauth_signature(base_string: str, consumer_secret: str, signature_method: str) -> str:
    digest = hmac.new(f"{consumer_secret}&".encode(), base_string.encode("utf-8"), _HASHES[signature_method]).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_oauth_header(header: str) -> dict[str, str]:
    header = header.strip()
    if not header.startswith("OAuth "):
        return {}
    params: dict[str, str] = {}
    for match in _HEADER_PARAM.finditer(header):
        quoted, bare = match.group(3), match.group(4)
        params[match.group(1)] = unquote_plus(quoted if quoted else bare)
    params.pop("realm", None)
    return params


def authenticate(state: WooState, request: AuthRequest, now: float) -> Identity | None:
    """The identity a request runs as, None for anonymous; raises the 401 WooCommerce would answer.

    Mirrors WC_REST_Authentication: over HTTPS Basic/query keys are tried first (an unknown key
    silently leaves the request anonymous); OAuth 1.0a is tried whenever that gave nobody.
    """
    pending_error: WooRestError | None = None
    with state.lock:
        if state.https_mode:
            try:
                identity = _basic(state, request)
            except WooRestError as error:
                identity, pending_error = None, error
            if identity is not None:
                return _with_permission(identity, request.method)
        params = _oauth_params(request)
        if params is not None:
            return _with_permission(_oauth(state, request, params, now), request.method)
    if pending_error is not None:
        raise pending_error
    return None


def _basic(state: WooState, request: AuthRequest) -> Identity | None:
    key_id, secret = request.query.get("consumer_key"), request.query.get("consumer_secret")
    if not (isinstance(key_id, str) and key_id and isinstance(secret, str) and secret):
        key_id, secret = _basic_header(request.authorization)
    if not key_id or not secret:
        return None
    key = state.find_key(key_id)
    if key is None:
        return None
    if not hmac.compare_digest(key.consumer_secret.encode(), secret.encode()):
        raise auth_error("Consumer secret is invalid.")
    return Identity(key.key_id, key.user_id, key.permissions, "basic")


def _basic_header(header: str | None) -> tuple[str | None, str | None]:
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else (None, None)


def _oauth_params(request: AuthRequest) -> dict[str, PhpValue] | None:
    """Signed parameters ($_GET + $_POST + Authorization: OAuth), None when OAuth is not even attempted."""
    params: dict[str, PhpValue] = {**request.query, **request.form}
    if request.authorization:
        params.update(parse_oauth_header(request.authorization))
    missing = [name for name in REQUIRED_OAUTH_PARAMS if not params.get(name)]
    if len(missing) == len(REQUIRED_OAUTH_PARAMS):
        return None
    if missing:
        noun = "parameter" if len(missing) == 1 else "parameters"
        raise WooRestError("woocommerce_rest_authentication_missing_parameter", f"Missing OAuth {noun} {', '.join(missing)}", 401)
    return params


def _oauth(state: WooState, request: AuthRequest, params: dict[str, Any], now: float) -> Identity:
    key = state.find_key(str(params["oauth_consumer_key"]))
    if key is None:
        raise auth_error("Consumer key is invalid.")
    method = str(params["oauth_signature_method"])
    if method not in _HASHES:
        raise auth_error("Invalid signature - signature method is invalid.")
    url = signing_url(state.site_url or request.origin, request.path, state.https_mode)
    expected = oauth_signature(oauth_base_string(request.method, url, params), key.consumer_secret, method)
    provided = unquote(str(params["oauth_signature"]).replace(" ", "+"))
    if not hmac.compare_digest(expected.encode(), provided.encode()):
        raise auth_error("Invalid signature - provided signature does not match.")
    try:
        timestamp = int(str(params["oauth_timestamp"]))
    except ValueError:
        raise auth_error("Invalid timestamp.") from None
    if abs(timestamp - now) > NONCE_WINDOW_SECONDS:
        raise auth_error("Invalid timestamp.")
    nonce = str(params["oauth_nonce"])
    if nonce in key.used_nonces:
        raise auth_error("Invalid nonce - nonce has already been used.")
    # Core keys its nonce list by timestamp (so two nonces in one second overwrite); a set is stricter and kinder.
    key.used_nonces[nonce] = timestamp
    for old, stamp in list(key.used_nonces.items()):
        if stamp < now - NONCE_WINDOW_SECONDS:
            del key.used_nonces[old]
    return Identity(key.key_id, key.user_id, key.permissions, "oauth1")


def _with_permission(identity: Identity, method: str) -> Identity:
    if method in {"GET", "HEAD"}:
        if identity.permissions not in {"read", "read_write"}:
            raise auth_error("The API key provided does not have read permissions.")
    elif method in {"POST", "PUT", "PATCH", "DELETE"}:
        if identity.permissions not in {"write", "read_write"}:
            raise auth_error("The API key provided does not have write permissions.")
    elif method != "OPTIONS":
        raise auth_error("Unknown request method.")
    return identity

