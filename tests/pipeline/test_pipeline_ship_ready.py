"""Ship what's ready: a partly backordered order's in-stock units go now, and the notice says so."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from connector.pipeline.executor import run_due_actions
from connector.pipeline.outbox import reconcile_and_plan
from connector.platforms.base import CancelLine, ReadySplit
from connector.store.models import Action, Shop
from tests.fakes import FileLogChannel, remote_order
from tests.pipeline.conftest import T0, World


def _order(world: World, ship_ready: bool) -> None:
    world.store_orders(remote_order("1001", [("L1", "SKU-A", 2), ("L2", "SKU-B", 1)], created=T0))
    world.set_stock(**{"SKU-A": 0, "SKU-B": 5})
    world.set_supply("SKU-A", restock_in_days=10)
    with world.db.session() as session:
        session.get(Shop, world.shop_id).set_setting("ship_ready", ship_ready)  # type: ignore[union-attr]


def test_the_in_stock_part_ships_now_and_only_the_backordered_part_is_held(world: World, tmp_path: Path) -> None:
    _order(world, ship_ready=True)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    with world.db.session() as session:
        kinds = [a.kind for a in session.scalars(select(Action).order_by(Action.id))]
        notice = session.scalar(select(Action).where(Action.kind == "notify"))
        assert notice is not None
        assert [(n["line_id"], n["quantity"]) for n in notice.payload["ships_now"]] == [("L2", 1)]
    assert "ship_ready" in kinds and "hold" not in kinds
    run_due_actions(world.services, notifier=lambda shop, platform: FileLogChannel(tmp_path / "sent.jsonl"))
    assert world.platform.splits["1001"] == ReadySplit(ready=(CancelLine("L2", 1),), held=(CancelLine("L1", 2),),
                                                       reason="INVENTORY_OUT_OF_STOCK",
                                                       notes="Backordered; released automatically when stock arrives.")
    with world.db.session() as session:
        rendered = session.scalar(select(Action.rendered).where(Action.kind == "notify"))
    assert rendered is not None and "Ships now, from stock:\n- 1 × Item SKU-B" in rendered["text"]


def test_without_the_setting_the_backordered_lines_are_held_as_before(world: World) -> None:
    _order(world, ship_ready=False)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    with world.db.session() as session:
        kinds = [a.kind for a in session.scalars(select(Action))]
        notice = session.scalar(select(Action).where(Action.kind == "notify"))
    assert "hold" in kinds and "ship_ready" not in kinds
    assert notice is not None and "ships_now" not in notice.payload
