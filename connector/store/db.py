"""Database engine and sessions, migrations, and the check that the schema is the one this version expects.

Opening a database never changes its schema: it only checks that the database is at this version's
migration (and fails with `SchemaOutOfDate`, naming both revisions, when it is not). Migrations run
from `connector db upgrade` and from the entry points that say they do (`serve`, `worker`, `demo`),
which open it with `Database(url, migrate=True)`.
"""

from __future__ import annotations

import os

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, CursorResult, Engine, Executable, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from connector.errors import ConfigError, SchemaOutOfDate

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Serialises concurrent upgrades in PostgreSQL when several workers start together.
_MIGRATION_LOCK_ID = 0x6261636B  # "back"
_upgraded: weakref.WeakSet[Engine] = weakref.WeakSet()
_checked: weakref.WeakSet[Engine] = weakref.WeakSet()
UPGRADE_HINT = "run `connector db upgrade`"
_upgrade_guard = threading.Lock()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


READ_ONLY = "connector_read_only"


def _begin_immediate(connection: Any) -> None:
    # A deferred transaction that reads first and writes later fails at once with "database is
    # locked" when another connection wrote in between (the busy timeout does not apply to that
    # upgrade). Taking the write lock at BEGIN makes writers queue on the busy timeout instead.
    # A connection opened by `Database.reading` only reads: it takes no write lock, so it can run
    # while a session of the same process holds it.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten, not left in free pages: erased personal data must really go.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def rows_changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and say how many rows it changed (the driver's row count)."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult), "an UPDATE or DELETE answers a cursor result"
    return int(result.rowcount or 0)


def _create_private(path: Path) -> None:
    """Create a new SQLite file readable by its owner only (0600): it holds customer data and sealed
    credentials. SQLite gives its -wal and -shm files the same mode. An existing file is left as it is."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite files get their folder created, WAL and foreign keys."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - SQLAlchemy's URL parser raises several types; all mean a bad URL
        raise ConfigError("DATABASE_URL", "is not a valid database URL") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            _create_private(Path(database))
        # isolation_level=None hands transaction control to SQLAlchemy, which issues BEGIN IMMEDIATE.
        engine = create_engine(url, connect_args={"timeout": 30, "isolation_level": None},
                               hide_parameters=True, **kwargs)
        event.listen(engine, "connect", sqlite_pragmas)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    # hide_parameters keeps customer data and secrets out of error messages stored and logged.
    # No pre-ping: it costs a round trip on every checkout, on the webhook hot path. A connection
    # that died with a database restart fails one request (the store redelivers, the worker retries)
    # and is then discarded by the pool; pool_recycle retires connections a proxy may have dropped.
    return create_engine(url, pool_recycle=1800, hide_parameters=True, **kwargs)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied; safe to call from several processes at once."""
    config = alembic_config(engine)
    if is_sqlite(engine):
        command.upgrade(config, "head")
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID})
            connection.commit()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for a database never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def revisions_between(engine: Engine, before: str | None, after: str | None) -> list[str]:
    """The migrations (oldest first) that take a database from `before` to `after`, as "id: what"."""
    if after is None or before == after:
        return []
    script = ScriptDirectory.from_config(alembic_config(engine))
    steps = list(script.iterate_revisions(after, before or "base"))
    return [f"{rev.revision}: {(rev.doc or '').splitlines()[0] if rev.doc else ''}".rstrip(": ") for rev in reversed(steps)]


def head_revision(engine: Engine) -> str:
    """The migration this version of the connector expects the database to be at."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None, "the connector ships at least one migration"
    return head


def ensure_schema(engine: Engine) -> None:
    """Migrate once per engine; the entry points that document it call this (through `Database(migrate=True)`).

    Not once per URL: a SQLite file deleted and created again under the same URL (the demo run twice
    in one process) is a new, empty database. Checking an up-to-date database costs a few milliseconds.
    """
    with _upgrade_guard:
        if engine in _upgraded:
            return
        try:
            upgrade(engine)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - any driver or migration failure becomes one config error
            raise ConfigError("DATABASE_URL", f"cannot open or migrate the database: {type(exc).__name__}: {exc}") from None
        _upgraded.add(engine)
        _checked.add(engine)


def check_schema(engine: Engine) -> None:
    """Fail with `SchemaOutOfDate` unless the database is at this version's migration; reads one row."""
    if engine in _checked:
        return
    try:
        current = current_revision(engine)
    except Exception as exc:  # noqa: BLE001 - any driver failure becomes one config error
        raise ConfigError("DATABASE_URL", f"cannot open the database: {type(exc).__name__}: {exc}") from None
    expected = head_revision(engine)
    if current != expected:
        at = current or "none (never migrated)"
        raise SchemaOutOfDate(f"the database is at revision {at}, this version expects {expected}: {UPGRADE_HINT}")
    _checked.add(engine)


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for other databases and in-memory SQLite)."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - make_engine reports the bad URL
        return None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


class Database:
    """One engine and its session factory.

    `migrate=True` applies pending migrations (for the entry points that document it); otherwise the
    database must already be at this version's migration (`check=False` skips even that, for
    `connector db upgrade`'s look at where it is). A SQLite file that does not exist is not created then.
    """

    def __init__(self, url: str, *, migrate: bool = False, check: bool = True, **engine_kwargs: Any) -> None:
        self.url = url
        path = sqlite_file(url)
        if not migrate and check and path is not None and not path.exists():
            raise SchemaOutOfDate(f"there is no database at {path}: {UPGRADE_HINT} to create it")
        self.engine = make_engine(url, **engine_kwargs)
        try:
            if migrate:
                ensure_schema(self.engine)
            elif check:
                check_schema(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A plain connection for reads only, in one transaction that takes no write lock on SQLite:
        for reading while another session of this process is half-way through a write (a sync storing
        orders as a bulk export's staged lines are read back)."""
        with self.engine.connect() as connection:
            connection.execution_options(**{READ_ONLY: True})
            with connection.begin():
                yield connection

    def transaction(self) -> Any:
        """A plain connection in one transaction (committed on success): for hot paths that need one
        statement and none of the ORM's bookkeeping, such as storing a webhook delivery."""
        return self.engine.begin()

    def purge_deleted_pages(self) -> None:
        """After an erasure: on SQLite, fold the write-ahead log (which still holds the old pages)
        into the database file and empty it. PostgreSQL's own vacuum takes care of dead rows."""
        if self.dialect != "sqlite":
            return
        # On the driver's own connection: a checkpoint cannot run inside the transaction SQLAlchemy begins.
        connection = self.engine.raw_connection()
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()

    def dispose(self) -> None:
        self.engine.dispose()
