"""Stores verified webhook deliveries in the inbox, one statement each; a repeated delivery id is a no-op.

Two ways in, one INSERT:
    store_delivery(session_or_connection, ...)   inside a caller's transaction (tests, replays, tools)
    DeliveryWriter.store(Delivery(...))           the webhook hot path: the driver's own connection, no
                                                  SQLAlchemy execution machinery, no schema check

The writer commits before it returns, so the 200 that follows it never acknowledges a lost delivery:
    PostgreSQL  one round trip: the INSERT … RETURNING runs in autocommit, so the server answers only
                after the commit is durable (synchronous_commit stays on). The writer
                (connector/pipeline/intake_postgres.py) keeps its own connections, as many idle as the
                web server has threads, and sends a prepared statement through libpq itself.
    SQLite      one writer at a time: threads of a process queue on a lock and processes on a file lock
                beside the database, so a writer never meets SQLite's busy back-off (its sleeps are what
                made the p99); the busy timeout stays for the worker's own writes.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring_ascii as _json_string  # json.dumps' own escaper (C), ensure_ascii
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import JSON, Connection, LargeBinary, TextClause, bindparam, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector.store.db import Database, sqlite_pragmas
from connector.store.models import UTCDateTime, naive_utc, utcnow

COLUMNS = ("platform", "delivery_id", "topic", "shop_domain", "shop_id", "headers", "body", "body_omitted")
# A row's values in the multi-row INSERT, each sent once: received_at's placeholder serves next_attempt_at too
# (on PostgreSQL each parameter is parsed again by the server: a second timestamp cost it 4 µs a delivery).
ROW_VALUES = (*COLUMNS, "received_at")
_RECEIVED_AT = ROW_VALUES.index("received_at")


class MultiRowInsert:
    """The INSERT of `n` deliveries in one statement, built once per size, returning the keys inserted.

    `placeholder(column, position)` writes a value's placeholder: `position` counts the statement's values from 1.
    A row's received_at placeholder appears twice (received_at and next_attempt_at), so it must name its value
    (`$n`, `?n`, `:name`) rather than take the next one in turn.
    """

    def __init__(self, placeholder: Callable[[str, int], str]) -> None:
        self._placeholder = placeholder
        self._cache: dict[int, str] = {}

    def sql(self, count: int) -> str:
        built = self._cache.get(count)
        if built is None:
            width = len(ROW_VALUES)
            rows = []
            for index in range(count):
                values = [self._placeholder(name, index * width + offset) for offset, name in enumerate(ROW_VALUES, start=1)]
                rows.append(f"({', '.join(values)}, {values[_RECEIVED_AT]}, 'pending', 0)")  # next_attempt_at
            rows_sql = ", ".join(rows)
            built = (f"INSERT INTO inbox ({', '.join(COLUMNS)}, received_at, next_attempt_at, status, attempts)"
                     f" VALUES {rows_sql} ON CONFLICT (platform, delivery_id) DO NOTHING RETURNING platform, delivery_id")
            self._cache[count] = built
        return built

    @staticmethod
    def positional(rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The values in placeholder order."""
        return [row[name] for row in rows for name in ROW_VALUES]


def _insert_clause() -> TextClause:
    # Written out once, so the session path also skips SQLAlchemy's per-call compilation of ON CONFLICT.
    return text(MultiRowInsert(lambda column, _position: f":{column}").sql(1)).bindparams(
        bindparam("headers", type_=JSON()),
        bindparam("body", type_=LargeBinary()),
        bindparam("received_at", type_=UTCDateTime()),
    )


_INSERT = _insert_clause()


class ShopMissing(Exception):
    """The delivery named a shop id that is no longer in the database (erased since it was cached)."""


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and one is built per delivery
# (2.5 against 1.1 µs). Nothing changes a Delivery once built; writers only read it.
@dataclass(slots=True)
class Delivery:
    """One verified delivery as the inbox stores it. `body_omitted`: over the limit, this many bytes left out."""

    platform: str
    delivery_id: str
    topic: str
    shop_domain: str
    shop_id: int | None
    headers: Mapping[str, str]
    body: bytes
    body_omitted: int | None = None
    received_at: datetime = field(default_factory=utcnow)

    def values(self) -> dict[str, Any]:
        """Column values, cut to the columns' sizes."""
        return {
            "platform": self.platform,
            "delivery_id": self.delivery_id[:200],
            "topic": self.topic[:100],
            "shop_domain": self.shop_domain[:255],
            "shop_id": self.shop_id,
            "headers": dict(self.headers),
            "body": b"" if self.body_omitted is not None else self.body,
            "body_omitted": self.body_omitted,
            "received_at": self.received_at,
        }


def store_delivery(
    session: Session | Connection,
    *,
    platform: str,
    delivery_id: str,
    topic: str,
    shop_domain: str,
    shop_id: int | None,
    headers: Mapping[str, str],
    body: bytes,
    body_omitted: int | None = None,
) -> bool:
    """Insert the delivery unless (platform, delivery id) is already stored; True when new.

    The caller commits before answering the platform, so an acknowledged delivery is never lost.
    """
    delivery = Delivery(platform, delivery_id, topic, shop_domain, shop_id, headers, body, body_omitted)
    return session.execute(_INSERT, delivery.values()).first() is not None


class DeliveryWriter(Protocol):
    def store(self, delivery: Delivery) -> bool:
        """Insert and commit `delivery`; True when new, False for a repeat. ShopMissing: its shop is gone."""

    def close(self) -> None: ...


class BatchWriter(DeliveryWriter, Protocol):
    def store_many(self, deliveries: Sequence[Delivery]) -> list[bool]:
        """Insert and commit all of `deliveries` in one statement; per delivery, True when new. Raises for
        the whole batch when any of them fails (nothing of it is then stored)."""


def headers_json(headers: Mapping[str, str]) -> str:
    """The kept headers as the JSON text json.dumps gives, written for a flat object of strings: every
    delivery pays for it, and json.dumps builds its encoder anew each call (3.7 against 2.0 µs for a
    Shopify delivery's six headers). A name or value that is not a string raises TypeError, where
    json.dumps would have written a number or null for it."""
    return "{" + ", ".join([f"{_json_string(name)}: {_json_string(value)}" for name, value in headers.items()]) + "}"


def row_key(values: Mapping[str, Any]) -> tuple[str, str]:
    """The inbox's unique key of a delivery's column values."""
    return values["platform"], values["delivery_id"]


def stored_flags(keys: Sequence[tuple[str, str]], inserted: set[tuple[str, str]]) -> list[bool]:
    """Per delivery, whether it was new: a key sent twice in one batch is new at most once, the first time."""
    seen: set[tuple[str, str]] = set()
    flags = []
    for key in keys:
        flags.append(key in inserted and key not in seen)
        seen.add(key)
    return flags


def _sqlite_time(moment: datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime stores (and reads back), from naive UTC.
    return naive_utc(moment).strftime("%Y-%m-%d %H:%M:%S.%f")


class SQLiteWriter:
    """Deliveries into a SQLite file: one writer per process at a time, and one per file across processes."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        sqlite_pragmas(self._connection, None)
        self._lock = threading.Lock()
        # The file lock is taken on a file of its own: locking the database file would fight SQLite's own locks.
        self._lock_file = open(f"{path}.intake-lock", "a+b")  # held for the writer's life
        self._insert = MultiRowInsert(lambda _column, position: f"?{position}")

    def store(self, delivery: Delivery) -> bool:
        return self.store_many([delivery])[0]

    def store_many(self, deliveries: Sequence[Delivery]) -> list[bool]:
        rows = [delivery.values() for delivery in deliveries]
        for row in rows:
            row["headers"] = headers_json(row["headers"])
            row["received_at"] = _sqlite_time(row["received_at"])
        with self._lock:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            try:
                # Autocommit: the INSERT is its own transaction, committed once its rows are all fetched.
                returned = self._connection.execute(self._insert.sql(len(rows)), MultiRowInsert.positional(rows)).fetchall()
            except sqlite3.IntegrityError as error:
                if "FOREIGN KEY" in str(error):
                    raise ShopMissing() from None
                raise
            finally:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        return stored_flags([row_key(row) for row in rows], {(platform, delivery_id) for platform, delivery_id in returned})

    def close(self) -> None:
        with self._lock:
            self._connection.close()
            self._lock_file.close()


@dataclass(slots=True)
class _Waiting:
    delivery: Delivery
    done: threading.Event = field(default_factory=threading.Event)
    stored: bool = False
    error: BaseException | None = None
    batch: list[_Waiting] | None = None  # set when this request is woken to write the next batch itself


class GroupCommit:
    """Group commit: the deliveries that arrive while one batch is being committed go together in the
    next, in one statement and one commit, and each request is answered only after its batch committed.

    No thread of its own: a request that finds nothing being written writes its delivery at once (so
    a quiet intake costs what a plain writer does). Requests that arrive meanwhile queue; when a batch
    is committed, its writer wakes the first of the queue with the queue (up to `max_batch`) as its
    batch, and that request writes it. Every batch thus costs one wake-up, for its writer, besides
    one per delivery it answers. A batch that fails is written again one delivery at a time, so a
    delivery's error (its shop erased) is its own and the others are still stored.
    """

    def __init__(self, writer: BatchWriter, *, max_batch: int = 64) -> None:
        self._writer = writer
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._writing = False  # a batch is being written: newcomers queue (the queue is empty otherwise)

    def store(self, delivery: Delivery) -> bool:
        waiting = _Waiting(delivery)
        with self._lock:
            if self._writing:
                self._queue.append(waiting)
            else:
                self._writing = True
                waiting.batch = [waiting]
        if waiting.batch is None:
            waiting.done.wait()
        if waiting.batch is not None:  # this request writes: the first of a quiet moment, or woken to
            try:
                self._commit(waiting.batch)
            finally:
                self._hand_on()  # even if this thread is being torn down, the queue must not wait forever
        if waiting.error is not None:
            raise waiting.error
        return waiting.stored

    def _hand_on(self) -> None:
        """Wake the first queued request with the queue as its batch, or stop writing if none waits."""
        with self._lock:
            if not self._queue:
                self._writing = False
                return
            batch, self._queue = self._queue[:self._max_batch], self._queue[self._max_batch:]
        batch[0].batch = batch
        batch[0].done.set()

    def _commit(self, batch: list[_Waiting]) -> None:
        """Write `batch` and settle each of its requests; wakes every one but the writer, which is awake."""
        try:
            flags = self._writer.store_many([waiting.delivery for waiting in batch])
        except Exception as error:  # noqa: BLE001  # any failure is handed to the requests it belongs to
            if len(batch) == 1:
                batch[0].error = error
            else:
                for waiting in batch:
                    self._commit([waiting])
                return
        else:
            for waiting, stored in zip(batch, flags, strict=True):
                waiting.stored = stored
        for waiting in batch:
            if waiting.batch is None:
                waiting.done.set()

    def close(self) -> None:
        self._writer.close()


class EngineWriter:
    """Deliveries through the application's own engine: for the databases the fast writers don't serve
    (an in-memory SQLite, another PostgreSQL driver)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def store(self, delivery: Delivery) -> bool:
        try:
            with self._database.transaction() as connection:
                return connection.execute(_INSERT, delivery.values()).first() is not None
        except IntegrityError as error:
            if delivery.shop_id is not None and "foreign" in str(error.orig).lower():
                raise ShopMissing() from None
            raise

    def close(self) -> None:
        """The engine is the application's: it closes it."""


def open_writer(database: Database, *, threads: int, group_commit: bool) -> DeliveryWriter:
    """The fastest writer for `database`, with connections for `threads` concurrent requests, and with
    `group_commit` a collector in front of it that commits the deliveries that arrive together at once."""
    parsed = make_url(database.url)
    backend = parsed.get_backend_name()
    writer: BatchWriter
    if backend == "postgresql" and parsed.get_driver_name() == "psycopg":
        from connector.pipeline.intake_postgres import PostgresWriter

        writer = PostgresWriter(database.url, threads=threads)
    elif backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        writer = SQLiteWriter(Path(parsed.database))
    else:
        return EngineWriter(database)
    return GroupCommit(writer, max_batch=max(8, 2 * threads)) if group_commit else writer
