"""Idempotent writes of synced data: orders, stock, cursors and shops, keyed on the stores' own ids."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from connector.crypto import SecretBox
from connector.errors import ShopNotFound
from connector.platforms.base import AccessReport, RemoteOrder, ShopAccess, StockRecord
from connector.store.db import rows_changed
from connector.store.models import InventoryLevel, Order, OrderLine, Shop, SyncCursor, utcnow


ACCESS_SETTING = "access"  # the shop's last AccessReport (`AccessReport.as_setting`)
# A WooCommerce key that a newer, verified key replaced: {"key_id": n, "at": ISO time}. WooCommerce has no REST
# API to revoke a key, so the dashboard asks the store owner to (for REVOKE_NOTICE_DAYS).
REVOKE_SETTING = "revoke_key"
REVOKE_NOTICE_DAYS = 14


def _insert(session: Session, table: Table) -> Any:
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


def insert_or_ignore(session: Session, table: Table, values: Mapping[str, Any], keys: Iterable[str]) -> bool:
    """Insert a row unless one with the same unique `keys` exists; True when this call inserted it.

    The unique key decides, not a prior SELECT, so two writers racing on one id cannot both insert.
    """
    statement = (
        _insert(session, table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(*table.primary_key.columns)
    )
    # RETURNING, not rowcount: PostgreSQL's driver reports -1 rows for an INSERT ... RETURNING.
    return session.execute(statement).first() is not None


def upsert(session: Session, table: Table, values: Mapping[str, Any], keys: Iterable[str]) -> None:
    """Insert a row, or update every non-key column of the existing one with the same unique `keys`."""
    key_list = list(keys)
    statement = _insert(session, table).values(**values)
    updates = {name: statement.excluded[name] for name in values if name not in key_list}
    session.execute(statement.on_conflict_do_update(index_elements=key_list, set_=updates))


def _lock(session: Session, statement: Any) -> Any:
    # SQLite serialises writers itself; PostgreSQL needs the row lock to serialise per-order work.
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return session.execute(statement).scalar_one()


def upsert_order(session: Session, shop_id: int, remote: RemoteOrder) -> bool:
    """Store `remote` unless a newer version of it is already stored; True when stored.

    Deliveries arrive late, twice and out of order: an older `updated_at` never overwrites a newer one.
    """
    fields = {
        "name": remote.name,
        "created_at": remote.created_at,
        "updated_at": remote.updated_at,
        "is_open": remote.is_open,
        "status": remote.status,
        "customer_id": remote.customer_id,
        "customer_email": remote.customer_email,
        "customer_first_name": remote.customer_first_name,
        "customer_name": remote.customer_name,
        "locale": remote.locale,
        "contact_withheld": remote.contact_withheld,
        "out_of_reach_at": None,  # the store showed it
    }
    inserted = insert_or_ignore(
        session, Order.__table__, {"shop_id": shop_id, "platform_id": remote.platform_id, "synced_at": utcnow(), **fields},
        ("shop_id", "platform_id"),
    )
    order: Order = _lock(
        session, select(Order).where(Order.shop_id == shop_id, Order.platform_id == remote.platform_id)
    )
    if not inserted:
        if remote.updated_at < order.updated_at:
            return False
        # A webhook payload cannot say whether a missing email was withheld: what the last read knew stands.
        withheld = remote.contact_withheld or (order.contact_withheld and remote.customer_email is None)
        for name, value in fields.items():
            setattr(order, name, value)
        order.contact_withheld = withheld
        order.synced_at = utcnow()
    _replace_lines(order, remote)
    session.flush()
    return True


def _replace_lines(order: Order, remote: RemoteOrder) -> None:
    existing = {line.platform_id: line for line in order.lines}
    seen: set[str] = set()
    for item in remote.lines:
        seen.add(item.platform_id)
        line = existing.get(item.platform_id)
        if line is None:
            line = OrderLine(platform_id=item.platform_id)
            order.lines.append(line)
        line.sku = item.sku or None
        line.title = item.title[:500]
        line.quantity = item.quantity
        line.open_quantity = item.open_quantity
        line.requires_shipping = item.requires_shipping
        line.variant_id = item.variant_id
        line.stock_reduced = item.stock_reduced
        if item.unit_price is not None:  # a read without prices (the GraphQL sync) keeps the known one
            line.unit_price = item.unit_price
    for platform_id, line in existing.items():
        if platform_id not in seen:
            order.lines.remove(line)


def mark_out_of_reach(session: Session, shop_id: int, readable_since: datetime) -> int:
    """Mark the open orders created before `readable_since`, which the store no longer shows, as out of its
    reach (kept, not deleted); returns how many were newly marked."""
    return rows_changed(
        session,
        update(Order)
        .where(Order.shop_id == shop_id, Order.is_open.is_(True), Order.created_at < readable_since,
               Order.out_of_reach_at.is_(None))
        .values(out_of_reach_at=utcnow()),
    )


def record_access(session: Session, shop_id: int, report: AccessReport) -> None:
    """Keep the shop's latest access check (granted and missing scopes, what they rule out)."""
    shop = session.get(Shop, shop_id)
    if shop is not None:
        shop.set_setting(ACCESS_SETTING, {**report.as_setting(), "checked_at": utcnow().isoformat()})


def store_stock(session: Session, shop_id: int, records: Iterable[StockRecord], *, complete: bool) -> int:
    """Upsert stock levels; with `complete`, levels the store no longer reports are removed."""
    seen: set[tuple[str, str]] = set()
    now = utcnow()
    for record in records:
        seen.add((record.sku, record.location_id))
        upsert(
            session,
            InventoryLevel.__table__,
            {
                "shop_id": shop_id,
                "sku": record.sku,
                "location_id": record.location_id,
                "quantity": record.quantity,
                "tracked": record.tracked,
                "item_ref": record.item_ref,
                "storefront_ref": record.storefront_ref,
                "updated_at": now,
            },
            ("shop_id", "sku", "location_id"),
        )
    if complete:
        stored = session.execute(
            select(InventoryLevel.sku, InventoryLevel.location_id).where(InventoryLevel.shop_id == shop_id)
        ).all()
        gone = [tuple(row) for row in stored if tuple(row) not in seen]
        for chunk_start in range(0, len(gone), 500):
            chunk = gone[chunk_start : chunk_start + 500]
            session.execute(
                delete(InventoryLevel).where(
                    InventoryLevel.shop_id == shop_id,
                    tuple_(InventoryLevel.sku, InventoryLevel.location_id).in_(chunk),
                )
            )
    return len(seen)


def stock_totals(session: Session, shop_id: int) -> dict[str, int]:
    """Tracked units per SKU over every location, as stored (before or after a stock read)."""
    totals: dict[str, int] = {}
    for sku, quantity in session.execute(
        select(InventoryLevel.sku, InventoryLevel.quantity)
        .where(InventoryLevel.shop_id == shop_id, InventoryLevel.tracked.is_(True))
    ):
        totals[sku] = totals.get(sku, 0) + int(quantity or 0)
    return totals


def get_cursor(session: Session, shop_id: int, resource: str) -> datetime | None:
    return session.scalar(
        select(SyncCursor.cursor_at).where(SyncCursor.shop_id == shop_id, SyncCursor.resource == resource)
    )


def set_cursor(session: Session, shop_id: int, resource: str, cursor_at: datetime | None, count: int) -> None:
    upsert(
        session,
        SyncCursor.__table__,
        {"shop_id": shop_id, "resource": resource, "cursor_at": cursor_at, "last_run_at": utcnow(), "last_count": count},
        ("shop_id", "resource"),
    )


def ensure_shop(session: Session, platform: str, domain: str, *, name: str, api_url: str | None) -> Shop:
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


def get_shop(session: Session, shop_ref: int | str) -> Shop:
    """A shop by id or by domain/URL; ShopNotFound names what was asked for."""
    if isinstance(shop_ref, int) or str(shop_ref).isdigit():
        shop = session.get(Shop, int(shop_ref))
    else:
        shop = session.scalar(select(Shop).where(Shop.domain == str(shop_ref).rstrip("/")))
    if shop is None:
        raise ShopNotFound(f"no shop {shop_ref!r}; `connector shops list` shows the shops")
    return shop


def granted_scopes(shop: Shop) -> tuple[str, ...] | None:
    """What the store last said it granted: from the last access check, else from the install's token."""
    report = shop.setting(ACCESS_SETTING, None)
    if isinstance(report, dict) and isinstance(report.get("granted"), list):
        return tuple(str(scope) for scope in report["granted"])
    scope = shop.setting("granted_scopes", None)
    if isinstance(scope, str):
        return tuple(part.strip() for part in scope.split(",") if part.strip())
    return None


def shop_access(shop: Shop, box: SecretBox, *, api_version: str | None = None,
                required_scopes: tuple[str, ...] = ()) -> ShopAccess:
    """The decrypted credentials a platform client needs to reach `shop`."""
    secret = box.open(shop.credentials)
    return ShopAccess(
        platform=shop.platform,  # type: ignore[arg-type]
        domain=shop.domain,
        api_url=shop.api_url,
        access_token=secret.get("access_token"),
        refresh_token=secret.get("refresh_token"),
        token_expires_at=shop.token_expires_at,
        consumer_key=secret.get("consumer_key"),
        consumer_secret=secret.get("consumer_secret"),
        query_string_auth=bool(shop.setting("query_string_auth", False)),
        api_version=api_version,
        required_scopes=required_scopes,
        granted_scopes=granted_scopes(shop),
    )


def save_credentials(shop: Shop, box: SecretBox, **values: Any) -> None:
    """Merge `values` into the shop's sealed credentials (None removes a key) in one write."""
    current = box.open(shop.credentials)
    for key, value in values.items():
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
    shop.credentials = box.seal(current) if current else None
