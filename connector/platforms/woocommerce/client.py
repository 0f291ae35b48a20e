"""WooCommerce REST v3 client: authentication, error mapping, bounded retries and pagination."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from connector import __version__
from connector.errors import (
    AuthError,
    InputError,
    NotFoundError,
    PlatformError,
    ThrottledError,
    TransportError,
    UserError,
)
from connector import boundedjson
from connector.outbound import OutboundPolicy, current_policy, guarded_session, read_body
from connector.platforms.base import ShopAccess
from connector.platforms.retrying import Jitter, full_jitter, platform_retrying
from connector.platforms.woocommerce import oauth1
from connector.platforms.woocommerce.auth import normalize_store_url

log = logging.getLogger(__name__)

PROJECT_URL = "https://pypi.org/project/backorder-connector/"
USER_AGENT = f"backorder-connector/{__version__} (+{PROJECT_URL})"
API_PATH = "/wp-json/wc/v3/"
PER_PAGE = 100
MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # a page of 100 orders is well under 2 MiB

QueryValue = str | int | float | bool | list[Any] | tuple[Any, ...] | None
Params = Mapping[str, QueryValue]

# Codes WooCommerce/WordPress use when the request ran but the key may not do this.
_CREDENTIAL_CODES = frozenset(
    {"woocommerce_rest_authentication_error", "woocommerce_rest_authentication_missing_parameter"}
)



class WooClient:
    """One WooCommerce store's REST API over one keep-alive session.

    HTTPS uses HTTP Basic (or query-string keys for hosts that strip `Authorization`); plain HTTP is
    allowed only for loopback hosts and is signed with one-legged OAuth 1.0a. `access.api_url`, when
    set, is the full REST base (`…/wp-json/wc/v3/`); otherwise it is derived from `access.domain`.
    OAuth signs the URL itself, so over HTTP the store URL must be spelled exactly as the WordPress
    site address (`localhost` and `127.0.0.1` are different signatures).
    """

    def __init__(
        self,
        access: ShopAccess,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        timeout: float = 30,
        jitter: Jitter = full_jitter,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = oauth1.new_nonce,
        policy: OutboundPolicy | None = None,
        deadline: float = 120.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not access.consumer_key or not access.consumer_secret:
            raise InputError("WooCommerce shop", "consumer key and consumer secret are both required")
        self._policy = policy or current_policy()
        if access.api_url:
            base = normalize_store_url(access.api_url, source="WooCommerce API URL", policy=self._policy) + "/"
        else:
            base = normalize_store_url(access.domain, policy=self._policy) + API_PATH
        self.base_url = base
        self.store_url = access.domain
        self._host = urlsplit(base).netloc
        self._use_oauth = base.startswith("http://")
        self._query_string_auth = access.query_string_auth
        self._key = access.consumer_key
        self._secret = access.consumer_secret
        self._own_session = session is None
        self._session = session or guarded_session(self._policy)
        self._session.headers["User-Agent"] = USER_AGENT
        self._session.headers["Accept"] = "application/json"
        self._sleep = sleep
        self._max_attempts = max(1, max_attempts)
        self._timeout = timeout
        self._jitter = jitter
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._clock = clock
        self._nonce = nonce
        self._deadline = deadline
        self._monotonic = monotonic

    def __repr__(self) -> str:
        return f"WooClient({self.base_url!r})"

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    # Public verbs -----------------------------------------------------------------------------

    def get(self, path: str, params: Params | None = None) -> Any:
        return _json(self.request("GET", path, params=params), self._host)

    def post(self, path: str, body: Any, params: Params | None = None, *, namespace: str | None = None) -> Any:
        return _json(self.request("POST", path, params=params, json_body=body, namespace=namespace), self._host)

    def put(self, path: str, body: Any, params: Params | None = None) -> Any:
        return _json(self.request("PUT", path, params=params, json_body=body), self._host)

    def get_page(self, path: str, params: Params | None, page: int) -> tuple[list[dict[str, Any]], int | None]:
        """One page of a list endpoint and the total page count the store reported (if any)."""
        response = self.request("GET", path, params={**(params or {}), "per_page": PER_PAGE, "page": page})
        items = _json(response, self._host)
        if not isinstance(items, list):
            raise PlatformError(f"{self._host}: expected a list from {path}", status=response.status_code)
        return items, _int_header(response, "X-WP-TotalPages")

    def paginate(self, path: str, params: Params | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, 100 per request, following X-WP-TotalPages."""
        page = 1
        while True:
            items, total_pages = self.get_page(path, params, page)
            yield from items
            if not items or (total_pages is not None and page >= total_pages):
                return
            if total_pages is None and len(items) < PER_PAGE:
                return
            page += 1

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
        attempts: int | None = None,
        namespace: str | None = None,
    ) -> requests.Response:
        """Send one call, retrying transport failures and throttling a bounded number of times.

        `attempts=1` turns retries off for writes that must not be repeated blindly. `namespace` sends
        `path` to another REST namespace of the same site (a plugin's `wc-…/v1`) instead of `wc/v3`;
        WooCommerce authenticates `wc-` namespaces with the same key.
        """
        retrying = platform_retrying(
            attempts=attempts or self._max_attempts, sleep=self._sleep, jitter=self._jitter,
            base=self._backoff_base, cap=self._backoff_cap, log=log, what=f"woocommerce {self._host}",
        )
        url = self.base_url if namespace is None else f"{self.rest_root}{namespace.strip('/')}/"
        return retrying(self._attempt, method.upper(), url, path, params or {}, json_body)

    @property
    def rest_root(self) -> str:
        """The site's REST root (`…/wp-json/`), where the index and every namespace live."""
        return self.base_url.removesuffix("wc/v3/")

    def site_index(self) -> Any:
        """The WordPress REST index (`/wp-json/`): the site's name, description and namespaces; no key needed."""
        root = self.rest_root
        retrying = platform_retrying(
            attempts=self._max_attempts, sleep=self._sleep, jitter=self._jitter,
            base=self._backoff_base, cap=self._backoff_cap, log=log, what=f"woocommerce {self._host}",
        )

        def attempt() -> requests.Response:
            try:
                started = self._monotonic()
                response = self._session.get(root, timeout=self._timeout, allow_redirects=False, stream=True)
                self._read(response, started)
            except requests.Timeout:
                raise TransportError(f"{self._host}: GET /wp-json/ timed out after {self._timeout:g} s") from None
            except requests.RequestException as error:
                raise TransportError(f"{self._host}: cannot connect ({type(error).__name__})") from None
            if 200 <= response.status_code < 300:
                return response
            raise _error_for(response, "GET", "/wp-json/", self._host)

        return _json(retrying(attempt), self._host)

    # Internals --------------------------------------------------------------------------------

    def _attempt(self, method: str, base: str, path: str, params: Params, json_body: Any) -> requests.Response:
        url = base + path.lstrip("/")
        query = _encode_params(params)
        auth: tuple[str, str] | None = None
        if self._use_oauth:
            signed = oauth1.sign(
                method, url, dict(query), self._key, self._secret, nonce=self._nonce(), timestamp=int(self._clock())
            )
            query.extend(signed.items())
        elif self._query_string_auth:
            query.extend([("consumer_key", self._key), ("consumer_secret", self._secret)])
        else:
            auth = (self._key, self._secret)
        try:
            started = self._monotonic()
            response = self._session.request(
                method,
                url,
                params=query,
                json=json_body,
                auth=auth,
                timeout=self._timeout,
                allow_redirects=False,
                stream=True,
            )
            self._read(response, started)
        except requests.Timeout:
            raise TransportError(f"{self._host}: {method} {path} timed out after {self._timeout:g} s") from None
        except requests.ConnectionError as error:
            # requests' own message holds the full URL, query credentials included: never pass it on.
            raise TransportError(f"{self._host}: cannot connect ({type(error).__name__})") from None
        except requests.RequestException as error:
            raise TransportError(f"{self._host}: request failed ({type(error).__name__})") from None
        log.debug("%s %s%s -> %s", method, self._host, urlsplit(url).path, response.status_code)
        if 200 <= response.status_code < 300:
            return response
        raise _error_for(response, method, path, self._host)

    def _read(self, response: requests.Response, started: float) -> None:
        """The whole answer, within MAX_RESPONSE_BYTES and the client's overall deadline."""
        read_body(response, max_bytes=MAX_RESPONSE_BYTES, deadline=started + self._deadline, clock=self._monotonic,
                  what=self._host)


def _encode_params(params: Params) -> list[tuple[str, str]]:
    """Query pairs as PHP will read them: lists joined by commas (PHP keeps only the last repeated key)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            text = ",".join(str(item) for item in value)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        pairs.append((key, text))
    return pairs


def _int_header(response: requests.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


def _json(response: requests.Response, host: str) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return boundedjson.loads(response.content, source=host)
    except InputError:
        raise PlatformError(
            f"{host}: answered {response.status_code} without JSON; check the store URL and that "
            "WordPress permalinks are not 'Plain'",
            status=response.status_code,
        ) from None


def _error_for(response: requests.Response, method: str, path: str, host: str) -> PlatformError:
    """Map an error answer to the connector's error tree, by WooCommerce `code`, never by message."""
    status = response.status_code
    code, message, params = _error_body(response)
    where = f"{host}: {method} {path}"
    said = f" ({code}: {message})" if code else ""
    if 300 <= status < 400:
        target = urlsplit(response.headers.get("Location", "")).netloc or "another address"
        return PlatformError(
            f"{where} was redirected to {target}; use the store's final https:// address", status=status
        )
    if status in (401, 403):
        if code in _CREDENTIAL_CODES:
            hint = "the store rejected the API key: check the consumer key and secret"
            if method != "GET":
                hint += " (or the key has read-only permission and needs read_write)"
        elif status == 401:
            hint = (
                "the request ran without a recognised key: the consumer key is unknown, or the host "
                "strips the Authorization header (try query-string authentication)"
            )
        else:
            hint = "the API key works but lacks permission for this (needs read_write and a shop manager user)"
        return AuthError(f"{where}: {hint}{said}", status=status, code=code)
    if status == 404:
        return NotFoundError(f"{where}: not found{said}", status=status, code=code)
    if status == 429:
        return ThrottledError(f"{where}: rate limited{said}", retry_after=_retry_after(response), status=status)
    if status >= 500:
        return TransportError(f"{where}: server error {status}{said}", status=status, code=code)
    messages = [f"{where}: {message or f'refused with status {status}'}"]
    messages.extend(f"{name}: {reason}" for name, reason in params.items())
    return UserError(messages, status=status, code=code)


def _error_body(response: requests.Response) -> tuple[str | None, str, dict[str, str]]:
    try:
        data = boundedjson.loads(response.content, source="error body")
    except InputError:
        return None, "", {}
    if not isinstance(data, dict):
        return None, "", {}
    code = data.get("code") if isinstance(data.get("code"), str) else None
    message = _strip_tags(str(data.get("message") or ""))
    details = data.get("data")
    raw_params = details.get("params") if isinstance(details, dict) else None
    if not isinstance(raw_params, dict):
        raw_params = {}
    return code, message, {str(key): _strip_tags(str(value)) for key, value in raw_params.items()}


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text).strip()


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class _RedactCredentials(logging.Filter):
    """urllib3 logs request lines with their query string at DEBUG; hide query-string credentials."""

    _pattern = re.compile(r"(consumer_secret|consumer_key|oauth_signature)=[^&\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = self._redact(record.msg)
        return True

    def _redact(self, text: str) -> str:
        return self._pattern.sub(r"\1=[redacted]", text)


_urllib3_log = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(existing, _RedactCredentials) for existing in _urllib3_log.filters):
    _urllib3_log.addFilter(_RedactCredentials())
