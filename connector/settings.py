"""Runtime settings, read from the environment and `.env`; a bad value is one clear line naming it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connector.errors import ConfigError
from connector.platforms.shopify.scopes import DEFAULT_SCOPES

DEFAULT_DATABASE_URL = "sqlite:///data/connector.db"


class Settings(BaseSettings):
    """Every setting the connector reads; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False)

    database_url: str = DEFAULT_DATABASE_URL
    data_dir: Path = Path("data")
    app_url: str = "http://127.0.0.1:8000"
    connector_secret_key: str | None = Field(default=None, repr=False)
    log_level: str = "INFO"

    shopify_api_key: str | None = None
    shopify_api_secret: str | None = Field(default=None, repr=False)
    shopify_api_secret_previous: str | None = Field(default=None, repr=False)
    shopify_api_version: str = "2026-10"
    shopify_scopes: str = DEFAULT_SCOPES
    # Ask for read_all_orders too (orders older than 60 days); Shopify must approve it for a public app.
    shopify_read_all_orders: bool = True
    # True once shopify.app.toml's webhook subscriptions are deployed (app-specific): the connector then
    # makes no per-shop subscriptions of its own (Shopify would deliver every event twice) and removes its old ones.
    shopify_app_webhooks: bool = False
    # Sandbox/demo only: lets `/auth/shopify?api_url=` point the install at a store on this machine.
    allow_loopback_api_url: bool = False

    woocommerce_app_name: str = "Backorder Connector"

    smtp_url: str | None = Field(default=None, repr=False)
    mail_from: str | None = None
    templates_dir: Path | None = None

    admin_password: str | None = Field(default=None, repr=False)
    max_body_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    # Webhook deliveries may be larger (an order with hundreds of lines); one over this is answered 413 and
    # recorded without its body, and the order is fetched by the next sync.
    webhook_max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    proxy_count: int = Field(default=0, ge=0, le=5)

    handling_days: int = Field(default=1, ge=0, le=365)
    default_lead_time_days: int = Field(default=7, ge=0, le=365)
    eta_improvement_days: int = Field(default=3, ge=0, le=365)

    sync_interval_minutes: int = Field(default=10, ge=1)
    full_sync_hours: int = Field(default=24, ge=1)
    feed_refresh_minutes: int = Field(default=60, ge=1)
    worker_max_attempts: int = Field(default=8, ge=1, le=100)
    worker_poll_seconds: float = Field(default=1.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        if value.startswith("postgresql:"):
            value = "postgresql+psycopg:" + value[len("postgresql:") :]
        return value

    @field_validator("app_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def shopify_secrets(self) -> list[str]:
        """Current secret first, then the previous one while a rotation is under way."""
        return [s for s in (self.shopify_api_secret, self.shopify_api_secret_previous) if s]

    def require(self, name: str) -> str:
        """The value of an optional setting that this particular command cannot do without."""
        value = getattr(self, name)
        if not value:
            raise ConfigError(name.upper(), "is required for this command but is not set")
        return str(value)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, `.env` and `overrides`; raises ConfigError naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first.get("loc") else "settings"
        raise ConfigError(name, first["msg"].removeprefix("Value error, ")) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()
