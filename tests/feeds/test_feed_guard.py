"""Issue 14, finding 1 (a bad feed never reaches a customer) and finding 5 (big feeds): the import guard and streaming.

A feed with no valid row, or one that lost more than FEED_MAX_SHRINK of the previous import's rows or
units, is refused whole: non-zero exit, the refusal recorded and shown, the previous rows in force,
and nothing reconciled because of it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from connector.cli import cli
from connector.feeds import reader as feed_reader
from connector.feeds.importer import import_feed
from connector.feeds.parse import parse_feed
from connector.feeds.reader import FeedReader
from connector.pipeline.reconcile import load_supply
from connector.pipeline.scheduler import FEED_REFRESH, RECONCILE, ensure_all_jobs, run_due_jobs
from connector.services import Services
from connector.store.models import Action, FeedImport, Job, Shop, Supplier, SupplyItem, utcnow
from tests.conftest import make_settings

GOOD = "sku,available,restock_date\n" + "".join(f"SKU-{n},{n},2026-12-{n % 27 + 1:02d}\n" for n in range(1, 21))
ALL_BAD = "sku,available,restock_date\nA,-1,\nB,lots,\n,3,\nC,1,31/12/2026\nD,,2026-13-40\n"


def skus(services: Services, supplier: str = "acme") -> list[str]:
    with services.db.session() as session:
        return list(session.scalars(
            select(SupplyItem.sku).join(Supplier, Supplier.id == SupplyItem.supplier_id)
            .where(Supplier.name == supplier).order_by(SupplyItem.line_no)))


def run_cli(services: Services, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), obj=services, input=input, catch_exceptions=False)


def test_a_feed_with_no_valid_row_is_refused_whole_and_the_old_rows_stay(services: Services, tmp_path: Path) -> None:
    good = tmp_path / "acme.csv"
    good.write_text(GOOD)
    assert run_cli(services, "feeds", "import", str(good), "--supplier", "acme").exit_code == 0
    bad = tmp_path / "acme-today.csv"
    bad.write_text(ALL_BAD)

    result = run_cli(services, "feeds", "import", str(bad), "--supplier", "acme")

    assert result.exit_code == 2
    assert "refused whole: no valid rows (all 5 rows were rejected)" in result.output
    assert "acme's previous 20 rows stay in force" in result.output
    assert skus(services) == [f"SKU-{n}" for n in range(1, 21)]
    with services.db.session() as session:
        supplier = session.scalars(select(Supplier)).one()
        assert supplier.is_refused and "no valid rows" in (supplier.refused_reason or "")
        assert supplier.row_count == 20 and supplier.source == str(good)  # what is in force did not move
        outcomes = [i.outcome for i in session.scalars(select(FeedImport).order_by(FeedImport.id))]
        assert outcomes == ["imported", "refused"]
    listing = json.loads(run_cli(services, "feeds", "list", "--json").stdout)
    assert listing[0]["refused"] is True and listing[0]["rows"] == 20
    table = run_cli(services, "feeds", "list").stdout
    assert "REFUSED" in table
    assert "no valid rows" in listing[0]["refused_reason"]


def test_a_feed_that_shrinks_past_the_limit_is_refused_unless_allowed(services: Services, tmp_path: Path) -> None:
    good = tmp_path / "acme.csv"
    good.write_text(GOOD)
    run_cli(services, "feeds", "import", str(good), "--supplier", "acme")
    small = tmp_path / "acme-small.csv"
    small.write_text("sku,available\nSKU-1,1\nSKU-2,2\n")

    refused = run_cli(services, "feeds", "import", str(small), "--supplier", "acme")
    assert refused.exit_code == 2
    assert "it has 2 rows where the previous import had 20 (down 90%" in refused.output
    assert "--allow-shrink" in refused.output
    assert len(skus(services)) == 20

    allowed = run_cli(services, "feeds", "import", str(small), "--supplier", "acme", "--allow-shrink")
    assert allowed.exit_code == 0, allowed.output
    assert skus(services) == ["SKU-1", "SKU-2"]


def test_a_feed_whose_units_collapse_is_refused_too(services: Services, tmp_path: Path) -> None:
    with services.db.session() as session:
        import_feed(session, _write(tmp_path / "a.csv", "sku,available\nA,100\nB,100\n"), "acme")
    with services.db.session() as session:
        result = import_feed(session, _write(tmp_path / "b.csv", "sku,available\nA,1\nB,1\n"), "acme", max_shrink=0.5)
    assert result.refused and "units where the previous import had 200" in (result.reason or "")
    with services.db.session() as session:
        assert session.scalar(select(func.sum(SupplyItem.available))) == 200


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_a_refused_url_refresh_is_recorded_and_triggers_nothing(services: Services, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.feeds import importer
    from connector.feeds.importer import Fetched

    bodies = [GOOD.encode(), ALL_BAD.encode()]
    monkeypatch.setattr(importer, "fetch", lambda source, **_: Fetched(bodies[0], etag=None))
    with services.db.session() as session:
        shop = Shop(platform="shopify", domain="a.myshopify.com", name="A", settings={}, active=True)
        session.add(shop)
        session.flush()
        import_feed(session, "https://supplier.example/feed.csv", "acme")
    ensure_all_jobs(services)
    with services.db.session() as session:
        session.execute(Job.__table__.update().where(Job.kind == RECONCILE).values(next_run_at=utcnow().replace(year=2100)))
        session.execute(Job.__table__.update().where(Job.kind == FEED_REFRESH).values(next_run_at=utcnow()))
    bodies.pop(0)

    assert run_due_jobs(services, kinds=(FEED_REFRESH,)) == 1

    with services.db.session() as session:
        job = session.scalar(select(Job).where(Job.kind == FEED_REFRESH))
        assert job.last_status == "refused"
        supplier = session.scalars(select(Supplier)).one()
        assert supplier.is_refused and supplier.row_count == 20
        reconcile = session.scalar(select(Job).where(Job.kind == RECONCILE))
        assert reconcile.next_run_at.year == 2100  # nothing was marked due
        assert session.scalar(select(func.count()).select_from(Action)) == 0
    assert len(skus(services)) == 20


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_streaming_across_small_chunks_reads_what_a_whole_read_does(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"sku": f"SKU-{n}", "available": n if n % 7 else -1, "restock_date": "2026-12-05" if n % 3 else ""}
            for n in range(300)]
    if fmt == "csv":
        data = ("sku,available,restock_date\r\n" + "".join(f'"{r["sku"]}",{r["available"]},{r["restock_date"]}\r\n'
                                                            for r in rows)).encode()
    else:
        data = json.dumps({"supplier": "x", "items": rows}, indent=1).encode()
    whole = parse_feed(data, f"feed.{fmt}")
    monkeypatch.setattr(feed_reader, "CHUNK_BYTES", 7)  # every value and line crosses chunk boundaries
    streamed = FeedReader(io.BytesIO(data), f"feed.{fmt}", fmt=fmt, keep_rejected=None)  # type: ignore[arg-type]
    got = [row for batch in streamed.batches(size=16) for row in batch]
    assert [(r.sku, r.available, r.restock_date, r.line) for r in got] == [
        (r.sku, r.available, r.restock_date, r.line) for r in whole.rows]
    assert [(r.line, r.reason) for r in streamed.tally.rejected] == [(r.line, r.reason) for r in whole.rejected]
    assert streamed.tally.rows == len(got) and streamed.tally.rejected_count == len(whole.rejected) > 0


def test_rejected_rows_are_counted_all_but_kept_only_up_to_a_limit() -> None:
    data = ("sku,available\n" + "".join(f"S{n},-1\n" for n in range(50)) + "OK,1\n").encode()
    reader = FeedReader(io.BytesIO(data), "f.csv", fmt="csv", keep_rejected=10)
    assert sum(len(batch) for batch in reader.batches()) == 1
    assert reader.tally.rejected_count == 50 and len(reader.tally.rejected) == 10


def test_import_reports_progress_up_to_the_whole_file(services: Services, tmp_path: Path) -> None:
    path = Path(_write(tmp_path / "acme.csv", GOOD))
    seen: list[tuple[int, int]] = []
    with services.db.session() as session:
        import_feed(session, str(path), "acme", progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (path.stat().st_size, path.stat().st_size)


def test_reconcile_reads_only_the_supply_of_skus_open_lines_ask_for(services: Services, tmp_path: Path) -> None:
    rows = "sku,available\n" + "".join(f"OTHER-{n},5\n" for n in range(2000))
    with services.db.session() as session:
        import_feed(session, _write(tmp_path / "big.csv", rows), "acme")
        shop = Shop(platform="shopify", domain="a.myshopify.com", name="A", settings={}, active=True)
        session.add(shop)
        session.flush()
        assert load_supply(session, shop.id) == []  # no open order line: nothing read at all
        assert session.scalar(select(func.count()).select_from(SupplyItem)) == 2000


def test_settings_carry_the_shrink_limit(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(database_url, tmp_path, feed_max_shrink=0.2)
    assert settings.feed_max_shrink == 0.2


def test_a_zero_from_json_is_a_zero_not_a_blank() -> None:
    parsed = parse_feed(b'[{"sku": "A", "available": 0, "restock_qty": 0, "lead_time_days": 0, "restock_date": null}]',
                        "f.json")
    [row] = parsed.rows
    assert (row.available, row.restock_qty, row.lead_time_days, row.restock_date) == (0, 0, 0, None)
