"""Tests' way to a migrated database: the migrations run once per test process and backend, and every new, empty
database is given the schema (and rows) they produced instead of running them all again.

Migrating a fresh database costs 0.09 s on SQLite and 0.25 s on PostgreSQL, and about 700 tests start
from one: that was a quarter of the suite's time. `install()` puts `fast_upgrade` in the place of
`connector.store.db.upgrade`, which `Database(migrate=True)` calls:

    an empty SQLite file          the template file migrated at first use, copied in with SQLite's backup API
    an empty PostgreSQL schema    pg_dump of the template schema migrated at first use (DDL and rows), replayed
                                  under the test's schema name, with the migrations' advisory lock held
    anything else                 the real upgrade: a database with tables in it (the migration tests' own,
                                  one revision behind, ...), an in-memory SQLite, no pg_dump on the PATH or
                                  one that cannot dump the server (older than it)

So the migrations still run, once per process on each backend, and what a test gets is exactly what they make;
`tests/test_store.py` compares that with the models. Processes a test starts migrate for real.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from connector.store import db

_real_upgrade = db.upgrade
_lock = threading.Lock()
_sqlite_template: Path | None = None
# server URL -> (the template's schema name, its dump), or None where pg_dump could not dump it (a pg_dump
# older than the server refuses to): that server's tests then migrate each schema for real.
_postgres_scripts: dict[str, tuple[str, str] | None] = {}


def install() -> None:
    db.upgrade = fast_upgrade  # ensure_schema looks it up at each call


def fast_upgrade(engine: Engine) -> None:
    if db.is_sqlite(engine):
        path = db.sqlite_file(engine.url.render_as_string(hide_password=False))
        if path is not None and _sqlite_copy(engine):
            return
    elif engine.dialect.name == "postgresql" and shutil.which("pg_dump") and _postgres_replay(engine):
        return
    _real_upgrade(engine)


def _sqlite_copy(engine: Engine) -> bool:
    global _sqlite_template
    with _lock:
        if _sqlite_template is None:
            folder = Path(tempfile.mkdtemp(prefix="connector-template-"))
            atexit.register(shutil.rmtree, folder, True)
            template = db.make_engine(f"sqlite:///{folder}/template.db")
            _real_upgrade(template)
            template.dispose()
            _sqlite_template = folder / "template.db"
    raw = engine.raw_connection()
    try:
        target = raw.driver_connection
        assert isinstance(target, sqlite3.Connection)
        if target.execute("SELECT count(*) FROM sqlite_master").fetchone() != (0,):
            return False
        source = sqlite3.connect(_sqlite_template)
        try:
            source.backup(target)
        finally:
            source.close()
        return True
    finally:
        raw.close()


def _postgres_replay(engine: Engine) -> bool:
    server = engine.url.set(query={}).render_as_string(hide_password=False)
    dumped = _postgres_script(server)  # first: making it takes the migrations' lock itself
    if dumped is None:
        return False
    template, script = dumped
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": db._MIGRATION_LOCK_ID})
        try:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
            tables = connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = :schema"),
                                        {"schema": schema}).scalar_one()
            if tables:
                return False
            # The dump names every object with its schema; the template's name is random, so it names nothing
            # else. Sent as one simple query (psycopg's execute without parameters): many statements, one trip.
            driver = connection.connection.driver_connection
            assert driver is not None
            driver.execute(script.replace(f"{template}.", f'"{schema}".'))
            connection.commit()
            return True
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": db._MIGRATION_LOCK_ID})
            connection.commit()


def _postgres_script(server: str) -> tuple[str, str] | None:
    with _lock:
        if server not in _postgres_scripts:
            schema = f"template_{uuid.uuid4().hex[:12]}"
            admin = create_engine(server)
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                template = db.make_engine(make_url(server).update_query_dict(
                    {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False))
                _real_upgrade(template)
                template.dispose()
                libpq = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
                dumped = subprocess.run(["pg_dump", "--schema", schema, "--no-owner", "--no-privileges", "--inserts",
                                         libpq], capture_output=True, text=True, check=False)
            finally:
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
            if dumped.returncode != 0:
                _postgres_scripts[server] = None
                return None
            # Without the dump's session settings (SET …, set_config of search_path), which would stay on the
            # test's pooled connection, and its psql meta-commands (\restrict), which only psql reads.
            statements = [line for line in dumped.stdout.splitlines() if not line.startswith(
                ("CREATE SCHEMA", "--", "SET ", "SELECT pg_catalog.set_config", "\\"))]
            _postgres_scripts[server] = (schema, "\n".join(statements))
        return _postgres_scripts[server]
