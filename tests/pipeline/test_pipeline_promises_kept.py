"""Promises kept: the first ETA told is stored per line, the line's readiness settles it, and the report counts it;
a learned range reaches the notice (English and German) and the store's marks."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select, update

from connector.cli import cli
from connector.notify.policy import NoticeLine
from connector.notify.render import NoticeContext, render_notice
from connector.pipeline.executor import run_due_actions
from connector.pipeline.payloads import marks_from_payload, marks_to_payload
from connector.pipeline.outcomes import outcomes_report
from connector.platforms.base import LineMark, OrderMarks
from connector.platforms.shopify.marks import desired_values
from connector.platforms.woocommerce.adapter import marks_meta
from connector.store.models import LinePromise, Order
from tests.fakes import FileLogChannel, remote_order
from tests.pipeline.conftest import T0, World

from connector.pipeline.outbox import reconcile_and_plan


def backorder(world: World, *order_ids: str) -> None:
    world.store_orders(*(remote_order(o, [(f"L{o}", "SKU-A", 1)], created=T0) for o in order_ids))
    world.set_stock(**{"SKU-A": 0})
    world.set_supply("SKU-A", restock_in_days=10, qty=100)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)


def promises(world: World) -> list[tuple[str, date, date | None, str, list[list[str]]]]:
    with world.db.session() as session:
        return [(p.sku or "", p.first_eta, p.ready_on, p.outcome, p.history)
                for p in session.scalars(select(LinePromise).order_by(LinePromise.id))]


def test_the_first_eta_told_is_kept_when_stock_comes_in_time(world: World, tmp_path: Path) -> None:
    backorder(world, "1")
    first = world.today + timedelta(days=18)  # restock in 10 days + 7 default lead + 1 handling
    assert promises(world) == [("SKU-A", first, None, "waiting", [[world.today.isoformat(), first.isoformat()]])]
    channel = FileLogChannel(tmp_path / "sent.log")
    run_due_actions(world.services, notifier=lambda shop, platform: channel)
    world.set_stock(**{"SKU-A": 5})
    reconcile_and_plan(world.services, world.shop_id, today=world.today + timedelta(days=3))
    assert promises(world)[0][2:4] == (world.today + timedelta(days=4), "kept")  # in stock on day 3, +1 handling
    result = CliRunner().invoke(cli, ["report", "--json"], obj=world.services, catch_exceptions=False)
    [shop] = json.loads(result.stdout)["shops"]
    assert (shop["orders"], shop["backordered_orders"], shop["backorder_rate"]) == (1, 1, 1.0)
    assert (shop["promises"], shop["promise_kept_rate"], shop["notices_sent"]) == (1, 1.0, 1)
    assert shop["median_wait_days"] == (world.today + timedelta(days=4) - T0.date()).days
    later = CliRunner().invoke(cli, ["report", "--json", "--since", (T0.date() + timedelta(days=1)).isoformat()],
                               obj=world.services)
    assert json.loads(later.stdout)["shops"][0]["orders"] == 0


def test_a_line_ready_after_the_first_date_missed_it_and_a_cancel_counts_neither(world: World) -> None:
    backorder(world, "1", "2")
    with world.db.session() as session:
        session.execute(update(Order).where(Order.platform_id == "2").values(is_open=False, status="cancelled"))
    world.set_stock(**{"SKU-A": 5})
    reconcile_and_plan(world.services, world.shop_id, today=world.today + timedelta(days=30))
    assert [p[3] for p in promises(world)] == ["missed", "cancelled"]
    with world.db.session() as session:
        report = outcomes_report(session, world.today + timedelta(days=30))
    assert report["shops"][0]["promise_kept_rate"] == 0.0
    assert report["suppliers"][0]["name"] == "acme"


def test_a_waiting_line_past_its_first_date_counts_as_missed(world: World) -> None:
    backorder(world, "1")
    with world.db.session() as session:
        waiting = outcomes_report(session, world.today + timedelta(days=40))["shops"][0]
    assert (waiting["promises_waiting_overdue"], waiting["promise_kept_rate"]) == (1, 0.0)


def context(eta: date, earliest: date | None, latest: date | None) -> NoticeContext:
    line = NoticeLine("1", "MUG", "Red mug", 2, eta, eta_earliest=earliest, eta_latest=latest)
    return NoticeContext("#1001", "Shop", [line], eta, earliest, latest, choice_url="https://x.example/c")


def test_a_range_of_three_days_or_more_is_told_as_a_range() -> None:
    ranged = context(date(2027, 3, 14), date(2027, 3, 12), date(2027, 3, 16))
    english = render_notice("backordered", ranged, locale="en")
    assert "expected between 12 and 16 March 2027" in english.text
    assert "We expect to ship your order between 12 and 16 March 2027." in english.text
    assert "between 12 and 16 March 2027" in english.html
    german = render_notice("backordered", ranged, locale="de")
    assert "voraussichtlich zwischen dem 12. und 16. März 2027" in german.text
    assert "Ihre Bestellung zwischen dem 12. und 16. März 2027 zu versenden" in german.text
    across = render_notice("eta_changed", context(date(2027, 3, 30), date(2027, 3, 29), date(2027, 4, 2)), locale="en")
    assert "between 29 March and 2 April 2027" in across.text
    narrow = render_notice("backordered", context(date(2027, 3, 14), date(2027, 3, 13), date(2027, 3, 15)), locale="en")
    assert "between" not in narrow.text and "on Sunday, 14 March 2027" in narrow.text


def test_marks_carry_the_range_only_while_there_is_one() -> None:
    eta = date(2027, 3, 14)
    plain = OrderMarks("backordered", eta, (LineMark("1", "MUG", 2, eta),))
    assert marks_to_payload(plain) == {"status": "backordered", "eta": "2027-03-14",
                                       "lines": [{"line_id": "1", "sku": "MUG", "backordered": 2, "eta": "2027-03-14"}]}
    assert desired_values(plain)["eta_earliest"] is None and "_backorder_eta_earliest" not in marks_meta(plain)
    ranged = OrderMarks("backordered", eta, (LineMark("1", "MUG", 2, eta, date(2027, 3, 12), date(2027, 3, 16)),),
                        date(2027, 3, 12), date(2027, 3, 16))
    assert marks_from_payload(marks_to_payload(ranged)) == ranged
    values = desired_values(ranged)
    assert (values["eta_earliest"], values["eta_latest"]) == ("2027-03-12", "2027-03-16")
    assert json.loads(values["lines"] or "")[0]["eta_latest"] == "2027-03-16"
    assert marks_meta(ranged)["_backorder_eta_latest"] == "2027-03-16"
