"""Renewing a shop's expiring access token under a per-shop lock, so processes refreshing at once rotate it once.

Shopify replaces the refresh token on every use: two processes refreshing with the same stored token race,
and the loser holds a retired one. So a renewal locks the shop's row (`SELECT ... FOR UPDATE` on
PostgreSQL; on SQLite every write transaction takes the database's write lock at BEGIN), reads the stored
pair again inside the lock, and either uses what another process stored meanwhile or refreshes and
stores the new pair in that same transaction. A refresh the store refuses is followed by one more look at
the stored pair: when it has changed since (another process, a reinstall), that one is used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from connector.crypto import SecretBox
from connector.errors import AuthError
from connector.platforms.base import TokenSet
from connector.store.db import Database
from connector.store.models import Shop
from connector.store.repo import save_credentials

log = logging.getLogger(__name__)

# A stored token with less than this left is renewed rather than reused (the client asks five minutes early).
STILL_GOOD = timedelta(minutes=5)
Refresher = Callable[[str], TokenSet]


def _pair(box: SecretBox, sealed: str | None, expires_at: datetime | None, scope: object) -> TokenSet | None:
    secret = box.open(sealed)
    token = secret.get("access_token")
    if not isinstance(token, str) or not token:
        return None
    return TokenSet(access_token=token, scope=str(scope or ""), expires_at=expires_at,
                    refresh_token=secret.get("refresh_token"))


def _stored(shop: Shop, box: SecretBox) -> TokenSet | None:
    return _pair(box, shop.credentials, shop.token_expires_at, shop.setting("granted_scopes", ""))


def _read(db: Database, box: SecretBox, shop_id: int) -> TokenSet | None:
    """The stored pair as it is now, read without taking any lock."""
    with db.reading() as connection:
        row = connection.execute(select(Shop.credentials, Shop.token_expires_at, Shop.settings)
                                 .where(Shop.id == shop_id)).first()
    if row is None:
        return None
    return _pair(box, row[0], row[1], (row[2] or {}).get("granted_scopes", ""))


def _good(tokens: TokenSet | None, now: datetime) -> bool:
    return tokens is not None and (tokens.expires_at is None or tokens.expires_at - STILL_GOOD > now)


def renew_token(db: Database, box: SecretBox, shop_id: int, held: str | None, refresh: Refresher, *,
                now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> TokenSet:
    """The token pair the shop's client should use now, instead of `held` (which is due to expire)."""
    refused: str | None = None
    with db.session() as session:
        query = select(Shop).where(Shop.id == shop_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        shop = session.scalar(query)  # on SQLite this transaction already holds the write lock
        if shop is None:
            raise AuthError(f"shop {shop_id} is gone; its token cannot be renewed")
        stored = _stored(shop, box)
        if stored is not None and stored.access_token != held and _good(stored, now()):
            log.info("shop %s: using the access token another process renewed", shop_id)
            return stored
        if stored is None or not stored.refresh_token:
            raise AuthError(f"{shop.domain}: the access token has expired and there is no refresh token; "
                            "reinstall the app")
        try:
            fresh = refresh(stored.refresh_token)
        except AuthError:
            refused = stored.access_token
        else:
            # The new pair replaces the old one in this transaction: both or neither.
            save_credentials(shop, box, access_token=fresh.access_token,
                             refresh_token=fresh.refresh_token or stored.refresh_token)
            shop.token_expires_at = fresh.expires_at
            if fresh.scope:
                shop.set_setting("granted_scopes", fresh.scope)
            log.info("shop %s: access token refreshed", shop_id)
            return fresh
    # Refused: out of the lock, see whether the stored pair changed meanwhile (a writer that took no lock).
    again = _read(db, box, shop_id)
    if again is not None and again.access_token not in (refused, held) and _good(again, now()):
        log.info("shop %s: refresh refused, using the token stored meanwhile", shop_id)
        return again
    raise AuthError(f"shop {shop_id}: the store refused the refresh token; reinstall the app")
