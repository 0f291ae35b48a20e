"""Reconcile over stored data: shared stock pools, stock WooCommerce already reduced, orders leaving the list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from connector.engine import Policy
from connector.pipeline.reconcile import CLEARED_FINGERPRINT, load_stock, reconcile_shop
from connector.platforms.base import RemoteLine, RemoteOrder, StockRecord
from connector.platforms.shopify.kind import ShopifyKind
from connector.platforms.woocommerce.kind import WooKind
from connector.services import Services
from connector.store.models import LineDecision, OrderDecision, Shop
from connector.store.repo import store_stock, upsert_order

AS_OF = date(2026, 11, 26)
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def order(order_id: str, minutes: int, *lines: tuple[str, int, int], is_open: bool = True) -> RemoteOrder:
    return RemoteOrder(
        platform_id=order_id, name=f"#{order_id}", created_at=T0 + timedelta(minutes=minutes),
        updated_at=T0 + timedelta(minutes=minutes, seconds=1 if is_open else 2), is_open=is_open, status="processing",
        lines=tuple(RemoteLine(platform_id=f"{order_id}-{n}", sku=sku, quantity=qty, open_quantity=qty,
                               stock_reduced=reduced) for n, (sku, qty, reduced) in enumerate(lines)),
    )


def shop_with(services: Services, stock: list[StockRecord], *orders: RemoteOrder) -> Shop:
    with services.db.session() as session:
        shop = Shop(platform="woocommerce", domain="https://shop.example", name="Shop")
        session.add(shop)
        session.flush()
        store_stock(session, shop.id, stock, complete=True)
        for remote in orders:
            upsert_order(session, shop.id, remote)
        return shop


def test_variations_sharing_parent_stock_are_allocated_once(services: Services) -> None:
    # Two variations whose stock is the parent's: WooCommerce reports 3 units under each SKU.
    stock = [StockRecord("TEE-S", "default", 3, item_ref="40"), StockRecord("TEE-M", "default", 3, item_ref="40")]
    shop = shop_with(services, stock, order("1", 0, ("TEE-S", 2, 0)), order("2", 1, ("TEE-M", 2, 0)))
    with services.db.session() as session:
        view = load_stock(session, shop.id, WooKind.stock_rules)
        assert view.units == {"pool:40": 3}
        result = reconcile_shop(session, shop, AS_OF, Policy(), dry_run=True)
    [first, second] = result.plan.orders
    assert (first.lines[0].sku, first.lines[0].allocated, first.lines[0].backordered) == ("TEE-S", 2, 0)
    assert (second.lines[0].sku, second.lines[0].allocated, second.lines[0].backordered) == ("TEE-M", 1, 1)


def test_units_already_taken_off_stock_are_allocatable_again(services: Services) -> None:
    # stock_quantity went from 2 to -1 when order 1 (3 units, _reduced_stock) was paid.
    stock = [StockRecord("MUG", "default", -1, item_ref="7")]
    shop = shop_with(services, stock, order("1", 0, ("MUG", 3, 3)))
    with services.db.session() as session:
        assert load_stock(session, shop.id, WooKind.stock_rules).units == {"MUG": 2}
        result = reconcile_shop(session, shop, AS_OF, Policy(), dry_run=True)
    line = result.plan.orders[0].lines[0]
    assert (line.allocated, line.backordered) == (2, 1)


def test_untracked_skus_are_never_backordered(services: Services) -> None:
    stock = [StockRecord("GIFT", "default", 0, tracked=False)]
    shop = shop_with(services, stock, order("1", 0, ("GIFT", 5, 0)))
    with services.db.session() as session:
        assert reconcile_shop(session, shop, AS_OF, Policy()).plan.orders == ()


def test_an_order_that_closes_is_cleared_once(services: Services) -> None:
    shop = shop_with(services, [StockRecord("MUG", "default", 0)], order("1", 0, ("MUG", 1, 0)))
    with services.db.session() as session:
        first = reconcile_shop(session, shop, AS_OF, Policy())
        assert [change.plan.status for change in first.changes] == ["backordered"]
        decision = session.scalars(select(OrderDecision)).one()
        decision.pushed_fingerprint = decision.fingerprint  # as if the outbox had pushed it
    with services.db.session() as session:
        upsert_order(session, shop.id, order("1", 0, ("MUG", 1, 0), is_open=False))
    with services.db.session() as session:
        second = reconcile_shop(session, shop, AS_OF, Policy())
        assert [(change.plan.status, change.fingerprint) for change in second.changes] == [("ok", CLEARED_FINGERPRINT)]
        decision = session.scalars(select(OrderDecision)).one()
        decision.pushed_fingerprint = decision.fingerprint
    with services.db.session() as session:
        assert reconcile_shop(session, shop, AS_OF, Policy()).changes == []


def test_an_order_closed_without_a_backorder_is_left_alone_once_cleared(services: Services) -> None:
    shop = shop_with(services, [StockRecord("MUG", "default", 5)], order("1", 0, ("MUG", 1, 0)))
    with services.db.session() as session:
        assert reconcile_shop(session, shop, AS_OF, Policy()).changes == []  # in stock: nothing to push
        assert session.scalars(select(LineDecision)).all() != []
    with services.db.session() as session:
        upsert_order(session, shop.id, order("1", 0, ("MUG", 1, 0), is_open=False))
    with services.db.session() as session:
        assert reconcile_shop(session, shop, AS_OF, Policy()).changes == []
        assert session.scalars(select(LineDecision)).all() == []  # its line decisions go when it leaves
        cleared = session.scalars(select(OrderDecision)).one()
        assert (cleared.fingerprint, cleared.pushed_fingerprint, cleared.as_of) == (CLEARED_FINGERPRINT, None, AS_OF)
    with services.db.session() as session:
        # A later reconcile has nothing to do for it: the decision stays as recorded when it was cleared.
        assert reconcile_shop(session, shop, AS_OF + timedelta(days=1), Policy()).changes == []
        assert session.scalars(select(OrderDecision)).one().as_of == AS_OF


def test_dry_run_records_nothing(services: Services) -> None:
    shop = shop_with(services, [StockRecord("MUG", "default", 0)], order("1", 0, ("MUG", 1, 0)))
    with services.db.session() as session:
        result = reconcile_shop(session, shop, AS_OF, Policy(), dry_run=True)
        assert len(result.changes) == 1
        assert session.scalars(select(OrderDecision)).all() == []


def test_stock_rules_come_from_the_platform_shopify_pools_nothing(services: Services) -> None:
    stock = [StockRecord("TEE-S", "default", 3, item_ref="40"), StockRecord("TEE-M", "default", 3, item_ref="40")]
    shop = shop_with(services, stock, order("1", 0, ("TEE-S", 2, 2)))
    with services.db.session() as session:
        assert load_stock(session, shop.id, ShopifyKind.stock_rules).units == {"TEE-S": 3, "TEE-M": 3}
        assert load_stock(session, shop.id, WooKind.stock_rules).units == {"pool:40": 5}
