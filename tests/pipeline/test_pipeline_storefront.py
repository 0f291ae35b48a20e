"""The storefront ETA queue: reconcile records each variant's value and queues only changes; the push
settles each row (written, refused for good, or retried later); back in stock clears."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from connector.cli import cli
from connector.errors import Skipped, TransportError
from connector.pipeline.outbox import reconcile_and_plan
from connector.pipeline.retry import RetryPolicy, no_jitter
from connector.pipeline.storefront import push_storefront, run_due_pushes
from connector.platforms.base import StockRecord
from connector.store.models import Shop, StorefrontEta
from connector.store.repo import store_stock
from tests.fakes import remote_order
from tests.pipeline.conftest import T0, World

RETRY = RetryPolicy(max_attempts=3, jitter=no_jitter)


def turn_on(world: World, **settings: object) -> None:
    with world.db.session() as session:
        shop = session.get(Shop, world.shop_id)
        assert shop is not None
        for key, value in {"storefront_eta": True, **settings}.items():
            shop.set_setting(key, value)


def stock(world: World, **quantities: int) -> None:
    with world.db.session() as session:
        store_stock(session, world.shop_id, [StockRecord(sku, "default", units, item_ref=f"item-{sku}",
                                                         storefront_ref=f"v-{sku}") for sku, units in quantities.items()],
                    complete=True)


def rows(world: World) -> dict[str, StorefrontEta]:
    with world.db.session() as session:
        found = {row.sku: row for row in session.scalars(select(StorefrontEta))}
        session.expunge_all()
    return found


def test_off_by_default_nothing_is_recorded(world: World) -> None:
    stock(world, MUG=0)
    world.set_supply("MUG", restock_in_days=5)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    assert rows(world) == {}


def test_first_push_change_and_clearing_write_only_what_changed(world: World) -> None:
    turn_on(world, storefront_text="Back around {date:%-d %B}")
    stock(world, MUG=0, TEE=0, CAP=4)
    world.set_supply("MUG", restock_in_days=5)
    world.set_supply("TEE", restock_in_days=9)
    world.store_orders(remote_order("1", [("l1", "MUG", 2)], created=T0))
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    found = rows(world)
    assert set(found) == {"MUG", "TEE"}  # CAP is in stock: no row, nothing written
    mug = world.today + timedelta(days=5 + 7 + 1)  # restock, the default lead, handling
    assert found["MUG"].value == {"eta": mug.isoformat(), "text": f"Back around {mug:%-d %B}"}
    assert {row.status for row in found.values()} == {"pending"}

    assert run_due_pushes(world.services) == 2
    assert world.platform.storefront_requests == 1  # both variants in one request
    assert world.platform.storefront["v-MUG"].eta == mug and world.platform.calls[0] == ("prepare_storefront", "")

    # Nothing changed: nothing queued, nothing written.
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    assert {row.status for row in rows(world).values()} == {"done"}
    assert run_due_pushes(world.services) == 0 and world.platform.storefront_requests == 1

    # The tee's restock slips; the mug comes back in stock: one update, one clear.
    world.set_supply("TEE", restock_in_days=12)
    stock(world, MUG=10, TEE=0, CAP=4)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    queued = {sku: row.value for sku, row in rows(world).items() if row.status == "pending"}
    assert queued == {"MUG": None, "TEE": {"eta": (world.today + timedelta(days=20)).isoformat(),
                                           "text": f"Back around {world.today + timedelta(days=20):%-d %B}"}}
    assert run_due_pushes(world.services) == 2
    assert set(world.platform.storefront) == {"v-TEE"}  # the mug's ETA is gone from its page
    assert [call for call in world.platform.calls if call[0] == "prepare_storefront"] == [("prepare_storefront", "")]


def test_a_change_undone_before_the_push_writes_nothing(world: World) -> None:
    turn_on(world)
    stock(world, MUG=0)
    world.set_supply("MUG", restock_in_days=5)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    run_due_pushes(world.services)
    world.set_supply("MUG", restock_in_days=8)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    world.set_supply("MUG", restock_in_days=5)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    assert rows(world)["MUG"].status == "done"
    assert run_due_pushes(world.services) == 0 and world.platform.storefront_requests == 1


def test_refused_rows_fail_with_the_reason_and_transport_errors_are_retried(world: World) -> None:
    turn_on(world)
    stock(world, MUG=0, TEE=0)
    world.set_supply("MUG", restock_in_days=5)
    world.set_supply("TEE", restock_in_days=5)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    world.platform.failures["write_storefront_etas"].append(TransportError("store down"))
    report = push_storefront(world.services, world.shop_id, retry=RETRY)
    assert (report.written, report.retried, report.failed) == (0, 2, 0)
    assert {(row.status, row.attempts) for row in rows(world).values()} == {("pending", 1)}
    assert push_storefront(world.services, world.shop_id, retry=RETRY).pending == 0  # not due yet (backoff)

    later = max(row.next_attempt_at for row in rows(world).values())
    world.platform.storefront_refused["v-TEE"] = "woocommerce_rest_product_invalid_id: Invalid ID."
    report = push_storefront(world.services, world.shop_id, retry=RETRY, now=later)
    assert (report.written, report.failed) == (1, 1)
    tee = rows(world)["TEE"]
    assert tee.status == "failed" and tee.last_error == "woocommerce_rest_product_invalid_id: Invalid ID."
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    assert rows(world)["TEE"].status == "failed"  # not queued again until its value changes


def test_a_missing_scope_writes_nothing_and_says_why(world: World) -> None:
    turn_on(world)
    stock(world, MUG=0)
    world.set_supply("MUG", restock_in_days=5)
    reconcile_and_plan(world.services, world.shop_id, today=world.today)
    world.platform.failures["prepare_storefront"].append(Skipped("writing the storefront ETA needs write_products"))
    report = push_storefront(world.services, world.shop_id)
    assert report.written == 0 and report.errors == ["writing the storefront ETA needs write_products"]
    mug = rows(world)["MUG"]
    assert mug.status == "pending" and mug.last_error == "writing the storefront ETA needs write_products"


def test_a_template_that_does_not_format_is_refused_with_exit_2(world: World) -> None:
    result = CliRunner().invoke(cli, ["storefront", "settings", "--shop", str(world.shop_id), "--on",
                                      "--text", "Back on {day}"], obj=world.services)
    assert result.exit_code == 2 and "--text" in result.output and "{date}" in result.output
    result = CliRunner().invoke(cli, ["storefront", "settings", "--shop", str(world.shop_id), "--on",
                                      "--range-text", "{earliest:%-d} to {latest:%-d %B}"], obj=world.services)
    assert result.exit_code == 0 and "storefront ETA on" in result.output
