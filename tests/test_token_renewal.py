"""Renewing a shop's token under its lock: reuse what another process stored, else refresh and store the new
pair in the same transaction; a refused refresh is an AuthError unless the stored pair changed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connector.errors import AuthError
from connector.platforms.shopify.oauth import TokenSet
from connector.services import Services
from connector.store.credentials import renew_token
from connector.store.models import Shop, utcnow
from connector.store.repo import save_credentials


def add_shop(services: Services, access: str, refresh: str | None, expires_in: timedelta) -> int:
    with services.db.session() as session:
        shop = Shop(platform="shopify", domain="renew.myshopify.com", name="r", settings={})
        save_credentials(shop, services.box, access_token=access, refresh_token=refresh)
        shop.token_expires_at = utcnow() + expires_in
        session.add(shop)
        session.flush()
        return shop.id


def stored(services: Services, shop_id: int) -> tuple[dict[str, str], Shop]:
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        return services.box.open(shop.credentials), shop


def test_a_token_another_process_stored_is_used_without_refreshing(services: Services) -> None:
    shop_id = add_shop(services, "shpat_new", "shprt_new", timedelta(minutes=59))

    def refresh(_token: str) -> TokenSet:
        raise AssertionError("no refresh: the stored token is fresh")

    tokens = renew_token(services.db, services.box, shop_id, "shpat_old", refresh)
    assert (tokens.access_token, tokens.refresh_token) == ("shpat_new", "shprt_new")


def test_a_due_token_is_refreshed_and_the_new_pair_stored(services: Services) -> None:
    shop_id = add_shop(services, "shpat_1", "shprt_1", timedelta(minutes=2))
    used: list[str] = []

    def refresh(token: str) -> TokenSet:
        used.append(token)
        return TokenSet("shpat_2", "write_orders,read_all_orders", utcnow() + timedelta(hours=1), "shprt_2")

    tokens = renew_token(services.db, services.box, shop_id, "shpat_1", refresh)
    assert used == ["shprt_1"] and tokens.access_token == "shpat_2"
    credentials, shop = stored(services, shop_id)
    assert credentials == {"access_token": "shpat_2", "refresh_token": "shprt_2"}
    assert shop.token_expires_at is not None and shop.token_expires_at > utcnow() + timedelta(minutes=55)
    assert shop.settings["granted_scopes"] == "write_orders,read_all_orders"


def test_a_refused_refresh_with_nothing_changed_is_an_auth_error(services: Services) -> None:
    shop_id = add_shop(services, "shpat_1", "shprt_retired", timedelta(minutes=2))

    def refresh(_token: str) -> TokenSet:
        raise AuthError("renew.myshopify.com refused the refresh token (HTTP 400)", status=400)

    with pytest.raises(AuthError, match="refused the refresh token"):
        renew_token(services.db, services.box, shop_id, "shpat_1", refresh)
    assert stored(services, shop_id)[0] == {"access_token": "shpat_1", "refresh_token": "shprt_retired"}


def test_no_refresh_token_is_an_auth_error_that_says_to_reinstall(services: Services) -> None:
    shop_id = add_shop(services, "shpat_1", None, timedelta(minutes=2))
    with pytest.raises(AuthError, match="reinstall"):
        renew_token(services.db, services.box, shop_id, "shpat_1", lambda _token: TokenSet("x", ""))


def test_a_refused_refresh_uses_the_pair_another_process_stored_meanwhile(services: Services,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.store import credentials

    shop_id = add_shop(services, "shpat_1", "shprt_1", timedelta(minutes=2))
    real_read = credentials._read

    def replaced_meanwhile(db: object, box: object, shop: int) -> TokenSet | None:
        # after the refusal, out of the lock: a process that took no lock has stored a new pair
        with services.db.session() as session:
            other = session.get(Shop, shop_id)
            assert other is not None
            save_credentials(other, services.box, access_token="shpat_other", refresh_token="shprt_other")
            other.token_expires_at = utcnow() + timedelta(hours=1)
        return real_read(services.db, services.box, shop)

    monkeypatch.setattr(credentials, "_read", replaced_meanwhile)

    def refresh(_token: str) -> TokenSet:
        raise AuthError("refresh token retired", status=400)

    tokens = renew_token(services.db, services.box, shop_id, "shpat_1", refresh)
    assert (tokens.access_token, tokens.refresh_token) == ("shpat_other", "shprt_other")
