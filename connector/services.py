"""The services a command, worker or web request needs, built once from settings: database, secrets, platforms."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING

from connector import outbound
from connector.crypto import SecretBox
from connector.engine import Policy
from connector.platforms import connect
from connector.platforms.base import Platform
from connector.settings import Settings, get_settings
from connector.store.db import Database, ensure_schema
from connector.store.models import Shop, utcnow
from connector.store.repo import shop_access

if TYPE_CHECKING:
    from connector.pipeline.intake import DeliveryWriter

_INTAKE_GUARD = threading.Lock()
PlatformFactory = Callable[["Services", Shop], Platform]


def _connect_shop(services: "Services", shop: Shop) -> Platform:
    """The platform for `shop`, wired to the database: a token renewer that locks the shop, and a store for
    staging bulk exports (platforms that have neither ignore them)."""
    settings = services.settings
    from connector.platforms.shopify.oauth import TokenSet, refresh_token
    from connector.platforms.shopify.scopes import requested_scopes
    from connector.store.credentials import renew_token
    from connector.store.exports import DatabaseExportStore

    shop_id, domain, api_url = shop.id, shop.domain, shop.api_url
    access = shop_access(shop, services.box, api_version=settings.shopify_api_version,
                         required_scopes=requested_scopes(settings.shopify_scopes,
                                                          read_all_orders=settings.shopify_read_all_orders))
    renewer = None
    if settings.shopify_api_key and settings.shopify_api_secret:
        api_key, secret = settings.shopify_api_key, settings.shopify_api_secret

        def refresh(current_refresh_token: str) -> TokenSet:
            return refresh_token(domain, current_refresh_token, api_key, secret, base_url=api_url)

        def renewer(held: str | None) -> TokenSet:
            # Under the shop's lock, the stored pair read again: one rotation however many processes ask.
            return renew_token(services.db, services.box, shop_id, held, refresh)

    return connect(access, token_renewer=renewer, exports=DatabaseExportStore(services.db, shop_id))


class Services:
    """Lazily built shared services; tests pass their own settings or platform factory."""

    # Concurrent requests the web server runs per process (`connector serve --threads`): the webhook
    # intake keeps this many database connections.
    web_threads = 4

    def __init__(self, settings: Settings | None = None, *, platform_factory: PlatformFactory | None = None,
                 on_new_database: Callable[[str], None] | None = None,
                 today: Callable[[], date] | None = None, migrate: bool = False) -> None:
        self.settings = settings or get_settings()
        outbound.configure(allow_loopback=self.settings.outbound_allow_loopback)
        # The shop's day as pages count deadlines from it (tests and the demo pass their own clock).
        self.today: Callable[[], date] = today or (lambda: utcnow().date())
        self._platform_factory = platform_factory or _connect_shop
        self._on_new_database = on_new_database
        self._migrate = migrate

    @cached_property
    def db(self) -> Database:
        """The database, which must be at this version's migration unless these services were built with
        `migrate=True` or `upgrade_database()` ran first (see connector.store.db)."""
        sqlite = self.settings.sqlite_path
        created = sqlite is not None and not sqlite.exists()
        database = Database(self.settings.database_url, migrate=self._migrate)
        if created and self._on_new_database is not None:
            self._on_new_database(self.settings.database_label)
        return database

    def upgrade_database(self) -> Database:
        """Apply the migrations not yet applied, then open the database: for the entry points that
        document they migrate (`db upgrade`, `serve`, `worker`, `demo`), never for a read."""
        if "db" in self.__dict__:
            ensure_schema(self.db.engine)
            return self.db
        self._migrate = True
        return self.db

    @cached_property
    def intake(self) -> "DeliveryWriter":
        """Stores webhook deliveries: one statement each, committed before it returns."""
        from connector.pipeline.intake import open_writer

        with _INTAKE_GUARD:  # the first requests of a worker arrive together: open one writer, not several
            if "intake" in self.__dict__:
                return self.__dict__["intake"]
            return open_writer(self.db, threads=self.web_threads, group_commit=self.settings.intake_group_commit)

    @cached_property
    def box(self) -> SecretBox:
        return SecretBox(self.settings.connector_secret_key, self.settings.connector_secret_key_previous)

    @property
    def box_if_configured(self) -> SecretBox | None:
        """The box when CONNECTOR_SECRET_KEY is set, else None (for work that needs it only sometimes)."""
        return self.box if self.settings.connector_secret_key else None

    @property
    def policy(self) -> Policy:
        return Policy(
            handling_days=self.settings.handling_days,
            default_lead_time_days=self.settings.default_lead_time_days,
            eta_confidence=self.settings.eta_confidence,
            learn_lateness=self.settings.learn_lateness,
        )

    def platform_for(self, shop: Shop) -> Platform:
        return self._platform_factory(self, shop)

    def close(self) -> None:
        if "intake" in self.__dict__:
            self.intake.close()
        if "db" in self.__dict__:
            self.db.dispose()


SERVICES_KEY = "connector.services"  # where a Flask app built around Services keeps them (app.extensions)


def current_services() -> Services:
    """The Services of the Flask app handling the current request (the web app and the webhook intake)."""
    from flask import current_app

    services: Services = current_app.extensions[SERVICES_KEY]
    return services
