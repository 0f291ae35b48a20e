"""Helpers for the web app tests: settings, signatures, a fake platform and database look-ups."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from connector.errors import AuthError
from connector.platforms.base import Capabilities, ShopProfile, WebhookInfo
from connector.services import Services
from connector.settings import Settings, load_settings
from connector.store.models import InboxItem, Shop

SECRET_KEY = "eIUx8BluXQ3iA-zamBYwpYhHLc39DtQJw15dtfkhe3g="
SHOPIFY_SECRET = "test_secret_key"
SHOPIFY_PREVIOUS_SECRET = "previous_secret_key"
SHOPIFY_API_KEY = "test-api-key"
ADMIN_PASSWORD = "web-operator-password"
# Shopify's own published vector (shopify-app-js validate.test.ts).
VECTOR_BODY = b'{"foo": "bar"}'
VECTOR_HMAC = "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="


def make_web_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path}/connector.db",
        "data_dir": tmp_path / "data",
        "connector_secret_key": SECRET_KEY,
        "shopify_api_key": SHOPIFY_API_KEY,
        "shopify_api_secret": SHOPIFY_SECRET,
        "shopify_api_secret_previous": SHOPIFY_PREVIOUS_SECRET,
        "app_url": "http://127.0.0.1:8000",
        "admin_password": ADMIN_PASSWORD,
        "max_body_bytes": 64 * 1024,
        "webhook_max_body_bytes": 96 * 1024,
    }
    values.update(overrides)
    return load_settings(**values)


def b64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_headers(body: bytes, *, secret: str = SHOPIFY_SECRET, webhook_id: str = "wh-1",
                    topic: str = "orders/create", shop: str = "demo.myshopify.com", prefix: str = "X-") -> dict[str, str]:
    return {
        f"{prefix}Shopify-Hmac-Sha256": b64_hmac(secret, body),
        f"{prefix}Shopify-Topic": topic,
        f"{prefix}Shopify-Shop-Domain": shop,
        f"{prefix}Shopify-Webhook-Id": webhook_id,
        f"{prefix}Shopify-Api-Version": "2026-10",
    }


def inbox_count(services: Services) -> int:
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(InboxItem)) or 0)


def inbox_items(services: Services) -> list[InboxItem]:
    with services.db.session() as session:
        return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


def add_shop(services: Services, platform: str, domain: str, **credentials: Any) -> int:
    with services.db.session() as session:
        shop = Shop(platform=platform, domain=domain, name=domain, settings={})
        if credentials:
            shop.credentials = services.box.seal(credentials)
        session.add(shop)
        session.flush()
        return shop.id


def database_bytes(tmp_path: Path) -> bytes:
    """Every byte SQLite wrote for the test database (main file, WAL and shared memory)."""
    return b"".join(path.read_bytes() for path in sorted(tmp_path.glob("connector.db*")))


@dataclass
class PlatformLog:
    """What the fake platform was asked to do, and the webhooks its "store" holds."""

    webhook_calls: list[tuple[int, str, tuple[str, ...]]] = field(default_factory=list)
    hooks: dict[tuple[int, str], str] = field(default_factory=dict)
    fail_webhooks: bool = False
    refuse_keys: bool = False  # the "store" answers 401 to the credentials it is given
    profile_reads: list[str] = field(default_factory=list)  # the store domains whose profile was read


class FakePlatform:
    """Stands in for a store's API: creates webhooks (each with its own secret) once, can be told to fail."""

    name = "fake"
    capabilities = Capabilities(tags=False, holds=False, customer_notes=False)

    def __init__(self, shop: Shop, log: PlatformLog) -> None:
        self._shop_id = shop.id
        self._domain = shop.domain
        self._log = log

    def shop_profile(self) -> ShopProfile:
        self._log.profile_reads.append(self._domain)
        if self._log.refuse_keys:
            raise AuthError(f"{self._domain}: GET /: the store rejected the API key", status=401)
        return ShopProfile("Store Example")

    def ensure_webhooks(self, address: str, topics: Iterable[str], *,
                        secrets: Mapping[str, str] | None = None) -> list[WebhookInfo]:
        if self._log.fail_webhooks:
            raise ConnectionError("store unreachable")
        topic_list = tuple(topics)
        self._log.webhook_calls.append((self._shop_id, address, topic_list))
        result = []
        for topic in topic_list:
            key = (self._shop_id, topic)
            if key in self._log.hooks:
                result.append(WebhookInfo(self._log.hooks[key], topic, "unchanged"))
            else:
                self._log.hooks[key] = str(100 + len(self._log.hooks))
                result.append(WebhookInfo(self._log.hooks[key], topic, "created", f"secret-{self._log.hooks[key]}"))
        return result

    def close(self) -> None:
        pass
