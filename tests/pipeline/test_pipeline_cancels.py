"""Cancel and refund through the outbox, and the mail-order rule's clock walked day by day (fake store)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from connector.engine.mailorder import refund_due_by
from connector.errors import RefundRefused, TransportError
from connector.pipeline import executor
from connector.pipeline.cancels import request_cancel
from connector.pipeline.executor import run_due_actions
from connector.pipeline.mailorder import order_rule
from connector.pipeline.outbox import reconcile_and_plan
from connector.store.models import (
    Action,
    Cancellation,
    CustomerChoice,
    Order,
    OrderDecision,
    Shop,
    utcnow,
)
from connector.web.app import create_app
from tests.dashboard.conftest import csrf_from, login_operator
from tests.fakes import FileLogChannel, remote_order
from tests.pipeline.conftest import World

D0 = date(2026, 3, 2)  # a Monday
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ADMIN = "correct horse battery staple"


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


class Shop1:
    """One backordered order (two units of SKU-A, one in-stock SKU-B) walked through the days."""

    def __init__(self, world: World, tmp_path: Path, *, mode: str = "automatic", whole: bool = False) -> None:
        self.world = world
        self.channel = FileLogChannel(tmp_path / "sent.jsonl")
        lines = [("L1", "SKU-A", 2)] if whole else [("L1", "SKU-A", 2), ("L2", "SKU-B", 1)]
        world.today = D0
        world.store_orders(remote_order("1001", lines, created=_at(D0)))
        world.set_stock(**{"SKU-A": 0, "SKU-B": 5})
        with world.db.session() as session:
            session.get(Shop, world.shop_id).set_setting("cancel_mode", mode)  # type: ignore[union-attr]

    def day(self, offset: int, *, restock_in: int | None = None) -> date:
        """Run the connector on day D0+offset: optionally a new supplier date, then reconcile and the worker."""
        today = D0 + timedelta(days=offset)
        self.world.today = today
        self.world.services.today = lambda: today
        if restock_in is not None:
            self.world.set_supply("SKU-A", restock_in_days=restock_in)
        reconcile_and_plan(self.world.services, self.world.shop_id, today=today)
        run_due_actions(self.world.services, notifier=lambda shop, platform: self.channel)
        return today

    def notices(self) -> list[dict[str, Any]]:
        with self.world.db.session() as session:
            return [a.payload for a in session.scalars(select(Action).where(Action.kind == "notify", Action.status == "sent")
                                                       .order_by(Action.id))]

    def order(self) -> tuple[Order, OrderDecision]:
        with self.world.db.session() as session:
            order = session.scalar(select(Order))
            decision = session.scalar(select(OrderDecision))
            session.expunge_all()
            return order, decision  # type: ignore[return-value]

    def cancellation(self) -> Cancellation | None:
        with self.world.db.session() as session:
            row = session.scalar(select(Cancellation))
            session.expunge_all()
            return row

    def choose(self, choice: str, on: date) -> None:
        with self.world.db.session() as session:
            order = session.scalar(select(Order))
            assert order is not None
            session.add(CustomerChoice(shop_id=self.world.shop_id, order_id=order.id, notice_ref="n", choice=choice,
                                       chosen_at=_at(on)))


@pytest.fixture
def dashboard(world: World) -> FlaskClient:
    world.services.settings.admin_password = ADMIN
    app = create_app(world.services)
    app.config["TESTING"] = True
    client = app.test_client()
    assert login_operator(client, ADMIN).status_code == 302
    return client


def test_the_rule_walked_day_by_day_ends_in_a_cancel_and_refund(world: World, tmp_path: Path,
                                                                 dashboard: FlaskClient) -> None:
    shop = Shop1(world, tmp_path)
    shop.day(0, restock_in=10)
    first = shop.notices()
    assert [n["notice"] for n in first] == ["backordered"]
    deadline = date.fromisoformat(first[0]["eta"])
    with world.db.session() as session:
        state = order_rule(session, session.scalar(select(Order)), D0)  # type: ignore[arg-type]
    assert state is not None and (state.deadline, state.phase) == (deadline, "on_time")

    shop.day(5, restock_in=15)  # the supplier slips: the first delay, consented to by silence
    delay = shop.notices()[-1]
    assert (delay["notice"], delay["consent"]) == ("eta_changed", "silent")
    revised = date.fromisoformat(delay["eta"])
    assert revised > deadline and revised <= deadline + timedelta(days=30)

    shop.day(7)  # nothing new: no notice, the clock has nothing to say
    assert len(shop.notices()) == 2

    renewed_day = shop.day(12, restock_in=30)  # a second delay: a renewed notice asking for an explicit answer
    renewed = shop.notices()[-1]
    assert (renewed["notice"], renewed["consent"]) == ("eta_changed", "explicit")
    answer_by = date.fromisoformat(renewed["answer_by"])
    assert answer_by == max(revised, renewed_day + timedelta(days=3))
    with world.db.session() as session:
        state = order_rule(session, session.scalar(select(Order)), answer_by)  # type: ignore[arg-type]
    assert state is not None and state.phase == "awaiting_consent"

    shop.day((answer_by - D0).days)  # the last day to answer: nothing happens yet
    assert shop.cancellation() is None
    cancel_day = shop.day((answer_by - D0).days + 1)  # no answer: treated as cancelled, refunded at once
    cancellation = shop.cancellation()
    assert cancellation is not None
    assert (cancellation.reason, cancellation.status, cancellation.whole_order) == ("no_consent", "done", False)
    assert cancellation.lines == [{"line_id": "L1", "sku": "SKU-A", "title": "Item SKU-A", "quantity": 2}]
    assert world.platform.refunds["1001"][0][1][0].quantity == 2
    confirmation = shop.notices()[-1]
    assert confirmation["notice"] == "cancelled" and confirmation["refund_amount"] == "20.00"
    assert confirmation["refund_by"] == refund_due_by(cancel_day).isoformat() == cancellation.refund_due_by.isoformat()
    assert [n["notice"] for n in shop.notices()] == ["backordered", "eta_changed", "eta_changed", "cancelled"]
    with world.db.session() as session:
        rendered = session.scalars(select(Action.rendered).where(Action.kind == "notify").order_by(Action.id)).all()
    assert [r["subject"] for r in rendered][-1] == "Your order #1001 at Test Shop: items cancelled and refunded"
    assert "We have refunded USD 20.00" in rendered[-1]["text"] and "2 × Item SKU-A" in rendered[-1]["text"]
    assert "choose \"Keep waiting\" by" in rendered[2]["text"] and "further delay" in rendered[2]["text"]
    assert "further delay" not in rendered[1]["text"]

    page = dashboard.get(f"/orders/{cancellation.order_id}").get_data(as_text=True)
    section = page[page.index('id="mail-order-rule"'):page.index("Customer's choice")]
    assert deadline.isoformat() in section and "the first ETA told" in section
    assert "no answer to the renewed notice: treated as cancelled" in section
    assert f"explicit consent by {answer_by.isoformat()}" in section and "consent by silence" in section
    assert cancellation.refund_due_by.isoformat() in section and "20.00 refunded" in section
    queue = dashboard.get("/cancellations").get_data(as_text=True)
    assert "no answer to a renewed delay notice" in queue and "USD 20.00" in queue

    shop.day((cancel_day - D0).days + 1)  # the next day: no second cancel, no "ready" notice
    assert len(world.platform.refunds["1001"]) == 1
    assert [n["notice"] for n in shop.notices()][-1] == "cancelled"


def test_a_deadline_about_to_pass_gets_its_notice_even_when_nothing_changed(world: World, tmp_path: Path) -> None:
    shop = Shop1(world, tmp_path)
    shop.day(0)  # no supplier date at all: no date told, so the deadline is the order date + 30 days
    first = shop.notices()
    assert [(n["notice"], n["eta"]) for n in first] == [("backordered", None)]
    shop.day(27)
    assert len(shop.notices()) == 1  # nothing changed and the deadline is three days away
    shop.day(28)
    told = shop.notices()[-1]
    assert (told["notice"], told["eta"], told["rule"], told["consent"]) == ("eta_changed", None, True, "explicit")
    assert told["answer_by"] == (D0 + timedelta(days=31)).isoformat()  # never fewer than three days to answer
    shop.day(29)
    assert len(shop.notices()) == 2  # told once


def test_customer_cancel_of_a_whole_backordered_order_and_a_worker_killed_after_the_refund(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = Shop1(world, tmp_path, whole=True)
    shop.day(0, restock_in=10)
    shop.choose("cancel", D0 + timedelta(days=1))
    original = executor.record_done

    def killed(*args: Any, **kwargs: Any) -> None:
        raise SystemExit("worker killed between the refund and its record")

    monkeypatch.setattr(executor, "record_done", killed)
    with pytest.raises(SystemExit):
        shop.day(1)
    assert len(world.platform.refunds["1001"]) == 1
    assert shop.cancellation().status == "queued"  # type: ignore[union-attr]
    monkeypatch.setattr(executor, "record_done", original)
    shop.day(1)
    cancellation = shop.cancellation()
    assert cancellation is not None and cancellation.status == "done" and cancellation.whole_order
    assert len(world.platform.refunds["1001"]) == 1 and world.platform.refunds["1001"][0][2] is True
    with world.db.session() as session:
        action = session.scalar(select(Action).where(Action.kind == "cancel"))
        assert action is not None and action.last_error == "the store already had this refund"


def test_gateway_refusal_is_visible_and_never_retried_blindly(world: World, tmp_path: Path,
                                                              dashboard: FlaskClient) -> None:
    shop = Shop1(world, tmp_path)
    shop.day(0, restock_in=10)
    shop.choose("cancel", D0)
    world.platform.failures["cancel_units"] = [RefundRefused(["Card issuer declined the refund (account closed)"])]
    shop.day(1)
    cancellation = shop.cancellation()
    assert cancellation is not None and cancellation.status == "failed"
    assert cancellation.error == "Card issuer declined the refund (account closed)"
    shop.day(2)
    assert world.platform.writes("cancel_units") == [] and shop.cancellation().status == "failed"  # type: ignore[union-attr]
    with world.db.session() as session:
        action = session.scalar(select(Action).where(Action.kind == "cancel"))
        assert action is not None and (action.status, action.attempts) == ("dead", 1)  # not tried again on its own
    page = dashboard.get("/cancellations").get_data(as_text=True)
    assert "Card issuer declined the refund (account closed)" in page
    token = csrf_from(dashboard, "/cancellations")
    dashboard.post(f"/cancellations/{cancellation.id}/retry", data={"csrf_token": token})
    shop.day(2)
    assert shop.cancellation().status == "done"  # type: ignore[union-attr]


def test_transport_trouble_is_retried_and_refunds_once(world: World, tmp_path: Path) -> None:
    shop = Shop1(world, tmp_path)
    shop.day(0, restock_in=10)
    shop.choose("cancel", D0)
    world.platform.failures["cancel_units"] = [TransportError("store down")]
    shop.day(1)
    assert shop.cancellation().status == "queued"  # type: ignore[union-attr]
    with world.db.session() as session:
        session.execute(Action.__table__.update().values(next_attempt_at=utcnow()))
    shop.day(1)
    assert shop.cancellation().status == "done" and len(world.platform.refunds["1001"]) == 1  # type: ignore[union-attr]


def test_approve_queue_waits_for_the_merchant_and_records_who(world: World, tmp_path: Path,
                                                              dashboard: FlaskClient) -> None:
    shop = Shop1(world, tmp_path, mode="approve")
    shop.day(0, restock_in=10)
    shop.choose("cancel", D0 + timedelta(days=1))
    shop.day(1)
    waiting = shop.cancellation()
    assert waiting is not None and waiting.status == "awaiting_approval"
    assert world.platform.writes("cancel_units") == []
    queue = dashboard.get("/cancellations").get_data(as_text=True)
    assert f'data-cancellation="{waiting.id}"' in queue and "7</strong> working days left" in queue
    world.services.today = lambda: date(2026, 3, 6)  # the Friday: Monday to Thursday are left
    assert "4</strong> working days left" in dashboard.get("/cancellations").get_data(as_text=True)
    assert waiting.refund_due_by == date(2026, 3, 12)  # Tuesday + 7 working days
    token = csrf_from(dashboard, "/cancellations")
    assert dashboard.post(f"/cancellations/{waiting.id}/approve", data={"csrf_token": token}).status_code == 302
    shop.day(3)
    done = shop.cancellation()
    assert done is not None and (done.status, done.decided_by) == ("done", "operator (dashboard)")
    assert world.platform.writes("cancel_units") == ["1001"]


def test_declined_cancel_is_recorded_and_nothing_is_refunded(world: World, tmp_path: Path,
                                                             dashboard: FlaskClient) -> None:
    shop = Shop1(world, tmp_path, mode="approve")
    shop.day(0, restock_in=10)
    with world.db.session() as session:
        order = session.scalar(select(Order))
        row = request_cancel(session, session.get(Shop, world.shop_id), order, reason="customer",  # type: ignore[arg-type]
                             today=D0, settings=world.services.settings)
        assert row is not None
        row_id = row.id
    token = csrf_from(dashboard, "/cancellations")
    dashboard.post(f"/cancellations/{row_id}/decline", data={"csrf_token": token})
    shop.day(1)
    declined = shop.cancellation()
    assert declined is not None and (declined.status, declined.decided_by) == ("declined", "operator (dashboard)")
    assert world.platform.writes("cancel_units") == []


def test_cancel_mode_off_only_records(world: World, tmp_path: Path) -> None:
    shop = Shop1(world, tmp_path, mode="off")
    shop.day(0, restock_in=10)
    shop.choose("cancel", D0)
    shop.day(1)
    assert shop.cancellation() is None and world.platform.writes("cancel_units") == []
    with world.db.session() as session:
        assert session.scalar(select(CustomerChoice.handled_at)) is None  # still on the merchant's list


def test_the_choice_page_records_a_cancel_and_then_shows_the_refund(world: World, tmp_path: Path,
                                                                    dashboard: FlaskClient) -> None:
    from connector.notify.links import make_choice_token

    shop = Shop1(world, tmp_path)
    shop.day(0, restock_in=10)
    with world.db.session() as session:
        order = session.scalar(select(Order))
        assert order is not None
        order_id = order.id
    token = make_choice_token(world.services.settings.connector_secret_key or "", world.shop_id, order_id, "n1")
    page = dashboard.get(f"/choice/{token}").get_data(as_text=True)
    csrf = CSRF.search(page)
    assert csrf is not None and 'value="cancel"' in page
    done = dashboard.post(f"/choice/{token}", data={"choice": "cancel", "csrf_token": csrf.group(1)})
    assert done.status_code == 200
    assert shop.cancellation().status == "queued"  # type: ignore[union-attr]  # automatic: queued at once
    shop.day(0)
    after = dashboard.get(f"/choice/{token}").get_data(as_text=True)
    assert "The items that had not shipped are cancelled." in after and "USD 20.00" in after
    assert 'value="cancel"' not in after  # nothing is left to choose


def test_every_cancel_is_one_row_per_order_however_often_it_is_asked(world: World, tmp_path: Path) -> None:
    shop = Shop1(world, tmp_path)
    shop.day(0, restock_in=10)
    with world.db.session() as session:
        order = session.scalar(select(Order))
        store = session.get(Shop, world.shop_id)
        first = request_cancel(session, store, order, reason="customer", today=D0,  # type: ignore[arg-type]
                               settings=world.services.settings)
        second = request_cancel(session, store, order, reason="no_consent", today=D0,  # type: ignore[arg-type]
                                settings=world.services.settings)
        assert first is not None and second is not None and first.id == second.id
        assert len(session.scalars(select(Action).where(Action.kind == "cancel")).all()) == 1
