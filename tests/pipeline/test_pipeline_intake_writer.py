"""The webhook intake's writers: one statement per delivery (or per group), rows as the ORM reads them, repeats, erased shops."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text

from connector.pipeline.intake import (
    Delivery,
    DeliveryWriter,
    EngineWriter,
    GroupCommit,
    ShopMissing,
    SQLiteWriter,
    open_writer,
)
from connector.pipeline.intake_postgres import Connections, PostgresWriter
from connector.store.db import Database
from connector.store.models import InboxItem, Shop

MOMENT = datetime(2026, 11, 27, 9, 30, 0, 123456, tzinfo=UTC)


def delivery(delivery_id: str, *, shop_id: int | None = None, body: bytes = b'{"id": 1}',
             omitted: int | None = None) -> Delivery:
    return Delivery(platform="shopify", delivery_id=delivery_id, topic="orders/create", shop_domain="a.myshopify.com",
                    shop_id=shop_id, headers={"X-Shopify-Topic": "orders/create"}, body=body, body_omitted=omitted,
                    received_at=MOMENT)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    built = Database(database_url, migrate=True)
    yield built
    built.dispose()


@pytest.fixture(params=["single", "group"])
def writer(request: pytest.FixtureRequest, database: Database) -> Iterator[DeliveryWriter]:
    opened = open_writer(database, threads=4, group_commit=request.param == "group")
    yield opened
    opened.close()


def shop(database: Database) -> int:
    with database.session() as session:
        row = Shop(platform="shopify", domain="a.myshopify.com", name="A", settings={})
        row.credentials = b"sealed"
        session.add(row)
        session.flush()
        return row.id


def rows(database: Database) -> list[InboxItem]:
    with database.session() as session:
        return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


def test_the_fast_writer_is_the_drivers_own(database: Database) -> None:
    opened = open_writer(database, threads=2, group_commit=False)
    try:
        assert isinstance(opened, SQLiteWriter if database.dialect == "sqlite" else PostgresWriter)
    finally:
        opened.close()


def test_a_delivery_is_stored_once_and_reads_back_as_the_orm_wrote_it(writer: DeliveryWriter, database: Database) -> None:
    shop_id = shop(database)
    assert writer.store(delivery("d-1", shop_id=shop_id)) is True
    assert writer.store(delivery("d-1", shop_id=shop_id, body=b'{"id": 2}')) is False
    assert writer.store(delivery("d-2", omitted=12_000_000)) is True
    first, second = rows(database)
    assert (first.platform, first.delivery_id, first.shop_id, first.topic) == ("shopify", "d-1", shop_id, "orders/create")
    assert first.headers == {"X-Shopify-Topic": "orders/create"}
    assert first.body == b'{"id": 1}' and first.body_omitted is None
    assert first.received_at == MOMENT and first.next_attempt_at == MOMENT
    assert (first.status, first.attempts) == ("pending", 0)
    assert second.body == b"" and second.body_omitted == 12_000_000 and second.shop_id is None


def test_an_erased_shop_is_its_own_deliverys_error(writer: DeliveryWriter, database: Database) -> None:
    with pytest.raises(ShopMissing):
        writer.store(delivery("d-gone", shop_id=987_654))
    assert writer.store(delivery("d-ok")) is True
    assert [row.delivery_id for row in rows(database)] == ["d-ok"]


def test_a_batch_stores_a_repeated_id_once_and_says_so_once(database: Database) -> None:
    opened = open_writer(database, threads=2, group_commit=False)
    try:
        assert isinstance(opened, (SQLiteWriter, PostgresWriter))
        assert opened.store_many([delivery("a"), delivery("b"), delivery("a")]) == [True, True, False]
        assert opened.store_many([delivery("b"), delivery("c")]) == [False, True]
    finally:
        opened.close()
    assert sorted(row.delivery_id for row in rows(database)) == ["a", "b", "c"]


def test_each_row_of_a_batch_is_due_when_it_was_received(database: Database) -> None:
    # One placeholder per row serves received_at and next_attempt_at: each row must get its own.
    from dataclasses import replace
    from datetime import timedelta

    opened = open_writer(database, threads=2, group_commit=False)
    try:
        assert isinstance(opened, (SQLiteWriter, PostgresWriter))
        times = [MOMENT + timedelta(seconds=seconds) for seconds in (0, 7, 30)]
        batch = [replace(delivery(f"t-{number}"), received_at=moment) for number, moment in enumerate(times)]
        assert opened.store_many(batch) == [True, True, True]
    finally:
        opened.close()
    assert [(row.received_at, row.next_attempt_at) for row in rows(database)] == [(moment, moment) for moment in times]


def test_concurrent_deliveries_are_each_answered_after_being_stored(writer: DeliveryWriter, database: Database) -> None:
    answers: dict[str, bool] = {}
    lock = threading.Lock()

    def send(thread: int) -> None:
        for number in range(25):
            # Every thread sends ids 0..9 too: of those, exactly one answer per id may say "stored".
            delivery_id = f"t{thread}-{number}" if number >= 10 else f"shared-{number}"
            stored = writer.store(delivery(delivery_id))
            with lock:
                answers[f"{thread}:{delivery_id}"] = stored

    threads = [threading.Thread(target=send, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored_ids = sorted(key.split(":", 1)[1] for key, stored in answers.items() if stored)
    assert stored_ids == sorted(row.delivery_id for row in rows(database))
    assert len(stored_ids) == 10 + 6 * 15


def test_the_plain_engine_serves_a_database_the_fast_writers_do_not(tmp_path: Path) -> None:
    database = Database("sqlite://", migrate=True)  # in memory: a second connection would see another database
    try:
        opened = open_writer(database, threads=2, group_commit=True)
        assert isinstance(opened, EngineWriter)
        assert opened.store(delivery("m-1")) is True and opened.store(delivery("m-1")) is False
        with pytest.raises(ShopMissing):
            opened.store(delivery("m-2", shop_id=42))
    finally:
        database.dispose()


class _Recording:
    """A batch writer that fails every batch holding a poisoned delivery, and records the batches it saw."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.waiting = threading.Event()

    def store(self, item: Delivery) -> bool:
        return self.store_many([item])[0]

    def store_many(self, deliveries: Sequence[Delivery]) -> list[bool]:
        self.waiting.set()
        self.release.wait()
        self.batches.append([item.delivery_id for item in deliveries])
        if any(item.delivery_id.startswith("poison") for item in deliveries):
            raise ShopMissing()
        return [True] * len(deliveries)

    def close(self) -> None:
        pass


def test_group_commit_writes_what_arrived_together_and_a_bad_delivery_fails_only_itself() -> None:
    recording = _Recording()
    group = GroupCommit(recording, max_batch=16)
    outcomes: dict[str, object] = {}

    def send(delivery_id: str) -> None:
        try:
            outcomes[delivery_id] = group.store(delivery(delivery_id))
        except ShopMissing as error:
            outcomes[delivery_id] = error

    threads = [threading.Thread(target=send, args=(name,)) for name in ("first", "x1", "poison", "x2")]
    threads[0].start()
    while not recording.waiting.is_set():  # "first" found nobody writing and waits in store_many itself
        pass
    for thread in threads[1:]:
        thread.start()
    while len(group._queue) < 3:
        pass
    recording.release.set()
    for thread in threads:
        thread.join()
    group.close()
    assert recording.batches[0] == ["first"]
    assert sorted(recording.batches[1]) == ["poison", "x1", "x2"]  # the three that queued behind it, together
    assert sorted(sum(recording.batches[2:], [])) == ["poison", "x1", "x2"]  # then again one by one
    assert outcomes["first"] is True and outcomes["x1"] is True and outcomes["x2"] is True
    assert isinstance(outcomes["poison"], ShopMissing)


class FakeConnection:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_the_postgres_writers_connections_are_reused_kept_to_a_bound_and_renewed_when_old() -> None:
    opened: list[FakeConnection] = []
    now = [0.0]

    def connect() -> FakeConnection:
        opened.append(FakeConnection(len(opened)))
        return opened[-1]

    pool = Connections(connect, keep=2, max_age=60.0, clock=lambda: now[0])
    first, at, reused = pool.take()
    assert (first.number, reused) == (0, False)
    pool.give_back(first, at)
    again, again_at, reused = pool.take()
    assert again is first and reused is True
    taken = [again, pool.take()[0], pool.take()[0]]  # three at once: two new ones opened
    assert [c.number for c in taken] == [0, 1, 2]
    for connection in taken:
        pool.give_back(connection, again_at)
    assert [c.closed for c in taken] == [False, False, True]  # only `keep` stay idle
    now[0] = 61.0  # past max_age: idle ones are closed, not handed out
    fresh, _at, reused = pool.take()
    assert fresh.number == 3 and reused is False and taken[0].closed and taken[1].closed
    fresh.closed = True  # a connection that failed is not kept
    pool.give_back(fresh, now[0])
    assert pool.take()[0].number == 4
    pool.close()


def test_an_idle_connection_the_server_dropped_is_replaced_and_the_delivery_stored(database: Database) -> None:
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL's connections only")
    opened = open_writer(database, threads=2, group_commit=False)
    try:
        assert isinstance(opened, PostgresWriter) and opened.store(delivery("before")) is True
        assert opened._connections.idle() == 1
        idle, opened_at, reused = opened._connections.take()  # the one idle connection, put back as it was
        assert reused is True
        opened._connections.give_back(idle, opened_at)
        with database.engine.connect() as admin:  # the server ends the writer's idle connection
            ended = admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": idle.connection.info.backend_pid}).scalar()
            admin.commit()
        assert ended is True
        assert opened.store(delivery("after")) is True
        assert idle.closed
        assert opened.store(delivery("after")) is False
    finally:
        opened.close()
    assert sorted(row.delivery_id for row in rows(database)) == ["after", "before"]


def test_the_postgres_writer_refuses_a_nul_and_raises_the_servers_own_errors(database: Database) -> None:
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL's writer only")
    import psycopg

    opened = open_writer(database, threads=2, group_commit=False)
    try:
        with pytest.raises(ValueError, match="NUL"):  # libpq would have cut the id short at the NUL, silently
            opened.store(delivery("cut\x00short"))
        with pytest.raises(psycopg.errors.NumericValueOutOfRange):  # the server's error, as psycopg names it
            opened.store(delivery("too-big", shop_id=2**40))
        assert opened.store(delivery("fine")) is True  # the failed connection was not handed out again
    finally:
        opened.close()
    assert [row.delivery_id for row in rows(database)] == ["fine"]


def test_group_commit_writes_a_lone_delivery_in_the_requests_own_thread() -> None:
    recording = _Recording()
    recording.release.set()
    threads_before = threading.active_count()
    group = GroupCommit(recording, max_batch=16)
    seen: list[int] = []
    original = recording.store_many

    def store_many(deliveries: Sequence[Delivery]) -> list[bool]:
        seen.append(threading.get_ident())
        return original(deliveries)

    recording.store_many = store_many  # type: ignore[method-assign]
    assert group.store(delivery("alone")) is True and group.store(delivery("later")) is True
    assert seen == [threading.get_ident()] * 2 and recording.batches == [["alone"], ["later"]]
    assert threading.active_count() == threads_before  # no collector thread
    group.close()


def test_inbox_bodies_are_compressed_with_lz4_on_postgresql(database: Database) -> None:
    if database.dialect != "postgresql":
        pytest.skip("a PostgreSQL column setting")
    with database.engine.connect() as connection:
        available = "lz4" in connection.execute(text(
            "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar_one()
        method = connection.execute(text(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = 'inbox'::regclass AND attname = 'body'")).scalar_one()
    assert method == ("l" if available else "")


def test_the_postgres_parameters_follow_the_inserts_placeholder_order() -> None:
    import json

    from connector.pipeline.intake import ROW_VALUES
    from connector.pipeline.intake_postgres import encoded_row

    values = delivery("id-7", shop_id=41, omitted=99).values()
    expected = {"platform": b"shopify", "delivery_id": b"id-7", "topic": b"orders/create",
                "shop_domain": b"a.myshopify.com", "shop_id": b"41",
                "headers": json.dumps({"X-Shopify-Topic": "orders/create"}).encode(), "body": b"",
                "body_omitted": b"99", "received_at": b"2026-11-27 09:30:00.123456"}
    assert encoded_row(values) == [expected[name] for name in ROW_VALUES]


@given(st.dictionaries(st.text(), st.text(), max_size=8))
def test_the_headers_json_is_json_dumps_own_text(headers: dict[str, str]) -> None:
    import json

    from connector.pipeline.intake import headers_json

    assert headers_json(headers) == json.dumps(headers)
    assert json.loads(headers_json(headers)) == headers


def test_the_headers_json_escapes_what_a_forged_header_could_carry_and_refuses_a_non_string() -> None:
    import json

    from connector.pipeline.intake import headers_json

    tricky = {"X-Shopify-Topic": 'orders/create", "X-Injected": "1', "X-Back": "\\\n\t\x1f\u2028é"}
    assert json.loads(headers_json(tricky)) == tricky
    assert headers_json({}) == "{}"
    with pytest.raises(TypeError):
        headers_json({"X-Shopify-Topic": 7})  # type: ignore[dict-item]
