"""Shop health in the operator's words: why a store call failed, what to do, and the record the banners read.

`explain` turns any error from talking to a store into a reason and a hint, by the error's kind and
HTTP status, never by parsing API operation names (an operator does not care which GraphQL query
was running). `record_sync` keeps on the shop row when the last good sync was and, while the latest
one failed, why; the dashboard's banner and `connector shops list` read it from there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    InputError,
    NotFoundError,
    PlatformError,
    ThrottledError,
    TransportError,
    UserError,
)
from connector.store.models import Shop, utcnow

_SCOPE = re.compile(r"`((?:unauthenticated_)?(?:read|write)_[a-z_]+)`")
# The kind of connection failure a transport error ends with: "...: ConnectionError" or "(ConnectionError)".
_FAILURE_KIND = re.compile(r"[:(]\s*([A-Za-z]+(?:Error|Timeout))\)?\s*$")
_KIND_WORDS = {
    "ConnectionError": "the connection was refused or dropped",
    "ConnectTimeout": "the connection timed out",
    "ReadTimeout": "it stopped answering (timed out)",
    "Timeout": "it timed out",
    "SSLError": "its TLS certificate could not be verified",
    "TooManyRedirects": "it redirected too many times",
}
RETRY_HINT = "the worker tries again every few minutes; `connector sync --shop {id}` tries now"


@dataclass(frozen=True, slots=True)
class Explanation:
    reason: str  # what went wrong, for a sentence: "the store could not be reached (...)"
    hint: str  # what the operator can do about it


def explain(error: BaseException, shop_id: int | None = None) -> Explanation:
    """The reason and the remedy for a failed sync (or credentials check), in plain words."""
    again = RETRY_HINT.format(id=shop_id if shop_id is not None else "ID")
    status = getattr(error, "status", None)
    if isinstance(error, AuthError):
        scope = _SCOPE.search(str(error))
        if scope:
            return Explanation(f"the app lacks the {scope.group(1)} permission (access scope)",
                               "grant it: reinstall the app (public app) or add the scope to the custom app's token")
        said = f" (HTTP {status})" if status else ""
        return Explanation(f"the store refused the connector's credentials{said}",
                           "replace them: reinstall the app, or `connector shops add ...` again with a valid token or "
                           "key; the shop is synced again once they work")
    if isinstance(error, ThrottledError):
        return Explanation("the store kept refusing requests for its rate limit", again)
    if isinstance(error, TransportError):
        if status:
            return Explanation(f"the store answered with a server error (HTTP {status})",
                               f"the store may be down or overloaded; {again}")
        found = _FAILURE_KIND.search(str(error))
        kind = _KIND_WORDS.get(found.group(1), found.group(1)) if found else "no answer"
        if not found and "timed out" in str(error):
            kind = "it timed out"
        return Explanation(f"the store could not be reached ({kind})",
                           f"check that the store is online and its address is right; {again}")
    if isinstance(error, NotFoundError):
        return Explanation("the store's API was not found at its address (HTTP 404)",
                           "check the shop's domain or API URL (`connector shops list`); WooCommerce needs pretty "
                           "permalinks")
    if isinstance(error, UserError):
        return Explanation(f"the store refused a request: {'; '.join(error.messages)[:300]}",
                           "this is not fixed by retrying; check the store's settings, or report it with the worker log")
    if isinstance(error, PlatformError):
        said = f" (HTTP {status})" if status else ""
        return Explanation(f"the store's answer could not be used{said}", again)
    if isinstance(error, (ConfigError, InputError)):
        return Explanation(str(error), "fix the setting or the shop's record, then sync again")
    if isinstance(error, ConnectorError):
        return Explanation(str(error), again)
    return Explanation(f"an unexpected error ({type(error).__name__})",
                       "the worker log (`connector -v sync ...`) has the details; please report it")


def record_sync(session: Session, shop_id: int, *, ok: bool, explanation: Explanation | None = None,
                at: datetime | None = None) -> None:
    """Store the outcome of a sync on the shop: a good one clears the failure, a failed one keeps the last good time."""
    shop = session.get(Shop, shop_id)
    if shop is None:
        return
    moment = at or utcnow()
    if ok:
        shop.sync_ok_at = moment
        shop.sync_failed_at = shop.sync_error = shop.sync_hint = None
        return
    assert explanation is not None
    shop.sync_failed_at = moment
    shop.sync_error = explanation.reason[:2000]
    shop.sync_hint = explanation.hint[:2000]


@dataclass(frozen=True, slots=True)
class ShopAlert:
    """One shop the dashboard warns about: its sync is failing."""

    shop_id: int
    label: str
    platform: str
    failed_at: datetime
    reason: str
    hint: str
    last_good: datetime | None


def failing_shops(session: Session, shop_ids: list[int]) -> list[ShopAlert]:
    """The shops among `shop_ids` whose latest sync failed, with why and since when."""
    if not shop_ids:
        return []
    rows = session.scalars(
        select(Shop).where(Shop.id.in_(shop_ids), Shop.sync_failed_at.is_not(None), Shop.active.is_(True))
        .order_by(Shop.id)
    )
    return [
        ShopAlert(shop.id, shop.label, shop.platform, shop.sync_failed_at, shop.sync_error or "the sync failed",
                  shop.sync_hint or "", shop.sync_ok_at)
        for shop in rows
        if shop.sync_failed_at is not None
    ]
