"""Imports a supplier feed from a file or URL into the database, replacing that supplier's rows whole or not at all."""

from __future__ import annotations

import hashlib
import io
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import requests
from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from connector import __version__
from connector.crypto import SecretBox
from connector.errors import InputError, OutboundRefused, PlatformError
from connector.feeds.credentials import opened, origin, sealed
from connector.feeds.parse import guess_format
from connector.feeds.promises import record_promises, touch_promises
from connector.outbound import OutboundPolicy, current_policy, guarded_session, read_body
from connector.outbound.addresses import display_url
from connector.outbound.credentials import Credentials, split_credentials
from connector.feeds.reader import FeedReader, FeedTally, SupplyTuple
from connector.store.models import FeedImport, Supplier, SupplyItem, utcnow
from connector.store.repo import insert_or_ignore

log = logging.getLogger(__name__)
T = TypeVar("T")

CONNECT_TIMEOUT = 10
FETCH_TIMEOUT = 30  # seconds without a byte from the feed server
FETCH_DEADLINE = 300.0  # seconds for a whole feed download, however the server drips it
MAX_FEED_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_SHRINK = 0.5  # FEED_MAX_SHRINK: a feed losing more than this share of rows or units is refused
REJECTED_KEPT = 1000  # rejected rows kept with their reasons (all are counted)
IMPORT_CACHE_KIB = -65536  # SQLite page cache during an import: 64 MiB (negative: KiB)
_COLUMNS = "supplier_id, sku, available, restock_date, restock_qty, lead_time_days, line_no, reference"
_COPY_SQL = f"COPY supply_items ({_COLUMNS}) FROM STDIN"
_INSERT_SQL = f"INSERT INTO supply_items ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


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
    """What an import did: `imported`, `unchanged` (same content as in force) or `refused` (see `reason`).

    `rows` and `units` are what is in force afterwards: the new feed's, or the previous one's when
    the feed was unchanged or refused."""

    supplier: str
    status: str
    rows: int = 0
    units: int = 0
    rejected: list[dict[str, object]] = field(default_factory=list)
    rejected_count: int = 0
    reason: str | None = None

    @property
    def refused(self) -> bool:
        return self.status == "refused"

    def line(self) -> str:
        if self.status == "unchanged":
            return f"{self.supplier}: unchanged, {self.rows} rows in force"
        if self.status == "refused":
            return f"{self.supplier}: refused whole: {self.reason}; the previous {self.rows} rows stay in force"
        return f"{self.supplier}: imported {self.rows} rows, rejected {self.rejected_count}"


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def fetch(source: str, *, etag: str | None = None, last_modified: str | None = None,
          session: requests.Session | None = None, policy: OutboundPolicy | None = None,
          clock: Callable[[], float] = time.monotonic, deadline_seconds: float = FETCH_DEADLINE,
          credentials: Credentials | None = None) -> Fetched:
    """Read a feed from a path or URL; for URLs a conditional GET, so an unchanged feed costs a 304.

    A URL obeys the outbound policy (https to a public address, every redirect checked again, at most
    the policy's redirects), must answer within `deadline_seconds` in all and at most MAX_FEED_BYTES.
    `credentials` are added to the request only (basic auth, headers, query values); `source` itself must
    carry none. Errors name the URL without its credentials and never quote what the server sent.
    """
    if not is_url(source):
        try:
            return Fetched(Path(source).read_bytes())
        except OSError as exc:
            raise InputError(source, f"cannot read the feed file: {exc.strerror or exc}") from None
    where = display_url(source)
    chosen = policy or current_policy()
    chosen.check_url(source, source=where)
    headers = {"User-Agent": f"backorder-connector/{__version__}"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    url, secret_headers, auth = (credentials or Credentials()).request_parts(source)
    headers.update(secret_headers)
    http = session or guarded_session(chosen)
    try:
        return _get_feed(http, url, auth, where, headers, chosen, clock() + deadline_seconds, clock, etag,
                         last_modified)
    finally:
        if session is None:
            http.close()


def _get_feed(http: requests.Session, source: str, auth: tuple[str, str] | None, where: str, headers: dict[str, str],
              policy: OutboundPolicy, deadline: float, clock: Callable[[], float], etag: str | None,
              last_modified: str | None) -> Fetched:
    try:
        response = http.get(source, headers=headers, auth=auth, timeout=(CONNECT_TIMEOUT, FETCH_TIMEOUT), stream=True)
    except OutboundRefused as refused:
        raise InputError(where, f"refused by the outbound policy: {refused.source} {refused.problem}") from None
    except requests.TooManyRedirects:
        raise InputError(where, f"more than {policy.max_redirects} redirects") from None
    except requests.RequestException as exc:
        raise InputError(where, f"cannot fetch the feed: {type(exc).__name__}") from None
    with response:
        if response.status_code == 304:
            return Fetched(None, etag, last_modified)
        if response.status_code != 200:
            raise InputError(where, f"feed server answered HTTP {response.status_code}")
        try:
            body = read_body(response, max_bytes=MAX_FEED_BYTES, deadline=deadline, clock=clock,
                             what="the feed server")
        except PlatformError as error:
            raise InputError(where, str(error)) from None
        return Fetched(body, response.headers.get("ETag"), response.headers.get("Last-Modified"))


def scope_for(shop_id: int | None) -> str:
    return f"shop:{shop_id}" if shop_id else "all"


Progress = Callable[[int, int], None]
"""Called with (bytes read, bytes in the feed) as an import goes."""


def _file_digest(path: Path, column_map: dict[str, str]) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    digest.update(repr(sorted(column_map.items())).encode())
    return digest.hexdigest()


def _bytes_digest(data: bytes, column_map: dict[str, str]) -> str:
    return hashlib.sha256(data + repr(sorted(column_map.items())).encode()).hexdigest()


def shrink_problem(previous_rows: int, previous_units: int, rows: int, units: int, max_shrink: float) -> str | None:
    """Why a feed that fell this far below the previous import is refused, or None when it did not."""
    for what, before, now in (("rows", previous_rows, rows), ("units", previous_units, units)):
        if before > 0 and now < before * (1 - max_shrink):
            drop = 100 * (before - now) / before
            return (f"it has {now:,} {what} where the previous import had {before:,} (down {drop:.0f}%, more than "
                    f"the {100 * max_shrink:.0f}% FEED_MAX_SHRINK allows); if that is right, import it again with "
                    "--allow-shrink")
    return None


def import_feed(
    session: Session,
    source: str,
    supplier_name: str,
    *,
    shop_id: int | None = None,
    column_map: dict[str, str] | None = None,
    http: requests.Session | None = None,
    force: bool = False,
    allow_shrink: bool = False,
    max_shrink: float = DEFAULT_MAX_SHRINK,
    progress: Progress | None = None,
    default_lead_days: int = 7,
    now: datetime | None = None,
    credentials: Credentials | None = None,
    box: SecretBox | None = None,
    forget_credentials: bool = False,
) -> ImportResult:
    """Import `source` as `supplier_name`'s feed in the caller's transaction.

    The feed streams in batches into a savepoint that replaces the supplier's rows, and is refused
    whole (the savepoint rolled back, the previous rows in force, the refusal recorded on the
    supplier and in its history) when it cannot be read, has no valid row, or has fewer rows or
    units than `max_shrink` allows below the previous import (unless `allow_shrink`). The same
    content imported twice changes nothing. Never raises for the feed's content: look at `status`.
    An imported feed's restock rows are recorded as promises (see `connector.feeds.promises`), dated
    with `default_lead_days` where a row gives no lead time. `now` (default: the clock) is when the
    import happens, so a replay of past days (the backtest) dates its promises on those days.

    A URL's credentials (in it, or `credentials`) are stored apart from it, sealed with `box`, and used for
    this fetch and every refresh; given for the URL already stored, they replace the stored ones at once,
    else they are stored with the new URL when it imports. A URL given without credentials uses the stored
    ones while it keeps their origin (scheme, host and port), unless `forget_credentials`.
    Needs `box` (ConfigError without it) only when there are credentials to seal or open.
    """
    now = now or utcnow()
    mapping = dict(column_map or {})
    scope = scope_for(shop_id)
    given = Credentials()
    if is_url(source):
        source, given = split_credentials(source)
        given = given.merged(credentials or Credentials())
    insert_or_ignore(
        session, Supplier.__table__,
        {"scope": scope, "name": supplier_name, "shop_id": shop_id, "source": source, "column_map": mapping,
         "row_count": 0, "unit_count": 0, "rejected": [], "rejected_count": 0},
        ("scope", "name"),
    )
    supplier = session.execute(
        select(Supplier).where(Supplier.scope == scope, Supplier.name == supplier_name)
    ).scalar_one()
    supplier.checked_at = now
    use, use_sealed = _credentials_for(supplier, source, given, box, forget=forget_credentials)
    if supplier.source == source and use_sealed != supplier.credentials:
        supplier.credentials = use_sealed
    same_source = supplier.source == source and (supplier.column_map or {}) == mapping
    conditional = same_source and not force and not supplier.is_refused
    try:
        if is_url(source):
            fetched = fetch(source, etag=supplier.etag if conditional else None,
                            last_modified=supplier.last_modified if conditional else None, session=http,
                            credentials=use)
            if fetched.unchanged:
                return _in_force(supplier, "unchanged")
            assert fetched.data is not None
            digest = _bytes_digest(fetched.data, mapping)
            opened: IO[bytes] = io.BytesIO(fetched.data)
            size = len(fetched.data)
        else:
            path = Path(source)
            try:
                digest = _file_digest(path, mapping)
                opened = path.open("rb")
                size = path.stat().st_size
            except OSError as exc:
                raise InputError(source, f"cannot read the feed file: {exc.strerror or exc}") from None
            fetched = Fetched(None)
    except InputError as error:
        return _refuse(session, supplier, error.problem if error.line is None else f"line {error.line}: {error.problem}")
    if digest == supplier.content_hash and not force and not supplier.is_refused:
        opened.close()
        touch_promises(session, supplier, now)
        return _in_force(supplier, "unchanged")
    with opened:
        outcome = _load(session, supplier, opened, source, mapping, size, progress,
                        max_shrink=None if allow_shrink else max_shrink)
    if isinstance(outcome, str):
        return _refuse(session, supplier, outcome)
    tally = outcome
    rejected = [{"line": r.line, "reason": r.reason} for r in tally.rejected]
    supplier.source = source
    supplier.credentials = use_sealed
    supplier.column_map = mapping
    supplier.etag = fetched.etag
    supplier.last_modified = fetched.last_modified
    supplier.content_hash = digest
    supplier.imported_at = now
    supplier.row_count = tally.rows
    supplier.unit_count = tally.units
    supplier.rejected = rejected
    supplier.rejected_count = tally.rejected_count
    supplier.refused_at = None
    supplier.refused_reason = None
    session.add(FeedImport(supplier_id=supplier.id, at=supplier.imported_at, outcome="imported", rows=tally.rows,
                           units=tally.units, rejected=tally.rejected_count))
    record_promises(session, supplier, default_lead_days, supplier.imported_at)
    log.info("feed %s imported: %d rows, %d rejected", supplier_name, tally.rows, tally.rejected_count)
    return ImportResult(supplier_name, "imported", tally.rows, tally.units, rejected, tally.rejected_count)


def _credentials_for(supplier: Supplier, source: str, given: Credentials, box: SecretBox | None, *,
                     forget: bool) -> tuple[Credentials, str | None]:
    """The credentials to fetch `source` with, and them as they are to be stored (see `import_feed`)."""
    if not is_url(source):
        return Credentials(), None
    if given:
        return given, sealed(box, given)
    if forget or not supplier.credentials or origin(supplier.source) != origin(source):
        return Credentials(), None
    return opened(box, supplier.credentials), supplier.credentials


def _in_force(supplier: Supplier, status: str, reason: str | None = None) -> ImportResult:
    return ImportResult(supplier.name, status, supplier.row_count, supplier.unit_count, list(supplier.rejected or []),
                        supplier.rejected_count or len(supplier.rejected or []), reason)


def _refuse(session: Session, supplier: Supplier, reason: str, tally: FeedTally | None = None) -> ImportResult:
    """Record that the latest import was refused; the rows in force are untouched."""
    now = utcnow()
    supplier.refused_at = now
    supplier.refused_reason = reason
    session.add(FeedImport(supplier_id=supplier.id, at=now, outcome="refused", reason=reason,
                           rows=tally.rows if tally else 0, units=tally.units if tally else 0,
                           rejected=tally.rejected_count if tally else 0))
    log.warning("feed %s refused: %s", supplier.name, reason)
    return _in_force(supplier, "refused", reason)


def _load(session: Session, supplier: Supplier, stream: IO[bytes], source: str, mapping: dict[str, str], size: int,
          progress: Progress | None, *, max_shrink: float | None) -> FeedTally | str:
    """Replace the supplier's rows with the feed's inside a savepoint; the tally, or why it was refused."""
    done = 0

    def advanced(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, size)

    head = stream.read(64)
    stream.seek(0)
    reader = FeedReader(stream, source, fmt=guess_format(head, source), column_map=mapping,
                        keep_rejected=REJECTED_KEPT, on_bytes=advanced)
    previous_rows, previous_units = supplier.row_count or 0, supplier.unit_count or 0
    savepoint = session.begin_nested()
    try:
        connection = session.connection()
        with _bulk_sqlite(connection):
            connection.execute(delete(SupplyItem.__table__).where(SupplyItem.__table__.c.supplier_id == supplier.id))
            # The next batches are parsed (and made database rows) on a second thread while the database
            # stores this one.
            iso = connection.dialect.name == "sqlite"
            prepared = (supply_values(supplier.id, batch, iso_dates=iso) for batch in reader.batches())
            with prefetched(prepared) as batches:
                for rows in batches:
                    write_supply_rows(connection, rows)
    except InputError as error:
        savepoint.rollback()
        return error.problem if error.line is None else f"line {error.line}: {error.problem}"
    except BaseException:
        savepoint.rollback()
        raise
    tally = reader.tally
    problem: str | None = None
    if tally.rows == 0:
        problem = f"no valid rows (all {tally.rejected_count:,} rows were rejected)"
        if tally.rejected:
            first = tally.rejected[0]
            problem += f"; the first, {first.where}: {first.reason}"
    elif max_shrink is not None and supplier.imported_at is not None:
        problem = shrink_problem(previous_rows, previous_units, tally.rows, tally.units, max_shrink)
    if problem is not None:
        savepoint.rollback()
        return problem
    savepoint.commit()
    return tally


@contextmanager
def _bulk_sqlite(connection: Connection) -> Iterator[None]:
    """On SQLite, for the length of one import: a bigger page cache (the SKU index of a million rows), and no
    zero-filling of the pages of the rows it replaces, which hold no personal data (secure_delete stays on
    for everything else, so erased customers really go)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size={IMPORT_CACHE_KIB}")
    connection.exec_driver_sql("PRAGMA secure_delete=OFF")
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA secure_delete=ON")
        connection.exec_driver_sql(f"PRAGMA cache_size={int(previous)}")


_DONE = object()


def _by_sku(row: SupplyTuple) -> str:
    return row.sku


@contextmanager
def prefetched(items: Iterator[T], depth: int = 4) -> Iterator[Iterator[T]]:
    """`items` produced on a background thread, up to `depth` ahead of the consumer; an error on either
    side ends both (the producer's error is raised to the consumer)."""
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which raises it
            buffer.put(error)

    def consume() -> Iterator[T]:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    worker = threading.Thread(target=produce, name="feed-reader", daemon=True)
    worker.start()
    try:
        yield consume()
    finally:
        stop.set()
        while worker.is_alive():
            try:
                buffer.get(timeout=0.1)
            except queue.Empty:
                continue
        worker.join()


def supply_values(supplier_id: int, batch: list[SupplyTuple], *, iso_dates: bool) -> list[tuple[Any, ...]]:
    """One batch as database rows, sorted by SKU so the SKU index is written in order (dates as ISO text for
    SQLite, which is how SQLAlchemy stores them there)."""
    ordered = sorted(batch, key=_by_sku)
    if iso_dates:
        return [(supplier_id, row.sku, row.available, row.restock_date.isoformat() if row.restock_date else None,
                 row.restock_qty, row.lead_time_days, row.line, row.reference) for row in ordered]
    return [(supplier_id, row.sku, row.available, row.restock_date, row.restock_qty, row.lead_time_days, row.line,
             row.reference) for row in ordered]


def write_supply_rows(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Store rows made by `supply_values` as fast as the database allows (COPY on PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        raw: Any = connection.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(_COPY_SQL) as copy:
            for row in rows:
                copy.write_row(row)
        return
    connection.exec_driver_sql(_INSERT_SQL, rows)
