"""Imports a supplier feed from a file or URL into the database, replacing that supplier's items whole."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from connector import __version__
from connector.errors import InputError
from connector.feeds.parse import FeedParse, parse_feed
from connector.store.models import Supplier, SupplyItem, utcnow
from connector.store.repo import insert_or_ignore

log = logging.getLogger(__name__)

FETCH_TIMEOUT = 30
MAX_FEED_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Fetched:
    """A feed's bytes, or `unchanged` when the server said 304 to our conditional GET."""

    data: bytes | None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def unchanged(self) -> bool:
        return self.data is None


@dataclass
class ImportResult:
    supplier: str
    status: str  # imported, unchanged
    rows: int = 0
    rejected: list[dict[str, object]] = field(default_factory=list)

    def line(self) -> str:
        if self.status == "unchanged":
            return f"{self.supplier}: unchanged, {self.rows} rows in force"
        return f"{self.supplier}: imported {self.rows} rows, rejected {len(self.rejected)}"


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def fetch(source: str, *, etag: str | None = None, last_modified: str | None = None,
          session: requests.Session | None = None) -> Fetched:
    """Read a feed from a path or URL; for URLs a conditional GET, so an unchanged feed costs a 304."""
    if not is_url(source):
        try:
            return Fetched(Path(source).read_bytes())
        except OSError as exc:
            raise InputError(source, f"cannot read the feed file: {exc.strerror or exc}") from None
    headers = {"User-Agent": f"backorder-connector/{__version__}"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    http = session or requests.Session()
    try:
        response = http.get(source, headers=headers, timeout=FETCH_TIMEOUT, stream=True)
    except requests.RequestException as exc:
        raise InputError(source, f"cannot fetch the feed: {type(exc).__name__}") from None
    with response:
        if response.status_code == 304:
            return Fetched(None, etag, last_modified)
        if response.status_code != 200:
            raise InputError(source, f"feed server answered HTTP {response.status_code}")
        body = response.raw.read(MAX_FEED_BYTES + 1, decode_content=True)
        if len(body) > MAX_FEED_BYTES:
            raise InputError(source, f"feed is larger than {MAX_FEED_BYTES} bytes")
        return Fetched(body, response.headers.get("ETag"), response.headers.get("Last-Modified"))


def scope_for(shop_id: int | None) -> str:
    return f"shop:{shop_id}" if shop_id else "all"


def import_feed(
    session: Session,
    source: str,
    supplier_name: str,
    *,
    shop_id: int | None = None,
    column_map: dict[str, str] | None = None,
    http: requests.Session | None = None,
    force: bool = False,
) -> ImportResult:
    """Import `source` as `supplier_name`'s feed in the caller's transaction.

    The feed is parsed whole before anything is written, so a refused file leaves the supplier's
    previous items in force. The same content imported twice changes nothing.
    """
    scope = scope_for(shop_id)
    insert_or_ignore(
        session, Supplier.__table__,
        {"scope": scope, "name": supplier_name, "shop_id": shop_id, "source": source, "column_map": column_map or {},
         "row_count": 0, "rejected": []},
        ("scope", "name"),
    )
    supplier = session.execute(
        select(Supplier).where(Supplier.scope == scope, Supplier.name == supplier_name)
    ).scalar_one()
    same_source = supplier.source == source and (supplier.column_map or {}) == (column_map or {})
    fetched = fetch(
        source,
        etag=supplier.etag if same_source and not force else None,
        last_modified=supplier.last_modified if same_source and not force else None,
        session=http,
    )
    supplier.checked_at = utcnow()
    if fetched.unchanged:
        return ImportResult(supplier_name, "unchanged", supplier.row_count, list(supplier.rejected or []))
    assert fetched.data is not None
    parsed: FeedParse = parse_feed(fetched.data, source, column_map=column_map or {})
    digest = hashlib.sha256(fetched.data + repr(sorted((column_map or {}).items())).encode()).hexdigest()
    rejected = [{"line": r.line, "reason": r.reason} for r in parsed.rejected]
    supplier.source = source
    supplier.column_map = column_map or {}
    supplier.etag = fetched.etag
    supplier.last_modified = fetched.last_modified
    if digest == supplier.content_hash and not force:
        return ImportResult(supplier_name, "unchanged", supplier.row_count, rejected)
    session.execute(delete(SupplyItem).where(SupplyItem.supplier_id == supplier.id))
    if parsed.rows:
        session.execute(
            insert(SupplyItem),
            [
                {
                    "supplier_id": supplier.id,
                    "sku": row.sku,
                    "available": row.available,
                    "restock_date": row.restock_date,
                    "restock_qty": row.restock_qty,
                    "lead_time_days": row.lead_time_days,
                    "line_no": row.line,
                }
                for row in parsed.rows
            ],
        )
    supplier.content_hash = digest
    supplier.imported_at = utcnow()
    supplier.row_count = len(parsed.rows)
    supplier.rejected = rejected
    log.info("feed %s imported: %d rows, %d rejected", supplier_name, len(parsed.rows), len(rejected))
    return ImportResult(supplier_name, "imported", len(parsed.rows), rejected)
