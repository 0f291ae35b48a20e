"""Records a shop that has just installed or authorized the connector: created once, updated on re-install."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.store.models import Shop, utcnow
from connector.store.repo import insert_or_ignore


def installed_shop(session: Session, platform: str, domain: str, *, name: str, api_url: str | None) -> Shop:
    """The shop row for (platform, domain), created if new and reactivated if it had been uninstalled.

    Insert-or-ignore on the unique key, then load: two installs racing cannot create two rows.
    The caller stores the credentials on the returned row in the same transaction.
    """
    insert_or_ignore(
        session,
        Shop.__table__,
        {"platform": platform, "domain": domain, "name": name[:255], "settings": {}, "active": True,
         "created_at": utcnow()},
        ("platform", "domain"),
    )
    shop = session.scalars(select(Shop).where(Shop.platform == platform, Shop.domain == domain)).one()
    shop.api_url = api_url
    shop.active = True
    shop.uninstalled_at = None
    return shop


def set_shop_setting(shop: Shop, key: str, value: object) -> None:
    """Change one key of the shop's JSON settings (reassigned so SQLAlchemy sees the change)."""
    settings = dict(shop.settings or {})
    if value is None:
        settings.pop(key, None)
    else:
        settings[key] = value
    shop.settings = settings
