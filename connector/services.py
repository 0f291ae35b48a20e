"""The services a command, worker or web request needs, built once from settings: database, secrets, platforms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property

from connector.crypto import SecretBox
from connector.engine import Policy
from connector.platforms import connect
from connector.platforms.base import Platform
from connector.settings import Settings, get_settings
from connector.store.db import Database
from connector.store.models import Shop
from connector.store.repo import save_credentials, shop_access

PlatformFactory = Callable[["Services", Shop], Platform]


def _connect_shop(services: "Services", shop: Shop) -> Platform:
    shop_id = shop.id

    def save_token(access_token: str, refresh_token: str | None, expires_at: datetime | None) -> None:
        # A refreshed pair replaces the old one in one transaction: both or neither.
        with services.db.session() as session:
            stored = session.get(Shop, shop_id)
            if stored is None:
                return
            save_credentials(stored, services.box, access_token=access_token, refresh_token=refresh_token)
            stored.token_expires_at = expires_at

    settings = services.settings
    access = shop_access(shop, services.box, api_version=settings.shopify_api_version)
    app = (settings.shopify_api_key, settings.shopify_api_secret) if settings.shopify_api_key and settings.shopify_api_secret else None
    return connect(access, on_token_refresh=save_token, shopify_app=app)


class Services:
    """Lazily built shared services; tests pass their own settings or platform factory."""

    def __init__(self, settings: Settings | None = None, *, platform_factory: PlatformFactory | None = None,
                 on_new_database: Callable[[str], None] | None = None) -> None:
        self.settings = settings or get_settings()
        self._platform_factory = platform_factory or _connect_shop
        self._on_new_database = on_new_database

    @cached_property
    def db(self) -> Database:
        sqlite = self.settings.sqlite_path
        created = sqlite is not None and not sqlite.exists()
        database = Database(self.settings.database_url)
        if created and self._on_new_database is not None:
            self._on_new_database(self.settings.database_label)
        return database

    @cached_property
    def box(self) -> SecretBox:
        return SecretBox(self.settings.connector_secret_key)

    @property
    def policy(self) -> Policy:
        return Policy(
            handling_days=self.settings.handling_days,
            default_lead_time_days=self.settings.default_lead_time_days,
        )

    def platform_for(self, shop: Shop) -> Platform:
        return self._platform_factory(self, shop)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
