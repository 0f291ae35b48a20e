"""The intake's PostgreSQL writer: each delivery committed by one prepared INSERT sent through libpq itself.

psycopg opens, authenticates and closes the connections; the INSERT goes underneath its adaptation layer.
A cursor, the query conversion, a dumper per value and a loader per result cell cost a delivery more CPU
than the rest of its handling (about 150 µs a delivery against 60 µs this way, measured in one thread with
a real commit). The encoding is simple because the row is: UTF-8 text for the strings, numbers and the
UTC time, JSON text for the headers, and the body in binary. Every parameter is cast in the SQL, so
nothing depends on the server guessing a type.

Each INSERT runs in autocommit (libpq sends no BEGIN of its own), so the server answers only after the
commit is durable, with synchronous_commit as the server has it. libpq's call releases the GIL while it
waits, so the web server's other threads go on meanwhile.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy.engine import make_url

from connector.pipeline.intake import (ROW_VALUES, Delivery, MultiRowInsert, ShopMissing, headers_json, row_key,
                                       stored_flags)
from connector.store.models import naive_utc

# The SQL type each value is cast to (received_at's placeholder serves next_attempt_at too).
_CASTS = {"platform": "varchar", "delivery_id": "varchar", "topic": "varchar", "shop_domain": "varchar",
          "shop_id": "integer", "headers": "json", "body": "bytea", "body_omitted": "integer",
          "received_at": "timestamp"}
_TEXT, _BINARY = 0, 1
_FOREIGN_KEY_VIOLATION = b"23503"
_TUPLES_OK, _COMMAND_OK, _BAD = pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK, pq.ConnStatus.BAD


def _text(value: str) -> bytes:
    encoded = value.encode()
    if b"\x00" in encoded:  # libpq's text parameters end at a NUL: the value would be cut short without an error
        raise ValueError("a text value with a NUL character cannot be stored")
    return encoded


def _number(value: int | None) -> bytes | None:
    return None if value is None else str(int(value)).encode()


def _time(value: datetime) -> bytes:
    return naive_utc(value).isoformat(sep=" ").encode()


_ROW_FORMATS = [_BINARY if name == "body" else _TEXT for name in ROW_VALUES]  # libpq's: only the body is binary


def encoded_row(values: Mapping[str, Any]) -> list[bytes | None]:
    """A delivery's column values (Delivery.values()) as the INSERT's parameters, in ROW_VALUES' order.

    Written out rather than looped over ROW_VALUES: the loop's call per column cost a third more CPU
    (8.6 against 5.4 µs), and a test holds the order to ROW_VALUES."""
    return [_text(values["platform"]), _text(values["delivery_id"]), _text(values["topic"]),
            _text(values["shop_domain"]), _number(values["shop_id"]), headers_json(values["headers"]).encode(),
            bytes(values["body"]), _number(values["body_omitted"]), _time(values["received_at"])]


class IntakeConnection:
    """One psycopg connection the writer sends its INSERTs on, and the batch sizes already prepared on it."""

    __slots__ = ("connection", "pgconn", "prepared")

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.pgconn = connection.pgconn  # libpq's connection, which the INSERTs go through
        self.prepared: set[int] = set()

    @property
    def closed(self) -> bool:
        return bool(self.pgconn.status == _BAD)  # as psycopg's own `closed`: True too once the server has gone away

    def close(self) -> None:
        self.connection.close()


class Connections:
    """The intake's own connections: one taken per request and given back after.

    The idle ones wait in a SimpleQueue, which takes and gives without a Python-level lock, rather
    than in SQLAlchemy's pool, whose checkout, return and reset cost a delivery more CPU than the rest
    of its Python. About `keep` idle connections stay open (two threads giving back at once may leave
    one more); a connection older than `max_age` seconds or one that failed is closed instead of reused.
    """

    def __init__(self, connect: Callable[[], Any], *, keep: int, max_age: float = 1800.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._connect = connect
        self._keep = keep
        self._max_age = max_age
        self._clock = clock
        self._idle: queue.SimpleQueue[tuple[Any, float]] = queue.SimpleQueue()

    def take(self) -> tuple[Any, float, bool]:
        """A connection, when it was opened, and whether it was reused (not opened for this request)."""
        while True:
            try:
                connection, opened = self._idle.get_nowait()
            except queue.Empty:
                return self._connect(), self._clock(), False
            if self._clock() - opened <= self._max_age and not connection.closed:
                return connection, opened, True
            connection.close()

    def give_back(self, connection: Any, opened: float) -> None:
        if self._idle.qsize() < self._keep and not connection.closed:
            self._idle.put((connection, opened))
        else:
            connection.close()

    def idle(self) -> int:
        return self._idle.qsize()

    def close(self) -> None:
        while True:
            try:
                connection, _opened = self._idle.get_nowait()
            except queue.Empty:
                return
            connection.close()


class ConnectionLost(Exception):
    """The server went away while a statement was sent or answered (whether it committed is unknown)."""


class PostgresWriter:
    """Deliveries into PostgreSQL: one autocommitted, prepared INSERT per delivery (or per group)."""

    def __init__(self, url: str, *, threads: int) -> None:
        from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

        # The URL as SQLAlchemy would connect with it (host, database, options such as search_path).
        _args, options = PGDialect_psycopg().create_connect_args(make_url(url))

        def connect() -> IntakeConnection:
            return IntakeConnection(psycopg.connect(**options, autocommit=True))

        self._connections = Connections(connect, keep=threads)
        self._insert = MultiRowInsert(lambda column, position: f"${position}::{_CASTS[column]}")

    def store(self, delivery: Delivery) -> bool:
        # One row: it was new exactly when the INSERT returned it, so no keys are read back.
        return bool(self._run(1, encoded_row(delivery.values()), _ROW_FORMATS).ntuples == 1)

    def store_many(self, deliveries: Sequence[Delivery]) -> list[bool]:
        rows = [delivery.values() for delivery in deliveries]
        parameters = [parameter for row in rows for parameter in encoded_row(row)]
        result = self._run(len(rows), parameters, _ROW_FORMATS * len(rows))
        inserted = {(result.get_value(row, 0).decode(), result.get_value(row, 1).decode())
                    for row in range(result.ntuples)}
        return stored_flags([row_key(row) for row in rows], inserted)

    def _run(self, count: int, parameters: list[bytes | None], formats: list[int]) -> Any:
        """The result of the INSERT of `count` rows, on a connection taken for it and given back after."""
        while True:
            connection, opened, reused = self._connections.take()
            try:
                result = self._execute(connection, count, parameters, formats)
            except ShopMissing:
                self._connections.give_back(connection, opened)
                raise
            except ConnectionLost:
                connection.close()  # this connection must not serve again
                if reused:
                    # An idle connection the server dropped: the INSERT is idempotent, so once more on a new one.
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            self._connections.give_back(connection, opened)
            return result

    def _execute(self, connection: IntakeConnection, count: int, parameters: list[bytes | None],
                 formats: list[int]) -> Any:
        """Run the INSERT of `count` rows on `connection`, preparing it there first if needed; its result."""
        pgconn = connection.pgconn
        name = b"intake_insert_%d" % count
        try:
            if count not in connection.prepared:
                self._check(pgconn, pgconn.prepare(name, self._insert.sql(count).encode()), _COMMAND_OK)
                connection.prepared.add(count)
            result = pgconn.exec_prepared(name, parameters, formats)
        except psycopg.OperationalError as error:  # libpq had no result at all: the socket failed
            raise ConnectionLost(str(error)) from None
        self._check(pgconn, result, _TUPLES_OK)
        return result

    @staticmethod
    def _check(pgconn: Any, result: Any, expected: Any) -> None:
        if result.status == expected:
            return
        if result.error_field(pq.DiagnosticField.SQLSTATE) == _FOREIGN_KEY_VIOLATION:
            raise ShopMissing()
        if pgconn.status == _BAD:
            raise ConnectionLost(result.error_message.decode(errors="replace").strip())
        raise psycopg.errors.error_from_result(result)

    def close(self) -> None:
        self._connections.close()
