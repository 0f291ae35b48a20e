"""Runtime settings, read from the environment and `.env`; a bad value is one clear line naming it.

Where relative paths point: the *home* directory (CONNECTOR_HOME) is, unless set, the nearest
directory from the current one upwards that holds a `.env` file or this project's `pyproject.toml`
(else the current directory).
`.env` is read from there, and a relative `DATA_DIR` or SQLite path is taken from there, so running
`connector` from a subdirectory finds the same database instead of silently starting an empty one.
The default database is `DATA_DIR/connector.db`.
"""

from __future__ import annotations

import io
import os
from functools import lru_cache
from typing import Literal
from pathlib import Path

from dotenv.parser import parse_stream
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from connector.crypto import previous_key_problem, secret_key_problem
from connector.errors import ConfigError, SettingsFileError
from connector.platforms.shopify.scopes import DEFAULT_SCOPES

ENV_FILE = ".env"
PROJECT_NAME = 'name = "backorder-connector"'


def home_directory(start: Path | None = None) -> Path:
    """The nearest directory from `start` (default: the current one) upwards with a `.env` or this
    project's pyproject.toml; `start` itself when there is none."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ENV_FILE).is_file():
            return folder
        project = folder / "pyproject.toml"
        if project.is_file():
            try:
                if PROJECT_NAME in project.read_text(encoding="utf-8", errors="replace"):
                    return folder
            except OSError:
                continue
    return here


def check_env_file(path: Path) -> None:
    """Refuse a `.env` that is not UTF-8 or has a line that is not `KEY=VALUE`, naming the line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SettingsFileError(path, f"cannot be read ({error.strerror or error})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SettingsFileError(path, "is not UTF-8 text (save it as UTF-8)", line) from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise SettingsFileError(path, "is not KEY=VALUE (quote a value with spaces; # starts a comment)",
                                    binding.original.line)


def _anchored(path: Path, home: Path) -> Path:
    return path if path.is_absolute() else (home / path)


class Settings(BaseSettings):
    """Every setting the connector reads; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore",
                                      case_sensitive=False)

    # The directory relative paths and `.env` are taken from (default: see the module docstring).
    connector_home: Path = Field(default_factory=home_directory)
    database_url: str = ""  # empty: SQLite at DATA_DIR/connector.db
    data_dir: Path = Path("data")
    app_url: str = "http://127.0.0.1:8000"
    # A key of the format `connector secret-key` prints (connector.crypto); checked at startup.
    connector_secret_key: str | None = Field(default=None, repr=False)
    # While rotating: the key values were sealed with before (see README, "Rotating the secret key").
    connector_secret_key_previous: str | None = Field(default=None, repr=False)
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
    # Sandbox/demo/tests only: lets outbound calls (stores, feeds) reach this machine, over plain http too.
    # Private, link-local and other non-public addresses stay refused (connector.outbound).
    outbound_allow_loopback: bool = False

    woocommerce_app_name: str = "Backorder Connector"

    smtp_url: str | None = Field(default=None, repr=False)
    mail_from: str | None = None
    templates_dir: Path | None = None

    admin_password: str | None = Field(default=None, repr=False)
    max_body_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    # Webhook deliveries may be larger (an order with hundreds of lines); one over this is answered 413 and
    # recorded without its body, and the order is fetched by the next sync.
    webhook_max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    # On: webhook deliveries that arrive together are committed together (one statement, one commit,
    # each answered after it). Off (default): one autocommitted INSERT per delivery; bench/RESULTS.md
    # section 2 measures both.
    intake_group_commit: bool = False
    # A signed Shopify delivery triggered longer ago than this is answered 200 and not stored (a replay);
    # Shopify retries for up to 4 hours. See webhooks/freshness.py.
    webhook_max_age_minutes: int = Field(default=360, ge=5, le=7 * 24 * 60)
    proxy_count: int = Field(default=0, ge=0, le=5)

    handling_days: int = Field(default=1, ge=0, le=365)
    default_lead_time_days: int = Field(default=7, ge=0, le=365)
    eta_improvement_days: int = Field(default=3, ge=0, le=365)
    # Learned supplier lateness: ETAs are dated at this quantile of each supplier's lateness (0.8: four
    # promises in five are kept); LEARN_LATENESS=false dates them from the feed's word only.
    eta_confidence: float = Field(default=0.8, gt=0, lt=1)
    learn_lateness: bool = True
    # A sync that sees a SKU's stock rise while a promise of it is due counts that promise as received.
    infer_arrivals: bool = True

    sync_interval_minutes: int = Field(default=10, ge=1)
    full_sync_hours: int = Field(default=24, ge=1)
    feed_refresh_minutes: int = Field(default=60, ge=1)
    worker_max_attempts: int = Field(default=8, ge=1, le=100)
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    worker_heartbeat_seconds: float = Field(default=60.0, gt=0)

    # A feed losing more than this share of its rows or units since the previous import is refused.
    feed_max_shrink: float = Field(default=0.5, ge=0, le=1)
    # Largest feed file the dashboard accepts for upload (bigger ones: `connector feeds import`).
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    # The notice brake: a reconcile is held when it would send delay notices to more than this share of a
    # shop's waiting customers (from NOTICE_BRAKE_MIN notices on), or to more than NOTICE_BRAKE_MAX (0: no limit).
    notice_brake_share: float = Field(default=0.5, ge=0, le=1)
    notice_brake_min: int = Field(default=10, ge=1)
    notice_brake_max: int = Field(default=200, ge=0)
    # What a customer's cancel (or the mail-order rule's) does: refund and cancel at once (automatic),
    # wait for the merchant's Approve on the dashboard (approve), or only record it (off). A shop's own
    # `cancel_mode` setting wins.
    cancel_mode: Literal["automatic", "approve", "off"] = "approve"
    # Cancelled units go back to stock (Shopify restockType CANCEL, WooCommerce api_restock).
    restock_cancelled: bool = True
    # Send the in-stock part of a partly backordered order now (Shopify: split the fulfillment order and
    # hold only the backordered part; WooCommerce: an order note asking the merchant to ship it).
    ship_ready: bool = False
    # Reorder advice: the chance a SKU's stock lasts until the next order arrives, and the days of demand one order covers.
    service_level: float = Field(default=0.95, ge=0.5, le=0.9999)
    reorder_cover_days: int = Field(default=30, ge=1, le=365)

    @field_validator("connector_secret_key", "connector_secret_key_previous", mode="before")
    @classmethod
    def _secret_key(cls, value: object, info: ValidationInfo) -> object:
        """A malformed key raises ConfigError itself (not ValueError): pydantic's own error would quote it."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        name = (info.field_name or "").upper()
        if not isinstance(value, str):
            raise ConfigError(name, "must be text")
        check = secret_key_problem if info.field_name == "connector_secret_key" else previous_key_problem
        problem = check(value)
        if problem:
            raise ConfigError(name, problem)
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value:
            return value
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        if value.startswith("postgresql:"):
            value = "postgresql+psycopg:" + value[len("postgresql:") :]
        return value

    @model_validator(mode="after")
    def _anchor_paths(self) -> Settings:
        """Relative paths are taken from the home directory (see the module docstring)."""
        home = self.connector_home = self.connector_home.resolve()
        self.data_dir = _anchored(self.data_dir, home)
        if self.templates_dir is not None:
            self.templates_dir = _anchored(self.templates_dir, home)
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'connector.db'}"
        elif self.database_url.startswith("sqlite:"):
            try:
                url = make_url(self.database_url)
            except Exception:  # noqa: BLE001 - reported as the setting's problem
                raise ValueError("DATABASE_URL is not a valid database URL") from None
            if url.database and url.database != ":memory:" and not Path(url.database).is_absolute():
                self.database_url = url.set(database=str(home / url.database)).render_as_string(
                    hide_password=False)
        return self

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or None for PostgreSQL (and in-memory SQLite)."""
        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return Path(url.database)

    @property
    def database_label(self) -> str:
        """Where the data lives, for people: the SQLite file, or the PostgreSQL URL without its password."""
        path = self.sqlite_path
        if path is not None:
            return f"SQLite {path}"
        return f"PostgreSQL {make_url(self.database_url).render_as_string(hide_password=True)}"

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
    """Settings from the environment, the home directory's `.env` and `overrides`; raises ConfigError
    naming the setting (or the `.env` line that cannot be read)."""
    given = overrides.pop("connector_home", None) or os.environ.get("CONNECTOR_HOME")
    home = Path(str(given)).resolve() if given else home_directory()
    env_file = home / ENV_FILE
    if env_file.is_file():
        check_env_file(env_file)
    else:
        env_file = Path(os.devnull)
    try:
        return Settings(connector_home=home, _env_file=env_file, **overrides)  # type: ignore[arg-type, call-arg]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first.get("loc") else "settings"
        if name == "__ROOT__" or not first.get("loc"):
            name = "DATABASE_URL"
        raise ConfigError(name, first["msg"].removeprefix("Value error, ").removeprefix("DATABASE_URL ")) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()
