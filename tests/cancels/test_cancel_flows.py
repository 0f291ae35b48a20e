"""Cancel and refund through the whole pipeline on both sandbox stores: sync, reconcile, the rule's clock,
the approve queue and the renewed-notice timeout, ending in a refund the store shows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connector.pipeline.cancels import decide
from connector.pipeline.executor import run_due_actions
from connector.pipeline.outbox import reconcile_and_plan
from connector.pipeline.sync import sync_shop
from connector.platforms.base import Platform
from connector.services import Services
from connector.store.models import Action, Cancellation, CustomerChoice, Order, Shop, Supplier, SupplyItem
from sandbox.common import ServerThread
from tests.cancels.conftest import DOMAIN, TOKEN, shopify_platform, shopify_seed, woo_platform, woo_seed
from tests.conftest import make_settings
from tests.fakes import FileLogChannel

D0 = date(2026, 3, 2)  # the seeds' order day, a Monday


@dataclass
class Flow:
    """One sandbox store, the connector over it, and its backordered SKU and expected refund."""

    services: Services
    server: ServerThread
    platform_name: str
    shop_id: int
    sku: str
    order_ref: str
    refund: str  # the partial refund of the backordered line, as the store computes it
    channel: FileLogChannel

    def platform(self) -> Platform:
        return shopify_platform(self.server.url) if self.platform_name == "shopify" else woo_platform(self.server.url)

    def day(self, offset: int, *, restock_in: int | None = None) -> date:
        today = D0 + timedelta(days=offset)
        if restock_in is not None:
            with self.services.db.session() as session:
                supplier = session.scalar(select(Supplier))
                if supplier is None:
                    supplier = Supplier(scope="all", name="acme", source="feed.csv", column_map={}, rejected=[], row_count=0)
                    session.add(supplier)
                    session.flush()
                session.query(SupplyItem).filter_by(supplier_id=supplier.id).delete()
                session.add(SupplyItem(supplier_id=supplier.id, sku=self.sku, available=0, line_no=1, restock_qty=50,
                                       restock_date=today + timedelta(days=restock_in)))
        platform = self.platform()
        try:
            sync_shop(self.services.db, self.shop_id, platform, today=today)
        finally:
            platform.close()
        reconcile_and_plan(self.services, self.shop_id, today=today)
        run_due_actions(self.services, notifier=lambda shop, platform: self.channel)
        return today

    def cancellation(self) -> Cancellation | None:
        with self.services.db.session() as session:
            row = session.scalar(select(Cancellation))
            session.expunge_all()
            return row

    def notices(self) -> list[dict[str, Any]]:
        with self.services.db.session() as session:
            return [a.payload for a in session.scalars(select(Action).where(Action.kind == "notify", Action.status == "sent")
                                                       .order_by(Action.id))]

    def store_refunds(self) -> list[str]:
        """Each refund of the order as the store itself now shows it."""
        from sandbox.shopify.app import sandbox_of as shopify_sandbox
        from sandbox.woocommerce.app import sandbox_of as woo_sandbox

        if self.platform_name == "shopify":
            order = shopify_sandbox(self.server.app).state.orders[int(self.order_ref)]
            return [f"{refund.amount:.2f}" for refund in order.refunds]
        return [f"{refund.amount:.2f}" for refund in woo_sandbox(self.server.app).state.orders[int(self.order_ref)].refunds]


@pytest.fixture(params=["shopify", "woocommerce"])
def flow(request: pytest.FixtureRequest, tmp_path: Path) -> Flow:
    from sandbox.shopify import run as run_shopify
    from sandbox.woocommerce import run as run_woo

    name = request.param
    seed = shopify_seed() if name == "shopify" else woo_seed()
    seed["orders"] = seed["orders"][:1]  # one partly backordered order
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    server = (run_shopify(0, path, api_secret="test_secret", access_token=TOKEN, restore_rate=1000.0)
              if name == "shopify" else run_woo(0, path))
    request.addfinalizer(server.stop)
    settings = make_settings(f"sqlite:///{tmp_path}/connector.db", tmp_path, allow_loopback_api_url=True, smtp_url=None)
    holder: dict[str, Flow] = {}
    services = Services(settings, platform_factory=lambda _s, _shop: holder["flow"].platform(), migrate=True)
    request.addfinalizer(services.close)
    with services.db.session() as session:
        shop = Shop(platform=name, domain=DOMAIN if name == "shopify" else server.url, name="Cancel shop",
                    settings={"cancel_mode": "automatic"}, active=True)
        session.add(shop)
        session.flush()
        shop_id = shop.id
    flow = Flow(services, server, name, shop_id, "SHIRT" if name == "shopify" else "K-1",
                "6001" if name == "shopify" else "501", "54.00" if name == "shopify" else "95.20",
                FileLogChannel(tmp_path / "sent.jsonl"))
    holder["flow"] = flow
    return flow


def test_approve_queue_then_the_refund_shows_in_the_store(flow: Flow) -> None:
    with flow.services.db.session() as session:
        session.get(Shop, flow.shop_id).set_setting("cancel_mode", "approve")  # type: ignore[union-attr]
    flow.day(0, restock_in=10)
    assert [n["notice"] for n in flow.notices()] == ["backordered"]
    with flow.services.db.session() as session:
        order = session.scalar(select(Order))
        assert order is not None
        session.add(CustomerChoice(shop_id=flow.shop_id, order_id=order.id, notice_ref="n", choice="cancel",
                                   chosen_at=datetime(2026, 3, 3, 9, tzinfo=UTC)))
    flow.day(1)
    waiting = flow.cancellation()
    assert waiting is not None and waiting.status == "awaiting_approval" and flow.store_refunds() == []
    with flow.services.db.session() as session:
        row = session.get(Cancellation, waiting.id)
        assert row is not None and decide(session, row, approve=True, who="merchant (dashboard)",
                                          settings=flow.services.settings)
    flow.day(1)
    done = flow.cancellation()
    assert done is not None and (done.status, done.decided_by, done.refund_amount) == (
        "done", "merchant (dashboard)", flow.refund)
    assert flow.store_refunds() == [flow.refund]
    assert flow.notices()[-1]["notice"] == "cancelled"
    flow.day(2)  # the synced order no longer waits: no second refund, no "ready" notice
    assert flow.store_refunds() == [flow.refund] and flow.notices()[-1]["notice"] == "cancelled"


def test_renewed_notice_left_unanswered_cancels_and_refunds(flow: Flow) -> None:
    flow.day(0, restock_in=10)
    flow.day(5, restock_in=15)
    flow.day(12, restock_in=30)
    renewed = flow.notices()[-1]
    assert [n["notice"] for n in flow.notices()] == ["backordered", "eta_changed", "eta_changed"]
    assert renewed["consent"] == "explicit"
    answer_by = date.fromisoformat(renewed["answer_by"])
    flow.day((answer_by - D0).days)
    assert flow.cancellation() is None and flow.store_refunds() == []
    flow.day((answer_by - D0).days + 1)
    cancellation = flow.cancellation()
    assert cancellation is not None and (cancellation.reason, cancellation.status) == ("no_consent", "done")
    assert flow.store_refunds() == [flow.refund]
    assert flow.notices()[-1]["notice"] == "cancelled" and flow.notices()[-1]["refund_amount"] == flow.refund


def test_a_worker_killed_between_the_refund_and_its_record_refunds_once(flow: Flow,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.pipeline import executor

    flow.day(0, restock_in=10)
    with flow.services.db.session() as session:
        order = session.scalar(select(Order))
        assert order is not None
        session.add(CustomerChoice(shop_id=flow.shop_id, order_id=order.id, notice_ref="n", choice="cancel",
                                   chosen_at=datetime(2026, 3, 3, 9, tzinfo=UTC)))
    original = executor.record_done

    def killed(*args: Any, **kwargs: Any) -> None:
        raise SystemExit("killed after the store refunded, before the connector recorded it")

    monkeypatch.setattr(executor, "record_done", killed)
    with pytest.raises(SystemExit):
        flow.day(1)
    assert flow.store_refunds() == [flow.refund] and flow.cancellation().status == "queued"  # type: ignore[union-attr]
    monkeypatch.setattr(executor, "record_done", original)
    flow.day(1)
    assert flow.store_refunds() == [flow.refund]  # exactly one refund
    done = flow.cancellation()
    assert done is not None and (done.status, done.refund_amount) == ("done", flow.refund)
