"""Outbox execution: store writes, batching, retries and dead actions, notices sent once, stuck notices."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from connector.errors import AuthError, TransportError, UserError
from connector.pipeline.executor import run_due_actions
from connector.pipeline.operator import list_actions, resolve_action
from connector.pipeline.outbox import reconcile_and_plan
from connector.pipeline.retry import RetryPolicy, backoff_delay, no_jitter
from connector.platforms.base import BACKORDER_TAG
from connector.store.models import Action, utcnow
from tests.fakes import FileLogChannel, remote_order
from tests.pipeline.conftest import T0, World

IMMEDIATE = RetryPolicy(max_attempts=3, jitter=no_jitter, base=timedelta(0))


def _plan(world: World, *order_ids: str) -> None:
    world.store_orders(*(remote_order(o, [(f"L{o}", "SKU-A", 1)], created=T0) for o in order_ids))
    world.set_stock(**{"SKU-A": 0})
    world.set_supply("SKU-A", restock_in_days=10, qty=100)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)


def _by_kind(world: World, kind: str) -> list[Action]:
    with world.db.session() as session:
        return list(session.scalars(select(Action).where(Action.kind == kind).order_by(Action.id)))


def _channel(tmp_path: Path, **kwargs: object) -> FileLogChannel:
    return FileLogChannel(tmp_path / "sent.jsonl", **kwargs)  # type: ignore[arg-type]


def test_actions_reach_the_store_and_the_customer_once(world: World, tmp_path: Path) -> None:
    _plan(world, "1", "2", "3")
    channel = _channel(tmp_path)

    settled = run_due_actions(world.services, notifier=lambda shop, platform: channel)

    assert settled == 15
    store = world.platform
    assert all(store.tags[o] == {BACKORDER_TAG} for o in ("1", "2", "3"))
    assert {o: m.status for o, m in store.marks.items()} == {"1": "backordered", "2": "backordered", "3": "backordered"}
    assert len(store.writes("write_marks")) == 3
    assert set(store.holds) == {"1", "2", "3"}
    assert len(channel.sent_refs()) == 3 and len(set(channel.sent_refs())) == 3
    notices = _by_kind(world, "notify")
    assert {a.status for a in notices} == {"sent"}
    assert all(a.channel == "filelog" and a.receipt for a in notices)
    assert run_due_actions(world.services, notifier=lambda shop, platform: channel) == 0
    assert len(channel.sent_refs()) == 3


def test_marks_of_many_orders_go_in_one_batched_call(world: World, tmp_path: Path) -> None:
    calls: list[int] = []
    original = world.platform.write_marks

    def counting(items):  # type: ignore[no-untyped-def]
        items = list(items)
        calls.append(len(items))
        return original(items)

    world.platform.write_marks = counting  # type: ignore[method-assign]
    _plan(world, "1", "2", "3", "4")

    run_due_actions(world.services, notifier=lambda shop, platform: _channel(tmp_path))

    assert calls == [4]


def test_transport_failures_are_retried_then_parked_dead(world: World, tmp_path: Path) -> None:
    _plan(world, "1")
    world.platform.failures["add_tag"] = [TransportError("store down")] * 5

    run_due_actions(world.services, retry=IMMEDIATE, notifier=lambda shop, platform: _channel(tmp_path))

    [tag] = _by_kind(world, "tag")
    assert tag.status == "dead"
    assert tag.attempts == 3
    assert "store down" in (tag.last_error or "")
    assert _by_kind(world, "marks")[0].status == "done"  # other writes were not held up


def test_a_retry_waits_with_backoff_and_succeeds_later(world: World, tmp_path: Path) -> None:
    _plan(world, "1")
    world.platform.failures["add_tag"] = [TransportError("blip")]
    policy = RetryPolicy(max_attempts=5, jitter=no_jitter)

    run_due_actions(world.services, retry=policy, notifier=lambda shop, platform: _channel(tmp_path))

    [tag] = _by_kind(world, "tag")
    assert tag.status == "pending" and tag.attempts == 1
    wait = tag.next_attempt_at - utcnow()
    assert timedelta(seconds=20) < wait <= backoff_delay(1)
    run_due_actions(world.services, retry=policy, now=utcnow() + timedelta(minutes=1),
                    notifier=lambda shop, platform: _channel(tmp_path))
    assert _by_kind(world, "tag")[0].status == "done"


def test_backoff_doubles_up_to_a_cap_and_jitter_is_applied_separately() -> None:
    assert [backoff_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_delay(40) == timedelta(hours=6)
    halving = RetryPolicy(max_attempts=4, jitter=lambda delay: delay / 2)
    now = utcnow()
    assert halving.next_attempt(2, now) == now + timedelta(seconds=30)
    assert halving.next_attempt(4, now) is None


def test_refused_credentials_park_at_once_without_retrying(world: World, tmp_path: Path) -> None:
    _plan(world, "1")
    world.platform.failures["hold"] = [AuthError("401 from store: invalid token")]

    run_due_actions(world.services, retry=IMMEDIATE, notifier=lambda shop, platform: _channel(tmp_path))

    [hold] = _by_kind(world, "hold")
    assert hold.status == "dead" and hold.attempts == 1
    assert "authentication refused" in (hold.last_error or "")


def test_an_untag_never_overtakes_a_tag_waiting_for_its_retry(world: World, tmp_path: Path) -> None:
    _plan(world, "1")
    world.platform.failures["add_tag"] = [TransportError("blip")]
    policy = RetryPolicy(max_attempts=5, jitter=no_jitter)
    run_due_actions(world.services, retry=policy, notifier=lambda shop, platform: _channel(tmp_path))
    world.set_stock(**{"SKU-A": 10})
    reconcile_and_plan(world.services, world.shop_id, today=world.today + timedelta(days=1))

    run_due_actions(world.services, retry=policy, notifier=lambda shop, platform: _channel(tmp_path))
    assert world.platform.writes("remove_tag") == []
    run_due_actions(world.services, retry=policy, now=utcnow() + timedelta(minutes=2),
                    notifier=lambda shop, platform: _channel(tmp_path))

    assert world.platform.writes("add_tag") == ["1"]
    assert world.platform.writes("remove_tag") == ["1"]
    assert world.platform.tags["1"] == set()


def test_notice_goes_sending_then_sent(world: World, tmp_path: Path) -> None:
    _plan(world, "1")
    seen: list[str] = []

    class Watching(FileLogChannel):
        def send(self, notice):  # type: ignore[no-untyped-def]
            with world.db.session() as session:  # a separate connection sees the committed state
                seen.append(session.scalar(select(Action.status).where(Action.kind == "notify")))
            return super().send(notice)

    channel = Watching(tmp_path / "sent.jsonl")
    run_due_actions(world.services, notifier=lambda shop, platform: channel)

    assert seen == ["sending"]
    [notice] = _by_kind(world, "notify")
    assert notice.status == "sent" and notice.finished_at is not None


def test_a_notice_found_sending_is_not_sent_again_but_listed(world: World, tmp_path: Path) -> None:
    _plan(world, "1")
    with world.db.session() as session:  # what a worker killed mid-send leaves behind
        session.execute(update(Action).where(Action.kind == "notify").values(status="sending", started_at=utcnow()))
    channel = _channel(tmp_path)

    run_due_actions(world.services, notifier=lambda shop, platform: channel)

    assert channel.sent_refs() == []
    with world.db.session() as session:
        stuck = list_actions(session, stuck_only=True)
        assert [a.kind for a in stuck] == ["notify"]
        resolve_action(session, stuck[0].id, "retry")
    run_due_actions(world.services, notifier=lambda shop, platform: channel)
    assert len(channel.sent_refs()) == 1
    assert _by_kind(world, "notify")[0].status == "sent"


def test_operator_can_mark_a_stuck_notice_sent(world: World) -> None:
    _plan(world, "1")
    with world.db.session() as session:
        session.execute(update(Action).where(Action.kind == "notify").values(status="sending"))
    [notice] = _by_kind(world, "notify")
    with world.db.session() as session:
        resolve_action(session, notice.id, "sent")
        with pytest.raises(Exception, match="not sending"):
            resolve_action(session, notice.id, "sent")
    assert _by_kind(world, "notify")[0].status == "sent"


def test_a_channel_that_could_not_deliver_is_retried_and_sends_once(world: World, tmp_path: Path) -> None:
    _plan(world, "1")
    channel = _channel(tmp_path, failures=[TransportError("SMTP 451 try later")])

    run_due_actions(world.services, retry=IMMEDIATE, notifier=lambda shop, platform: channel)

    [notice] = _by_kind(world, "notify")
    assert notice.status == "sent" and notice.attempts == 2
    assert len(channel.sent_refs()) == 1


def test_a_refused_recipient_is_dead_not_stuck(world: World, tmp_path: Path) -> None:
    _plan(world, "1")
    channel = _channel(tmp_path, failures=[UserError(["550 no such user"])])

    run_due_actions(world.services, retry=IMMEDIATE, notifier=lambda shop, platform: channel)

    assert _by_kind(world, "notify")[0].status == "dead"
    assert channel.sent_refs() == []


def test_without_smtp_shopify_notices_are_written_as_eml_files(world: World) -> None:
    _plan(world, "1")

    run_due_actions(world.services)

    files = list((world.data_dir / "outbox").glob("*.eml"))
    assert len(files) == 1
    content = files[0].read_text()
    assert "customer@example.com" in content and "/choice/" in content
    [notice] = _by_kind(world, "notify")
    assert notice.status == "sent" and notice.channel == "eml" and notice.receipt == str(files[0])


def test_woocommerce_notices_go_as_customer_notes_the_store_emails(world: World) -> None:
    from connector.platforms.base import Capabilities
    from connector.store.models import Shop

    world.platform.capabilities = Capabilities(tags=False, holds=False, customer_notes=True, marks_batch_size=100)
    with world.db.session() as session:
        shop = session.get(Shop, world.shop_id)
        shop.platform, shop.domain = "woocommerce", "https://woo.example"
    world.store_orders(remote_order("7", [("L7", "SKU-A", 1)], created=T0, email=None))
    world.set_stock(**{"SKU-A": 0})
    reconcile_and_plan(world.services, world.shop_id, today=world.today)

    run_due_actions(world.services)

    [notice] = _by_kind(world, "notify")
    assert notice.status == "sent" and notice.channel == "platform_note"
    [(ref, text)] = world.platform.customer_notes.items()
    assert ref.startswith(f"{world.shop_id}-") and "#7" in text
    assert not (world.data_dir / "outbox").exists()
