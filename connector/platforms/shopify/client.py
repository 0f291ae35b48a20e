"""Shopify Admin GraphQL client: paces by the cost bucket, retries what is worth retrying, maps errors."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from connector import boundedjson
from connector.errors import (
    AuthError,
    InputError,
    NotFoundError,
    PlatformError,
    ThrottledError,
    TransportError,
    UserError,
)
from connector.outbound import current_policy, guarded_session
from connector.platforms.base import ShopAccess, TokenSaver
from connector.platforms.retrying import Jitter, platform_retrying, spread_jitter

from .addresses import is_loopback_host, shop_base_url
from .cost import operation_name, requested_cost
from .oauth import TokenRefresher, TokenSet

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "2026-10"
TIMEOUT_SECONDS = 30.0
REFRESH_MARGIN = timedelta(minutes=5)
BACKOFF_BASE_SECONDS = 1.0  # Shopify recommends waiting a second before retrying
BACKOFF_CAP_SECONDS = 60.0
THROTTLE_ROUNDING_POINTS = 1.0
SCOPE_PATTERN = re.compile(r"\b(?:unauthenticated_)?(?:read|write)_[a-z_]+\b")
# Fields Shopify withholds from an app without protected customer data approval (name, email, phone,
# address); an ACCESS_DENIED error under one of them leaves the rest of the answer valid.
PROTECTED_FIELDS = frozenset({
    "customer", "email", "phone", "firstName", "lastName", "displayName", "defaultEmailAddress",
    "defaultPhoneNumber", "defaultAddress", "addresses", "billingAddress", "shippingAddress", "displayAddress",
})

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Answer:
    """A query's `data`, and the paths of protected customer fields Shopify withheld (null in `data`)."""

    data: dict[str, Any]
    withheld: tuple[Path, ...] = ()

    def withheld_under(self, *prefix: str | int) -> set[Path]:
        """The withheld paths below `prefix`, with the prefix taken off."""
        size = len(prefix)
        return {path[size:] for path in self.withheld if path[:size] == prefix}



@dataclass(slots=True)
class ThrottleStatus:
    """The cost bucket as Shopify last reported it, and when (on the client's monotonic clock)."""

    available: float
    restore_rate: float
    maximum: float
    seen_at: float

    def available_at(self, now: float) -> float:
        return min(self.maximum, self.available + self.restore_rate * max(0.0, now - self.seen_at))



TokenRenewer = Callable[[str | None], TokenSet]
"""Given the access token a client holds (due to expire), the pair to use now: one it refreshed, or one
another process refreshed and stored meanwhile. `connector.store.credentials` renews under a per-shop lock."""


class ShopifyClient:
    """One shop's Admin GraphQL endpoint. Not thread-safe: use one client per worker thread.

    An expiring token is renewed through `token_renewer` (or, without one, `token_refresher` and
    `on_token_refresh`, which cannot coordinate with other processes) five minutes before it expires.
    """

    def __init__(
        self,
        access: ShopAccess,
        *,
        session: requests.Session | None = None,
        api_version: str = DEFAULT_API_VERSION,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_attempts: int = 6,
        on_token_refresh: TokenSaver | None = None,
        token_refresher: TokenRefresher | None = None,
        token_renewer: TokenRenewer | None = None,
        jitter: Jitter = spread_jitter,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.domain = access.domain
        self.timeout = timeout
        self.base_url = shop_base_url(access.domain, access.api_url)  # raises before any request
        self.api_version = access.api_version or api_version
        self.endpoint = f"{self.base_url}/admin/api/{self.api_version}/graphql.json"
        self._token = access.access_token
        self._refresh_token = access.refresh_token
        self._expires_at = access.token_expires_at
        self._owns_session = session is None
        self.session = session or guarded_session(current_policy())
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._now = now
        self.max_attempts = max(1, max_attempts)
        self._on_token_refresh = on_token_refresh
        self._token_refresher = token_refresher
        self._token_renewer = token_renewer
        self.throttle: ThrottleStatus | None = None
        self._observed_cost: dict[str, float] = {}

    @property
    def sleep(self) -> Callable[[float], None]:
        """The sleep this client waits with (injected in tests); pollers built on it reuse it."""
        return self._sleep

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    def __repr__(self) -> str:
        return f"ShopifyClient({self.domain!r}, api_version={self.api_version!r})"

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    # -- public calls -------------------------------------------------------------------------

    def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run one query or mutation and return its `data`; raises a PlatformError subclass otherwise."""
        return self._retrying()(self._attempt, document, dict(variables or {}), False).data

    def read(self, document: str, variables: Mapping[str, Any] | None = None) -> Answer:
        """Run a query whose answer is still worth having when Shopify withholds protected customer fields:
        when every error is ACCESS_DENIED under such a field, the data comes back with those paths.
        Any other error raises as in `execute`."""
        answer: Answer = self._retrying()(self._attempt, document, dict(variables or {}), True)
        return answer

    def _retrying(self) -> Any:
        return platform_retrying(
            attempts=self.max_attempts, sleep=self._sleep, jitter=self._jitter, base=BACKOFF_BASE_SECONDS,
            cap=BACKOFF_CAP_SECONDS, log=log, what=f"shopify {self.domain}",
        )

    def mutate(self, document: str, variables: Mapping[str, Any], payload_key: str) -> dict[str, Any]:
        """Run a mutation and return its payload; its `userErrors` become one UserError."""
        data = self.execute(document, variables)
        payload = data.get(payload_key)
        if not isinstance(payload, dict):
            raise UserError([f"{payload_key} returned no payload"])
        errors = payload.get("userErrors") or []
        if errors:
            raise UserError([_user_error_text(error) for error in errors],
                            code=next((e.get("code") for e in errors if e.get("code")), None))
        return payload

    def stream_lines(self, url: str) -> requests.Response:
        """GET a result file (bulk JSONL) streamed; it lives on Shopify's storage, so no token is sent."""
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_host(parts.hostname)):
            raise PlatformError(f"{self.domain}: result file address is not https")
        try:
            response = self.session.get(url, stream=True, timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransportError(f"could not download a result file for {self.domain}: {type(exc).__name__}") from None
        if response.status_code != 200:
            response.close()
            raise TransportError(f"result file for {self.domain} answered HTTP {response.status_code}",
                                 status=response.status_code)
        return response

    # -- one attempt --------------------------------------------------------------------------

    def _attempt(self, document: str, variables: dict[str, Any], partial: bool) -> Answer:
        self._refresh_if_due()
        name = operation_name(document)
        self._pace(document, variables)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._token:
            headers["X-Shopify-Access-Token"] = self._token
        try:
            response = self.session.post(self.endpoint, json={"query": document, "variables": variables},
                                         headers=headers, timeout=self.timeout,
                                         allow_redirects=False)  # a redirect would carry the token elsewhere
        except requests.RequestException as exc:
            # the exception text is dropped: only its kind is kept, so nothing from the request leaks
            raise TransportError(f"could not reach {self.domain} ({name}): {type(exc).__name__}") from None
        body = _json_or_none(response)
        self._record_cost(document, body)
        self._raise_for_status(response, body, name)
        if not isinstance(body, dict):
            raise PlatformError(f"{self.domain} answered {name} with something that is not JSON",
                                status=response.status_code)
        data = body.get("data")
        withheld = _withheld_paths(body) if partial and isinstance(data, dict) else None
        if withheld is None:
            self._raise_for_errors(body, name, response.status_code)
        elif withheld:
            log.info("shopify %s %s: protected customer data withheld at %d places", self.domain, name, len(withheld))
        if not isinstance(data, dict):
            raise PlatformError(f"{self.domain} answered {name} without data", status=response.status_code)
        log.debug("shopify %s %s cost=%s", self.domain, name, _cost_summary(body))
        return Answer(data, tuple(withheld or ()))

    def _raise_for_status(self, response: requests.Response, body: Any, name: str) -> None:
        status = response.status_code
        if status == 200:
            return
        messages = _error_messages(body)
        if 300 <= status < 400:
            raise PlatformError(f"{self.domain} answered {name} with a redirect (HTTP {status}); not followed",
                                status=status)
        if status == 401:
            said = f": {'; '.join(messages)}" if messages else ""
            raise AuthError(f"{self.domain}: the access token was refused (HTTP 401{said}); reinstall the app or "
                            "replace the token", status=status)
        if status == 403:
            scope = _missing_scope(messages)
            if scope:
                raise AuthError(f"{self.domain}: the app lacks the `{scope}` access scope (HTTP 403)",
                                status=status, code="ACCESS_DENIED")
            raise AuthError(f"{self.domain}: access denied (HTTP 403): {'; '.join(messages) or 'no reason given'}",
                            status=status, code="ACCESS_DENIED")
        if status in (429, 503) and (status == 429 or response.headers.get("Retry-After")):
            raise ThrottledError(f"{self.domain} throttled {name} (HTTP {status})",
                                 retry_after=self._throttle_wait(body) or _retry_after(response), status=status)
        if status >= 500:
            raise TransportError(f"{self.domain} answered {name} with HTTP {status}", status=status)
        if status == 404:
            raise NotFoundError(f"{self.domain}: no Admin API at this address or version "
                                f"{self.api_version} (HTTP 404)", status=status)
        raise UserError(messages or [f"{self.domain} answered {name} with HTTP {status}"], status=status)

    def _raise_for_errors(self, body: dict[str, Any], name: str, status: int) -> None:
        errors = body.get("errors")
        if not errors:
            return
        if not isinstance(errors, list):
            raise UserError(_error_messages(body), status=status)
        codes = {str((error.get("extensions") or {}).get("code", "")) for error in errors if isinstance(error, dict)}
        messages = _error_messages(body)
        if "THROTTLED" in codes:
            raise ThrottledError(f"{self.domain} throttled {name}", retry_after=self._throttle_wait(body),
                                 status=status)
        if "ACCESS_DENIED" in codes:
            scope = _missing_scope(messages)
            what = f"the app lacks the `{scope}` access scope" if scope else "access denied"
            raise AuthError(f"{self.domain}: {what} ({name}): {'; '.join(messages)}", status=status,
                            code="ACCESS_DENIED")
        # MAX_COST_EXCEEDED lands here too: a page-size bug, which retrying cannot fix
        code = "MAX_COST_EXCEEDED" if "MAX_COST_EXCEEDED" in codes else next((c for c in codes if c), None)
        raise UserError(messages, status=status, code=code)

    # -- rate limit ---------------------------------------------------------------------------

    def _pace(self, document: str, variables: Mapping[str, Any]) -> None:
        """Wait until the bucket, as last reported plus what has refilled since, covers this request."""
        if self.throttle is None or self.throttle.restore_rate <= 0:
            return
        cost = self._expected_cost(document, variables)
        cost = min(cost, self.throttle.maximum)
        shortfall = cost - self.throttle.available_at(self._clock())
        if shortfall > 1e-6:  # ignore float dust from the refill arithmetic
            delay = shortfall / self.throttle.restore_rate
            log.debug("shopify %s pacing %.2fs for %s points", self.domain, delay, cost)
            self._sleep(delay)

    def _expected_cost(self, document: str, variables: Mapping[str, Any]) -> float:
        try:
            estimate = float(requested_cost(document, variables))
        except (ValueError, TypeError):
            estimate = 0.0
        return max(estimate, self._observed_cost.get(document, 0.0))

    def _record_cost(self, document: str, body: Any) -> None:
        cost = _cost_extension(body)
        if not cost:
            return
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, int | float):
            self._observed_cost[document] = float(requested)
        status = cost.get("throttleStatus")
        if isinstance(status, dict):
            try:
                self.throttle = ThrottleStatus(
                    available=float(status["currentlyAvailable"]),
                    restore_rate=float(status["restoreRate"]),
                    maximum=float(status["maximumAvailable"]),
                    seen_at=self._clock(),
                )
            except (KeyError, TypeError, ValueError):
                pass

    def _throttle_wait(self, body: Any) -> float | None:
        """(requested - available + one point of rounding) / restoreRate from a throttled answer, when it says so."""
        cost = _cost_extension(body)
        status = cost.get("throttleStatus") if cost else None
        try:
            requested = float(cost["requestedQueryCost"])  # type: ignore[index]
            available = float(status["currentlyAvailable"])  # type: ignore[index]
            rate = float(status["restoreRate"])  # type: ignore[index]
        except (KeyError, TypeError, ValueError):
            return None
        if rate <= 0:
            return None
        # currentlyAvailable is a whole number, rounded: the bucket may hold up to a point less than it
        # says, so waiting the bare shortfall can be throttled again (and again) by that fraction
        return (max(0.0, requested - available) + THROTTLE_ROUNDING_POINTS) / rate

    # -- tokens -------------------------------------------------------------------------------

    def _refresh_if_due(self) -> None:
        if self._expires_at is None or self._now() < self._expires_at - REFRESH_MARGIN:
            return
        if self._token_renewer is not None:
            fresh = self._token_renewer(self._token)
        elif self._token_refresher is not None and self._refresh_token:
            fresh = self._token_refresher(self._refresh_token)
            if self._on_token_refresh is not None:
                self._on_token_refresh(fresh.access_token, fresh.refresh_token, fresh.expires_at)
        else:
            if self._now() >= self._expires_at:
                raise AuthError(f"{self.domain}: the access token has expired and cannot be refreshed")
            return
        renewed = fresh.access_token != self._token
        self._token = fresh.access_token
        self._refresh_token = fresh.refresh_token or self._refresh_token
        self._expires_at = fresh.expires_at
        log.info("shopify %s: access token %s", self.domain, "renewed" if renewed else "kept")


def _withheld_paths(body: dict[str, Any]) -> list[Path] | None:
    """The paths of the answer's errors when every one is ACCESS_DENIED under a protected customer field
    (so the rest of `data` stands); None when there is any other error; [] when there is none."""
    errors = body.get("errors")
    if not errors:
        return []
    if not isinstance(errors, list):
        return None
    paths: list[Path] = []
    for error in errors:
        if not isinstance(error, dict) or (error.get("extensions") or {}).get("code") != "ACCESS_DENIED":
            return None
        path = error.get("path")
        if not isinstance(path, list) or not any(part in PROTECTED_FIELDS for part in path if isinstance(part, str)):
            return None
        paths.append(tuple(part for part in path if isinstance(part, str | int)))
    return paths


def _json_or_none(response: requests.Response) -> Any:
    try:
        return boundedjson.loads(response.content, source="Shopify answer")
    except InputError:
        return None


def _cost_extension(body: Any) -> dict[str, Any] | None:
    if not isinstance(body, dict):
        return None
    cost = (body.get("extensions") or {}).get("cost")
    return cost if isinstance(cost, dict) else None


def _cost_summary(body: dict[str, Any]) -> str:
    cost = _cost_extension(body) or {}
    return f"{cost.get('actualQueryCost')}/{cost.get('requestedQueryCost')}"


def _error_messages(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    errors = body.get("errors")
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, dict):
        return [f"{key}: {value}" for key, value in errors.items()]
    if isinstance(errors, list):
        return [str(error.get("message", error)) if isinstance(error, dict) else str(error) for error in errors]
    return []


def _missing_scope(messages: list[str]) -> str | None:
    for message in messages:
        found = SCOPE_PATTERN.search(message)
        if found:
            return found.group(0)
    return None


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _user_error_text(error: dict[str, Any]) -> str:
    message = str(error.get("message", "refused"))
    field = error.get("field")
    if isinstance(field, list) and field:
        return f"{'.'.join(str(part) for part in field)}: {message}"
    return message
