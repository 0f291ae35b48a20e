"""Reorder advice over stored data: demand from order history (cancelled excluded), feeds, `connector stock advice`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli import cli
from connector.engine import Policy
from connector.engine.reorder import AdviceSettings
from connector.engine.demand import is_cancelled
from connector.pipeline.advice import ADVICE_COLUMNS, advice_to_dict, shop_advice, shop_demand
from connector.platforms.base import RemoteLine, RemoteOrder, StockRecord
from connector.services import Services
from connector.store.models import Shop, Supplier, SupplyItem
from connector.store.repo import store_stock, upsert_order
from tests.conftest import TEST_SECRET_KEY, make_settings

AS_OF = date(2026, 6, 30)


def sale(number: int, day: date, sku: str, units: int, *, status: str = "completed", is_open: bool = False,
         ) -> RemoteOrder:
    at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)
    return RemoteOrder(platform_id=str(number), name=f"#{number}", created_at=at, updated_at=at, is_open=is_open,
                       status=status, lines=(RemoteLine(platform_id=f"{number}-1", sku=sku, quantity=units,
                                                        open_quantity=units if is_open else 0),))


def seed(services: Services) -> int:
    """A shop with 60 days of history: BOLT sells 2/day with 40 in stock and a restock in 20 days
    (a backorder is likely); NUT sells 1/day with plenty; GEAR has one big cancelled order and one
    open order waiting for more than is in stock."""
    orders = []
    number = 1
    for back in range(60):
        day = AS_OF - timedelta(days=back)
        orders.append(sale(number, day, "BOLT", 2))
        orders.append(sale(number + 1, day, "NUT", 1))
        number += 2
    orders.append(sale(number, AS_OF - timedelta(days=3), "GEAR", 500, status="cancelled"))
    orders.append(sale(number + 1, AS_OF, "GEAR", 4, status="processing", is_open=True))
    with services.db.session() as session:
        shop = Shop(platform="woocommerce", domain="https://shop.example", name="Shop")
        session.add(shop)
        session.flush()
        store_stock(session, shop.id, [StockRecord("BOLT", "default", 40), StockRecord("NUT", "default", 500),
                                       StockRecord("GEAR", "default", 1)], complete=True)
        for remote in orders:
            upsert_order(session, shop.id, remote)
        acme = Supplier(scope="all", name="Acme", source="acme.csv")
        session.add(acme)
        session.flush()
        session.add_all([
            SupplyItem(supplier_id=acme.id, sku="BOLT", restock_date=AS_OF + timedelta(days=20), restock_qty=100,
                       lead_time_days=0, line_no=2),
            SupplyItem(supplier_id=acme.id, sku="NUT", available=1000, lead_time_days=5, line_no=3),
        ])
        return shop.id


def test_cancelled_statuses() -> None:
    assert is_cancelled("cancelled, paid") and is_cancelled("refunded") and is_cancelled("trash")
    assert not is_cancelled("closed, paid") and not is_cancelled("completed") and not is_cancelled(None)


def test_advice_over_stored_history(services: Services) -> None:
    shop_id = seed(services)
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        demand = shop_demand(session, shop, AS_OF, {"GEAR", "BOLT"})
        assert demand["GEAR"].units == 4  # the cancelled 500 count for nothing
        assert demand["BOLT"].days == 60 and demand["BOLT"].rate == pytest.approx(2.0)
        result = shop_advice(session, shop, AS_OF, Policy(), AdviceSettings())
    by_sku = {item.sku: item for item in result.items}
    assert result.items[0].sku == "GEAR"  # nothing is likely, so the backordered SKU leads
    bolt = by_sku["BOLT"]
    # 40 units at 2/day last exactly the 20 days until the restock arrives (40 - 2 * 20 = 0, not below).
    assert bolt.status == "ok"
    assert bolt.incoming == 100 and bolt.supplier == "Acme"
    assert by_sku["GEAR"].status == "backordered" and by_sku["GEAR"].open_demand == 4
    nut = by_sku["NUT"]
    assert (nut.status, nut.lead.days, nut.supplier) == ("ok", 5, "Acme")
    assert set(advice_to_dict(nut)) == set(ADVICE_COLUMNS)


def test_stock_advice_command(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    built = Services(make_settings(database_url, tmp_path), migrate=True)
    try:
        seed(built)
        with built.db.session() as session:
            item = session.query(SupplyItem).filter_by(sku="BOLT").one()
            item.restock_date = AS_OF + timedelta(days=30)  # now the stock runs out first
    finally:
        built.close()
    env = {"DATABASE_URL": database_url, "CONNECTOR_SECRET_KEY": TEST_SECRET_KEY, "DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()
    result = runner.invoke(cli, ["stock", "advice", "--as-of", AS_OF.isoformat()], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "backorder likely by 2026-07-21" in result.output
    assert "order from Acme" in result.output
    result = runner.invoke(cli, ["stock", "advice", "--json", "--as-of", AS_OF.isoformat(), "--service-level", "0.99",
                                 "--supplier", "Acme"], env=env, catch_exceptions=False)
    [document] = json.loads(result.output)
    assert document["service_level"] == 0.99
    first = document["skus"][0]
    assert (first["sku"], first["status"], first["backorder_likely_by"]) == ("BOLT", "likely", "2026-07-21")
    assert {row["supplier"] for row in document["skus"]} == {"Acme"}  # GEAR has no supplier: filtered out
    assert document["purchase"][0]["supplier"] == "Acme"
    bad = runner.invoke(cli, ["stock", "advice", "--supplier", "Nobody"], env=env)
    assert bad.exit_code != 0 and "no supplier named 'Nobody'" in bad.output
    bad = runner.invoke(cli, ["stock", "advice", "--service-level", "1.5"], env=env)
    assert bad.exit_code == 2


def test_learned_lateness_lengthens_and_spreads_the_lead_time(services: Services) -> None:
    from connector.engine.lateness import LatenessFigure, LatenessModel

    shop_id = seed(services)
    model = LatenessModel(suppliers={"Acme": LatenessFigure(12, {0.5: 2.0, 0.8: 3.0, 0.9: 4.0})})
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        plain = shop_advice(session, shop, AS_OF, Policy(learn_lateness=False), AdviceSettings()).for_sku("NUT")
        late = shop_advice(session, shop, AS_OF, Policy(), AdviceSettings(), lateness=model).for_sku("NUT")
    assert plain is not None and late is not None
    assert (plain.lead.days, plain.lead.std_days) == (5, 0)
    assert late.lead.days == 7 and late.lead.std_days == pytest.approx(2 / 1.2815516, abs=1e-4)
    # NUT sells exactly 1 a day (sd 0): SS = 1.645 * sqrt(7 * 0 + 1 * 1.5606²) = 2.57 -> 3, ROP = 7 + 2.57 -> 10
    assert (late.safety_stock, late.reorder_point) == (3, 10)
    assert (plain.safety_stock, plain.reorder_point) == (0, 5)
