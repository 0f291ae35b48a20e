"""Store writes in batches: one `write_batch` call per group of orders, each write settled by its own outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from connector.errors import TransportError, UserError
from connector.pipeline.executor import run_due_actions
from connector.pipeline.outbox import reconcile_and_plan
from connector.pipeline.retry import RetryPolicy, no_jitter
from connector.platforms.base import BACKORDER_TAG, Capabilities, WriteOutcome, WriteRequest
from connector.store.models import Action
from tests.fakes import FakePlatform, FileLogChannel, remote_order
from tests.pipeline.conftest import T0, World

IMMEDIATE = RetryPolicy(max_attempts=3, jitter=no_jitter, base=timedelta(0))


@dataclass
class BatchingPlatform(FakePlatform):
    """The fake store with `write_batch`: each request carried out by the single-write method."""

    capabilities: Capabilities = field(default_factory=lambda: Capabilities(
        tags=True, holds=True, customer_notes=False, marks_batch_size=10, write_batch_size=3))
    batches: list[list[tuple[str, str]]] = field(default_factory=list)
    batch_failures: list[Exception] = field(default_factory=list)
    refused: set[tuple[str, str]] = field(default_factory=set)  # (order id, kind) the store refuses

    def write_batch(self, requests: Sequence[WriteRequest]) -> dict[int, WriteOutcome]:
        self.batches.append([(request.order_id, request.kind) for request in requests])
        if self.batch_failures:
            raise self.batch_failures.pop(0)
        outcomes: dict[int, WriteOutcome] = {}
        for request in requests:
            if (request.order_id, request.kind) in self.refused:
                outcomes[request.key] = UserError([f"{request.kind} refused"])
            elif request.kind == "tag":
                outcomes[request.key] = self.add_tag(request.order_id, BACKORDER_TAG)
            elif request.kind == "untag":
                outcomes[request.key] = self.remove_tag(request.order_id, BACKORDER_TAG)
            elif request.kind == "marks":
                assert request.marks is not None
                outcomes[request.key] = self.write_marks([(request.order_id, request.marks)])[request.order_id]
            elif request.kind == "note":
                outcomes[request.key] = self.write_note(request.order_id, request.text)
            elif request.kind == "hold":
                assert request.hold is not None
                outcomes[request.key] = self.hold(request.order_id, request.hold)
            else:
                outcomes[request.key] = self.release(request.order_id)
        return outcomes

    def prepare_customer_notes(self, items: Sequence[tuple[str, str]]) -> None:
        raise AssertionError("notices here go through a channel of their own")


def batching_world(world: World) -> BatchingPlatform:
    platform = BatchingPlatform()
    world.services._platform_factory = lambda _services, _shop: platform  # type: ignore[attr-defined]
    return platform


def plan(world: World, *order_ids: str) -> None:
    world.store_orders(*(remote_order(o, [(f"L{o}", "SKU-A", 1)], created=T0) for o in order_ids))
    world.set_stock(**{"SKU-A": 0})
    world.set_supply("SKU-A", restock_in_days=10, qty=100)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)


def statuses(world: World) -> dict[tuple[str, str], str]:
    with world.db.session() as session:
        rows = session.execute(select(Action.order_id, Action.kind, Action.status)).all()
    return {(str(order_id), kind): status for order_id, kind, status in rows}


def test_the_writes_of_several_orders_share_one_call_and_a_second_run_writes_nothing(world: World, tmp_path: Path) -> None:
    store = batching_world(world)
    plan(world, "1", "2", "3", "4")
    channel = FileLogChannel(tmp_path / "sent.jsonl")

    run_due_actions(world.services, notifier=lambda shop, platform: channel)

    assert [len({order for order, _kind in batch}) for batch in store.batches] == [3, 1]  # 3 orders a call
    assert sorted(kind for kind in {kind for batch in store.batches for _order, kind in batch}) == [
        "hold", "marks", "note", "tag"]
    assert set(statuses(world).values()) == {"done", "sent"}
    assert all(store.tags[o] == {BACKORDER_TAG} for o in ("1", "2", "3", "4")) and set(store.holds) == {"1", "2", "3", "4"}
    assert len(channel.sent_refs()) == 4
    before = len(store.batches)
    assert run_due_actions(world.services, notifier=lambda shop, platform: channel) == 0
    assert len(store.batches) == before


def test_a_failed_call_settles_nothing_and_its_writes_are_retried_once_each(world: World, tmp_path: Path) -> None:
    store = batching_world(world)
    plan(world, "1", "2")
    store.batch_failures = [TransportError("throttled")]

    run_due_actions(world.services, retry=IMMEDIATE, notifier=lambda shop, platform: FileLogChannel(tmp_path / "s.jsonl"))

    with world.db.session() as session:
        tags = list(session.scalars(select(Action).where(Action.kind == "tag")))
    assert {tag.status for tag in tags} == {"done"} and {tag.attempts for tag in tags} == {1}  # failed once, then done
    assert [call for call in store.calls if call[0] == "add_tag"] == [("add_tag", "1"), ("add_tag", "2")]  # once each


def test_a_refused_write_fails_alone(world: World, tmp_path: Path) -> None:
    store = batching_world(world)
    plan(world, "1", "2")
    store.refused = {("2", "hold")}

    run_due_actions(world.services, retry=IMMEDIATE, notifier=lambda shop, platform: FileLogChannel(tmp_path / "s.jsonl"))

    settled = statuses(world)
    assert settled[("2", "hold")] == "dead"  # the store's refusal is not worth a retry
    assert {status for key, status in settled.items() if key != ("2", "hold")} <= {"done", "sent"}
    assert "2" not in store.holds and "1" in store.holds
