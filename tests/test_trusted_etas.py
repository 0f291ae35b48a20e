"""Trusted ETAs over stored data: receipts from a file, arrivals inferred by a sync, ETAs dated from the model,
supplier scorecards and the lateness CSV that `plan --lateness` reads back."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from connector.cli import cli
from connector.engine import Policy
from connector.feeds.importer import import_feed
from connector.pipeline.reconcile import reconcile_shop
from connector.pipeline.sync import sync_shop
from connector.platforms.base import RemoteLine, RemoteOrder, StockRecord
from connector.services import Services
from connector.store.models import OrderDecision, Shop, SupplyPromise, SupplyReceipt
from connector.store.repo import store_stock, upsert_order
from tests.fakes import FakePlatform

EXAMPLES = Path(__file__).parent.parent / "examples"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def run_cli(services: Services, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), obj=services, catch_exceptions=False)


def remote(order_id: str, sku: str, quantity: int) -> RemoteOrder:
    return RemoteOrder(order_id, f"#{order_id}", T0, T0, True, "open",
                       (RemoteLine(f"{order_id}-1", sku, quantity, quantity),))


def feed(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def history(services: Services, tmp_path: Path, late_days: list[int]) -> None:
    """`acme` promised MUG on 1 October (lead 0) once per delivery, each late by the given days."""
    rows = "".join(f"MUG,2026-10-01,1,0,PO-{n}\n" for n in range(len(late_days)))
    receipts = "".join(f"acme,MUG,1,{date(2026, 10, 1) + timedelta(days=late)},PO-{n}\n"
                       for n, late in enumerate(late_days))
    with services.db.session() as session:
        import_feed(session, feed(tmp_path, "old.csv", "sku,restock_date,restock_qty,lead_time_days,reference\n" + rows),
                    "acme")
    result = run_cli(services, "supplies", "receive",
                     feed(tmp_path, "r.csv", "supplier,sku,quantity,received_on,reference\n" + receipts))
    assert result.exit_code == 0, result.output


def test_receive_reports_bad_rows_by_line_and_settles_the_rest(services: Services, tmp_path: Path) -> None:
    with services.db.session() as session:
        import_feed(session, feed(tmp_path, "a.csv", "sku,restock_date,restock_qty,lead_time_days\nMUG,2026-12-01,5,0\n"),
                    "acme")
    receipts = feed(tmp_path, "r.csv", "supplier,sku,quantity,received_on\nacme,MUG,5,2026-12-04\n"
                    "acme,MUG,-2,2026-12-04\n,MUG,1,2026-12-04\nacme,MUG,1,04/12/2026\n")
    result = run_cli(services, "supplies", "receive", receipts)
    assert result.exit_code == 0
    assert f"{receipts}, line 3: quantity: negative quantity -2 (row skipped)" in result.stderr
    assert f"{receipts}, line 4: missing supplier (row skipped)" in result.stderr
    assert "line 5: received_on: unknown date format '04/12/2026'" in result.stderr
    assert "1 receipt(s) recorded (0 already known), 5 unit(s) settled 1 promise(s)" in result.stdout
    again = run_cli(services, "supplies", "receive", receipts)
    assert "0 receipt(s) recorded (1 already known)" in again.stdout
    with services.db.session() as session:
        assert session.scalars(select(SupplyPromise.status)).all() == ["received"]
    missing = run_cli(services, "supplies", "receive", feed(tmp_path, "bad.csv", "sku,quantity\nMUG,1\n"))
    assert missing.exit_code == 2 and "missing column(s) supplier, received_on" in missing.stderr


def test_json_receipts_name_the_item(services: Services, tmp_path: Path) -> None:
    path = feed(tmp_path, "r.json", json.dumps([{"supplier": "acme", "sku": "MUG", "quantity": 2,
                                                 "received_on": "2026-12-01"}, {"sku": "MUG"}]))
    result = run_cli(services, "supplies", "receive", path)
    assert "item 2: missing supplier; quantity: expected a whole number above 0; received_on: missing" in result.stderr
    assert "2 unit(s) matched no open promise" in result.stdout


def test_a_sync_infers_an_arrival_from_a_stock_rise_and_can_be_switched_off(services: Services, tmp_path: Path) -> None:
    with services.db.session() as session:
        shop = Shop(platform="shopify", domain="fake.myshopify.com", name="Fake")
        session.add(shop)
        session.flush()
        shop_id = shop.id
        import_feed(session, feed(tmp_path, "a.csv", "sku,restock_date,restock_qty,lead_time_days\nMUG,2026-12-01,4,0\n"),
                    "acme")
    platform = FakePlatform(stock=[StockRecord("MUG", "default", 0)])
    sync_shop(services.db, shop_id, platform, today=date(2026, 12, 2))
    platform.stock = [StockRecord("MUG", "default", 4)]
    sync_shop(services.db, shop_id, platform, infer_arrivals=False, today=date(2026, 12, 3))
    with services.db.session() as session:
        assert session.scalars(select(SupplyReceipt)).all() == []  # switched off: nothing inferred
        store_stock(session, shop_id, [StockRecord("MUG", "default", 0)], complete=True)
    sync_shop(services.db, shop_id, platform, today=date(2026, 12, 5))
    with services.db.session() as session:
        receipt = session.scalars(select(SupplyReceipt)).one()
        assert (receipt.source, receipt.quantity, receipt.received_on) == ("inferred", 4, date(2026, 12, 5))
        assert session.scalars(select(SupplyPromise.status)).all() == ["received"]


def test_reconcile_dates_promises_from_learned_lateness(services: Services, tmp_path: Path) -> None:
    history(services, tmp_path, [10] * 10)  # acme is always ten days late
    with services.db.session() as session:
        shop = Shop(platform="shopify", domain="fake.myshopify.com", name="Fake")
        session.add(shop)
        session.flush()
        store_stock(session, shop.id, [StockRecord("MUG", "default", 0)], complete=True)
        upsert_order(session, shop.id, remote("1", "MUG", 1))
        import_feed(session, feed(tmp_path, "new.csv", "sku,restock_date,restock_qty,lead_time_days\n"
                                  "MUG,2026-12-01,3,2\n"), "acme", force=True, allow_shrink=True)
        naive = reconcile_shop(session, shop, date(2026, 11, 26), Policy(learn_lateness=False), dry_run=True)
        learned = reconcile_shop(session, shop, date(2026, 11, 26), Policy())
        assert naive.plan.orders[0].eta == date(2026, 12, 4)  # 12-01 + 2 lead + 1 handling
        line = learned.plan.orders[0].lines[0]
        # Ten samples of 10 days (k=5 prior is the same samples): every quantile is 10.
        assert (line.eta, line.eta_earliest, line.eta_latest) == (date(2026, 12, 14),) * 3
        assert "+10d learned lateness" in (line.eta_source or "")
        assert session.scalars(select(OrderDecision.eta)).one() == date(2026, 12, 14)


def test_scorecard_and_lateness_csv_round_trip_into_plan(services: Services, tmp_path: Path) -> None:
    history(services, tmp_path, [0, 0, 0, 0, 14, 14, 14, 14, 2, 2])
    listed = run_cli(services, "suppliers", "list", "--json")
    [card] = json.loads(listed.stdout)
    assert card["supplier"] == "acme" and card["deliveries"] == 10 and card["on_time_rate"] == 0.4
    assert (card["p50_days"], card["p80_days"], card["p90_days"]) == (2, 14, 14)
    assert (card["open_promises"], card["units_on_order"]) == (0, 0)
    table = run_cli(services, "suppliers", "list")
    assert "acme" in table.stdout and "40%" in table.stdout
    exported = run_cli(services, "suppliers", "lateness", "--csv").stdout
    assert exported.splitlines() == ["supplier,sku,samples,p50_days,p80_days,p90_days", "acme,,10,2,14,14",
                                     "acme,MUG,10,2,14,14"]
    model = tmp_path / "lateness.csv"
    model.write_text(exported.replace("acme", "globex"))
    args = ["plan", "--platform", "shopify", "--orders", str(EXAMPLES / "orders_shopify.json"),
            "--inventory", str(EXAMPLES / "inventory.csv"), "--feed", str(EXAMPLES / "feeds/acme.csv"),
            "--feed", str(EXAMPLES / "feeds/globex.json"), "--map", "item_code=sku", "--map", "eta=restock_date",
            "--as-of", "2026-11-26", "--json"]
    before = {o["order_name"]: o for o in json.loads(CliRunner().invoke(cli, args).stdout)["orders"]}
    after = {o["order_name"]: o for o in json.loads(CliRunner().invoke(cli, [*args, "--lateness", str(model)]).stdout)["orders"]}
    assert before["#1004"]["eta"] == "2026-12-09"  # globex restock 12-05 + 3 lead + 1
    assert (after["#1004"]["eta"], after["#1004"]["eta_earliest"], after["#1004"]["eta_latest"]) == (
        "2026-12-23", "2026-12-11", "2026-12-23")
    bad = tmp_path / "bad.csv"
    bad.write_text("supplier,sku,samples,p50_days,p80_days,p90_days\nacme,,3,9,2,1\n")
    refused = CliRunner().invoke(cli, [*args, "--lateness", str(bad)])
    assert refused.exit_code == 2 and "line 2: samples must not be negative and p50 <= p80 <= p90" in refused.stderr
