"""Outbox planning: which actions a changed decision queues, and that re-planning is idempotent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from connector.pipeline.outbox import reconcile_and_plan
from connector.store.models import Action, Order, OrderDecision
from tests.fakes import remote_order
from tests.pipeline.conftest import T0, World


def _actions(world: World) -> list[Action]:
    with world.db.session() as session:
        return list(session.scalars(select(Action).order_by(Action.id)))


def _kinds(world: World) -> list[str]:
    return [a.kind for a in _actions(world)]


def _backordered_order(world: World, platform_id: str = "1001") -> None:
    world.store_orders(remote_order(platform_id, [("L1", "SKU-A", 2)], created=T0))
    world.set_stock(**{"SKU-A": 0})


def test_backordered_order_queues_every_write_and_a_notice(world: World) -> None:
    _backordered_order(world)
    world.set_supply("SKU-A", restock_in_days=10)

    queued = reconcile_and_plan(world.services, world.shop_id, today=world.today)

    assert sorted(_kinds(world)) == sorted(["tag", "marks", "note", "hold", "notify"])
    assert queued == 5
    actions = {a.kind: a for a in _actions(world)}
    assert actions["marks"].payload["status"] == "backordered"
    assert actions["marks"].payload["lines"][0]["backordered"] == 2
    assert actions["hold"].payload["reason"] == "INVENTORY_OUT_OF_STOCK"
    assert actions["hold"].payload["line_ids"] == ["L1"]
    assert "SKU-A" in actions["note"].payload["text"]
    assert actions["notify"].payload["notice"] == "backordered"
    assert "customer@example.com" not in str(actions["notify"].payload)  # no personal data in the outbox
    with world.db.session() as session:
        decision = session.scalar(select(OrderDecision))
        assert decision.pushed_fingerprint == decision.fingerprint
        assert decision.notice_kind == "backordered"
        assert decision.notice_on == world.today


def test_unknown_eta_holds_with_unknown_delivery_date(world: World) -> None:
    _backordered_order(world)  # no supply at all: the ETA is unknown

    reconcile_and_plan(world.services, world.shop_id, today=world.today)

    hold = next(a for a in _actions(world) if a.kind == "hold")
    assert hold.payload["reason"] == "UNKNOWN_DELIVERY_DATE"


def test_rerunning_with_nothing_changed_plans_nothing(world: World) -> None:
    _backordered_order(world)
    world.set_supply("SKU-A", restock_in_days=10)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    before = len(_actions(world))

    assert reconcile_and_plan(world.services, world.shop_id, today=world.today) == 0
    assert len(_actions(world)) == before


def test_later_eta_queues_new_writes_and_an_eta_changed_notice_but_no_second_tag(world: World) -> None:
    _backordered_order(world)
    world.set_supply("SKU-A", restock_in_days=10)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    first = {a.id for a in _actions(world)}

    world.set_supply("SKU-A", restock_in_days=20)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)

    new = [a for a in _actions(world) if a.id not in first]
    assert sorted(a.kind for a in new) == sorted(["marks", "note", "hold", "notify"])
    assert next(a for a in new if a.kind == "notify").payload["notice"] == "eta_changed"


def test_stock_arriving_untags_releases_and_says_ready(world: World) -> None:
    _backordered_order(world)
    world.set_supply("SKU-A", restock_in_days=10)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    first = {a.id for a in _actions(world)}

    world.set_stock(**{"SKU-A": 5})
    reconcile_and_plan(world.services, world.shop_id, today=world.today + timedelta(days=1))

    new = {a.kind: a for a in _actions(world) if a.id not in first}
    assert set(new) == {"untag", "marks", "note", "release", "notify"}
    assert new["marks"].payload == {"status": "ok", "eta": None, "lines": []}
    assert "no longer backordered" in new["note"].payload["text"]
    assert new["notify"].payload["notice"] == "ready"
    assert new["notify"].payload["lines"][0]["line_id"] == "L1"  # the lines the delay notice named


def test_going_back_to_an_earlier_decision_is_pushed_again(world: World) -> None:
    _backordered_order(world)
    world.set_supply("SKU-A", restock_in_days=10)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    world.set_supply("SKU-A", restock_in_days=20)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    world.set_supply("SKU-A", restock_in_days=10)  # back to the first decision

    reconcile_and_plan(world.services, world.shop_id, today=world.today)

    marks = [a for a in _actions(world) if a.kind == "marks"]
    assert len(marks) == 3
    assert marks[0].fingerprint == marks[2].fingerprint
    assert marks[0].idempotency_key != marks[2].idempotency_key


def test_shop_without_holds_and_platform_without_tags(world: World) -> None:
    with world.db.session() as session:
        from connector.store.models import Shop

        shop = session.get(Shop, world.shop_id)
        shop.platform = "woocommerce"  # no tags, no holds, store notes: the planner asks the platform's kind
        shop.settings = {"holds": False}
    _backordered_order(world)

    reconcile_and_plan(world.services, world.shop_id, today=world.today)

    assert sorted(_kinds(world)) == ["marks", "note", "notify"]


def test_no_notice_without_an_address_or_store_notes(world: World) -> None:
    world.store_orders(remote_order("1002", [("L1", "SKU-A", 1)], created=T0, email=None))
    world.set_stock(**{"SKU-A": 0})

    reconcile_and_plan(world.services, world.shop_id, today=world.today)

    assert "notify" not in _kinds(world)


def test_second_improvement_on_one_day_is_held_back_and_sent_next_day(world: World) -> None:
    _backordered_order(world)
    world.set_supply("SKU-A", restock_in_days=30)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    world.set_supply("SKU-A", restock_in_days=10)  # 20 days earlier, but a notice went out today

    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    assert [a.payload["notice"] for a in _actions(world) if a.kind == "notify"] == ["backordered"]
    with world.db.session() as session:
        decision = session.scalar(select(OrderDecision))
        assert decision.pushed_fingerprint != decision.fingerprint  # asked again tomorrow
        writes_today = session.scalar(select(func.count(Action.id)))

    tomorrow = world.today + timedelta(days=1)
    reconcile_and_plan(world.services, world.shop_id, today=tomorrow)

    notices = [a.payload["notice"] for a in _actions(world) if a.kind == "notify"]
    assert notices == ["backordered", "eta_changed"]
    assert len(_actions(world)) == writes_today + 1  # the store writes were not queued twice
    assert reconcile_and_plan(world.services, world.shop_id, today=tomorrow) == 0
    with world.db.session() as session:
        assert session.scalar(select(Order.name)) == "#1001"
