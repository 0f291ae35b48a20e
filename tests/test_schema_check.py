"""Reading never migrates (issue 15): a read on a database behind this version's migration changes nothing
and stops with a message naming both revisions; `db upgrade` and the documented entry points migrate."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, inspect

from connector.cli import cli
from connector.store.db import alembic_config, head_revision, make_engine
from tests.conftest import TEST_SECRET_KEY

VERSIONS = sorted(path.stem for path in (Path(__file__).parents[1] / "connector/store/migrations/versions").glob("0*.py"))


def run(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"DATABASE_URL": database_url, "CONNECTOR_SECRET_KEY": TEST_SECRET_KEY})


def tables(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        return sorted(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_read_on_an_unmigrated_database_creates_nothing_and_says_run_db_upgrade(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_engine(database_url).dispose()  # the database exists (an empty SQLite file, an empty schema), never migrated
    head = VERSIONS[-1]
    for args in (["shops", "list"], ["actions", "list", "--json"]):
        result = run(database_url, *args)
        assert result.exit_code == 2, result.output
        assert result.stderr.strip() == (f"error: the database is at revision none (never migrated), this version "
                                         f"expects {head}: run `connector db upgrade`")
    assert tables(database_url) == []
    assert run(database_url, "db", "upgrade").exit_code == 0
    assert run(database_url, "shops", "list").exit_code == 0


def test_a_database_one_migration_behind_is_named_and_left_as_it_is(sqlite_url: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine(sqlite_url)
    try:
        command.upgrade(alembic_config(engine), VERSIONS[-2])
        assert head_revision(engine) == VERSIONS[-1]
    finally:
        engine.dispose()
    before = tables(sqlite_url)
    result = run(sqlite_url, "deliveries", "list")
    assert result.exit_code == 2
    assert f"the database is at revision {VERSIONS[-2]}, this version expects {VERSIONS[-1]}: " \
           "run `connector db upgrade`" in result.stderr
    assert tables(sqlite_url) == before


def test_a_read_of_a_missing_sqlite_file_does_not_create_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "data" / "connector.db"
    result = run(f"sqlite:///{path}", "shops", "list")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: there is no database at {path}: run `connector db upgrade` to create it"
    assert not path.exists() and not path.parent.exists()
