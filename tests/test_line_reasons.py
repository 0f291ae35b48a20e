"""Reasons over stored data: a slipped promise from two feed imports, a surge from order history, stored per line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from connector.engine import Policy
from connector.feeds.importer import import_feed
from connector.pipeline.reconcile import reconcile_shop
from connector.platforms.base import RemoteLine, RemoteOrder, StockRecord
from connector.services import Services
from connector.store.models import LineDecision, OrderLine, Shop
from connector.store.repo import store_stock, upsert_order

AS_OF = date(2026, 11, 26)


def order(number: int, day: date, sku: str, units: int, *, is_open: bool = True, status: str = "processing",
          ) -> RemoteOrder:
    at = datetime(day.year, day.month, day.day, 9, tzinfo=UTC) + timedelta(minutes=number)
    return RemoteOrder(platform_id=str(number), name=f"#{number}", created_at=at, updated_at=at, is_open=is_open,
                       status=status, lines=(RemoteLine(platform_id=f"{number}-1", sku=sku, quantity=units,
                                                        open_quantity=units if is_open else 0),))


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_each_waiting_line_stores_its_reason(services: Services, tmp_path: Path) -> None:
    history = [order(n, AS_OF - timedelta(days=80 - n), "CUP", 1, is_open=False, status="completed")
               for n in range(1, 4)]
    surge = [order(100 + n, AS_OF - timedelta(days=n % 5), "CUP", 2, is_open=False, status="completed")
             for n in range(6)]
    cancelled = [order(200 + n, AS_OF - timedelta(days=2), "TEE", 50, is_open=False, status="cancelled")
                 for n in range(3)]
    waiting = [order(300, AS_OF, "MUG", 2), order(301, AS_OF, "CUP", 1), order(302, AS_OF, "LAMP", 1),
               order(303, AS_OF, "TEE", 1)]
    with services.db.session() as session:
        shop = Shop(platform="woocommerce", domain="https://shop.example", name="Shop")
        session.add(shop)
        session.flush()
        store_stock(session, shop.id, [StockRecord(sku, "default", 0) for sku in ("MUG", "CUP", "LAMP", "TEE")],
                    complete=True)
        for remote in history + surge + cancelled + waiting:
            upsert_order(session, shop.id, remote)
        shop_id = shop.id
    header = "sku,restock_date,restock_qty,lead_time_days\n"
    with services.db.session() as session:
        import_feed(session, write(tmp_path, "a1.csv", header + "MUG,2026-12-01,10,0\nCUP,2026-12-02,10,0\n"
                                   "TEE,2026-12-03,10,0\n"), "acme", default_lead_days=7)
    with services.db.session() as session:  # MUG's date moves later: a slip
        import_feed(session, write(tmp_path, "a2.csv", header + "MUG,2026-12-09,10,0\nCUP,2026-12-02,10,0\n"
                                   "TEE,2026-12-03,10,0\n"), "acme", default_lead_days=7)
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        result = reconcile_shop(session, shop, AS_OF, Policy())
        stored = dict(session.execute(select(OrderLine.sku, LineDecision.reason)  # type: ignore[arg-type]
                                      .join(LineDecision, LineDecision.order_line_id == OrderLine.id)).all())
    planned = {line.sku: line.reason for plan in result.plan.orders for line in plan.lines}
    assert planned == {
        "MUG": "supplier_delay",
        "CUP": "demand_surge",  # 12 units in the last 5 days against 3 before: the surge rule
        "LAMP": "no_supplier_date",
        "TEE": "awaiting_restock",  # the 150 cancelled units are no demand
    }
    assert stored == planned


class StubPlatform:
    """Just the capabilities the outbox planner asks for."""

    from connector.platforms.base import Capabilities

    capabilities = Capabilities(tags=True, holds=True, customer_notes=False)

    def close(self) -> None:
        return None


def test_the_delay_notice_carries_each_lines_reason_and_the_merchants_text(tmp_path: Path) -> None:
    from connector.pipeline.outbox import reconcile_and_queue
    from connector.store.models import Action
    from tests.conftest import make_settings

    services = Services(make_settings(f"sqlite:///{tmp_path}/c.db", tmp_path),
                        platform_factory=lambda _services, _shop: StubPlatform(), migrate=True)  # type: ignore[arg-type,return-value]
    try:
        remote = order(1, AS_OF, "MUG", 1)
        two = RemoteOrder(platform_id="2", name="#2", created_at=remote.created_at, updated_at=remote.updated_at,
                          is_open=True, status="processing", customer_email="ann@example.com",
                          lines=(RemoteLine(platform_id="2-1", sku="MUG", quantity=1, open_quantity=1),
                                 RemoteLine(platform_id="2-2", sku="LAMP", quantity=1, open_quantity=1)))
        with services.db.session() as session:
            shop = Shop(platform="woocommerce", domain="https://shop.example", name="Shop")
            session.add(shop)
            session.flush()
            shop.set_setting("reason_texts", {"sku:LAMP": {"*": "Our lamp maker moved workshops."}})
            store_stock(session, shop.id, [StockRecord("MUG", "default", 0), StockRecord("LAMP", "default", 0)],
                        complete=True)
            upsert_order(session, shop.id, two)
            shop_id = shop.id
        with services.db.session() as session:
            import_feed(session, write(tmp_path, "f.csv", "sku,restock_date,restock_qty,lead_time_days\n"
                                       "MUG,2026-12-01,10,0\n"), "acme", default_lead_days=7)
        reconcile_and_queue(services, shop_id, as_of=AS_OF)
        with services.db.session() as session:
            payload = session.scalars(select(Action.payload).where(Action.kind == "notify")).one()
        reasons = {line["sku"]: (line.get("reason"), line.get("reason_note")) for line in payload["lines"]}
        assert reasons == {"MUG": ("awaiting_restock", None),
                           "LAMP": ("no_supplier_date", {"*": "Our lamp maker moved workshops."})}
    finally:
        services.close()
