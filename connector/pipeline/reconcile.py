"""Reconcile: runs the engine over a shop's stored orders, stock and supply, and records its decisions."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from connector.engine import Order as EngineOrder
from connector.engine import OrderLine as EngineLine
from connector.engine import LinePlan, OrderPlan, Plan, Policy, SupplyRow, VariantAvailability, make_plan, variant_availability
from connector.engine.lateness import LatenessModel
from connector.feeds.promises import lateness_model
from connector.pipeline.outcomes import settle_ready
from connector.platforms import kind_of
from connector.platforms.inbound import StockRules
from connector.pipeline.reasons import explain_plan
from connector.store.models import (
    HeldReconcile,
    InventoryLevel,
    LineDecision,
    Order,
    OrderDecision,
    OrderLine,
    Shop,
    Supplier,
    SupplyItem,
    utcnow,
)

SKU_CHUNK = 500  # SKUs per supply query (bound parameters stay well under every database's limit)
CLEARED = OrderPlan(order_id="", order_name="", status="ok", eta=None, lines=())


@dataclass(frozen=True, slots=True)
class OrderChange:
    """An order whose decision differs from what was last pushed to its store."""

    order_id: int  # our database id
    plan: OrderPlan  # status "ok" with no lines when the order left the backorder list
    previous_fingerprint: str | None
    fingerprint: str


@dataclass
class ReconcileResult:
    shop_id: int
    plan: Plan
    changes: list[OrderChange] = field(default_factory=list)
    dry_run: bool = False
    held: HeldReconcile | None = None  # set when the notice brake held this reconcile's writes
    # The availability ETA of every tracked stock key, when the shop shows storefront ETAs (else None).
    variants: list[VariantAvailability] | None = None
    stock: StockView | None = None


def shop_policy(shop: Shop, defaults: Policy) -> Policy:
    return Policy(
        handling_days=int(shop.setting("handling_days", defaults.handling_days)),
        default_lead_time_days=int(shop.setting("default_lead_time_days", defaults.default_lead_time_days)),
        eta_confidence=float(shop.setting("eta_confidence", defaults.eta_confidence)),
        learn_lateness=bool(shop.setting("learn_lateness", defaults.learn_lateness)),
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _ranged(line: LinePlan) -> bool:
    """A line whose range is more than its ETA (a learned model spread it); without one the fingerprint
    is exactly what it was before ranges existed, so nothing is pushed again."""
    return line.eta is not None and (line.eta_earliest, line.eta_latest) not in ((None, None), (line.eta, line.eta))


def fingerprint(plan: OrderPlan) -> str:
    """Identifies a decision by what the store and customer would be shown, nothing else."""
    shown: dict[str, Any] = {
        "status": plan.status,
        "eta": plan.eta.isoformat() if plan.eta else None,
        "lines": [
            [line.line_id, line.backordered, line.eta.isoformat() if line.eta else None]
            + ([_iso(line.eta_earliest), _iso(line.eta_latest)] if _ranged(line) else [])
            for line in plan.lines
            if line.backordered
        ],
    }
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:32]


CLEARED_FINGERPRINT = fingerprint(CLEARED)


@dataclass
class StockView:
    """Allocatable units per stock key. A key is the SKU, except for SKUs that draw on one shared
    stock (WooCommerce variations whose stock is managed by their parent product): those share the
    key `pool:<item>` so the engine allocates the shared units once, not once per SKU."""

    units: dict[str, int] = field(default_factory=dict)
    pool_of: dict[str, str] = field(default_factory=dict)

    def key(self, sku: str | None) -> str | None:
        return self.pool_of.get(sku, sku) if sku else sku


def load_stock(session: Session, shop_id: int, rules: StockRules) -> StockView:
    """Allocatable units per tracked SKU or shared pool, counted by the platform's `rules`.

    Where the store takes units off its stock count for a line (WooCommerce's `_reduced_stock`), those
    units are still ours to allocate (to those very lines), so they are added back.
    """
    levels = session.execute(
        select(InventoryLevel.sku, InventoryLevel.location_id, InventoryLevel.quantity, InventoryLevel.tracked,
               InventoryLevel.item_ref)
        .where(InventoryLevel.shop_id == shop_id)
    ).all()
    skus_of_item: dict[str, set[str]] = defaultdict(set)
    for sku, _location, _quantity, _tracked, item_ref in levels:
        if item_ref:
            skus_of_item[item_ref].add(sku)
    view = StockView()
    for item_ref, skus in skus_of_item.items():
        if rules.shared_stock_items and len(skus) > 1:
            view.pool_of.update({sku: f"pool:{item_ref}" for sku in skus})
    untracked: set[str] = set()
    counted: set[tuple[str, str]] = set()
    for sku, location, quantity, tracked, _item_ref in levels:
        key = view.key(sku)
        assert key is not None
        if not tracked:
            untracked.add(key)
        elif (key, location) not in counted:  # a pool's units are reported once per member SKU
            counted.add((key, location))
            view.units[key] = view.units.get(key, 0) + int(quantity or 0)
    for key in untracked:
        view.units.pop(key, None)
    if not rules.reduced_stock_counts_back:
        return view
    reduced_lines = session.execute(
        select(OrderLine.sku, OrderLine.open_quantity, OrderLine.stock_reduced)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.shop_id == shop_id, Order.is_open.is_(True), OrderLine.stock_reduced > 0)
    )
    for sku, open_quantity, stock_reduced in reduced_lines:
        key = view.key(sku)
        if key in view.units:
            view.units[key] += min(open_quantity, stock_reduced)
    return view


def load_supply(session: Session, shop_id: int, view: StockView | None = None,
                skus: set[str] | None = None) -> list[SupplyRow]:
    """Supply rows for the SKUs the shop's open order lines ask for (or `skus`), and the shared pools they
    draw on.

    Only those: a supplier feed may list a million SKUs, and reconcile's work must follow the open
    order lines, not the size of the feeds. With no open line nothing is read at all."""
    wanted = set(skus) if skus is not None else {sku for sku in session.scalars(
        select(OrderLine.sku).distinct().join(Order, Order.id == OrderLine.order_id)
        .where(Order.shop_id == shop_id, Order.is_open.is_(True), OrderLine.sku.is_not(None))
    ) if sku is not None}
    if view is not None and view.pool_of:
        pools = {view.pool_of[sku] for sku in wanted if sku in view.pool_of}
        wanted |= {sku for sku, pool in view.pool_of.items() if pool in pools}
    return supply_rows_for(session, shop_id, wanted, view)


def supply_rows_for(session: Session, shop_id: int, wanted: set[str], view: StockView | None = None) -> list[SupplyRow]:
    """Every feed row the shop sees for the `wanted` SKUs, by supplier name and feed line (SKUs as stock keys)."""
    if not wanted:
        return []
    scope = or_(Supplier.scope == "all", Supplier.scope == f"shop:{shop_id}")
    rows: list[SupplyRow] = []
    skus = sorted(wanted)
    for start in range(0, len(skus), SKU_CHUNK):
        found = session.execute(
            select(Supplier.name, SupplyItem.sku, SupplyItem.available, SupplyItem.restock_date,
                   SupplyItem.restock_qty, SupplyItem.lead_time_days)
            .join(SupplyItem, SupplyItem.supplier_id == Supplier.id)
            .where(scope, SupplyItem.sku.in_(skus[start : start + SKU_CHUNK]))
            .order_by(Supplier.name, SupplyItem.line_no)
        ).tuples()
        rows.extend(
            SupplyRow(supplier=name, sku=view.key(sku) if view else sku,  # type: ignore[arg-type]
                      available=available, restock_date=restock_date, restock_qty=restock_qty,
                      lead_time_days=lead_time_days)
            for name, sku, available, restock_date, restock_qty, lead_time_days in found
        )
    return rows


@dataclass
class LoadedOrders:
    """Open orders as engine input (SKUs as stock keys), with maps from platform ids back to our rows."""

    orders: list[EngineOrder] = field(default_factory=list)
    order_ids: dict[str, int] = field(default_factory=dict)  # order platform id -> row id
    line_ids: dict[tuple[str, str], int] = field(default_factory=dict)  # (order, line) platform ids -> row id
    skus: dict[int, str | None] = field(default_factory=dict)  # line row id -> its own SKU


def load_orders(session: Session, shop_id: int, view: StockView | None = None) -> LoadedOrders:
    loaded = LoadedOrders()
    lines_by_order: dict[int, list[EngineLine]] = defaultdict(list)
    line_rows = session.execute(
        select(OrderLine, Order.platform_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.shop_id == shop_id, Order.is_open.is_(True))
    )
    for line, order_platform_id in line_rows:
        loaded.line_ids[(order_platform_id, line.platform_id)] = line.id
        loaded.skus[line.id] = line.sku
        lines_by_order[line.order_id].append(
            EngineLine(
                line_id=line.platform_id,
                sku=view.key(line.sku) if view else line.sku,
                quantity=line.quantity,
                open_quantity=line.open_quantity,
                requires_shipping=line.requires_shipping,
            )
        )
    for order in session.scalars(select(Order).where(Order.shop_id == shop_id, Order.is_open.is_(True))):
        loaded.order_ids[order.platform_id] = order.id
        loaded.orders.append(
            EngineOrder(
                order_id=order.platform_id,
                name=order.name,
                created_at=order.created_at,
                is_open=True,
                lines=tuple(lines_by_order.get(order.id, ())),
            )
        )
    return loaded


def reconcile_shop(
    session: Session, shop: Shop, as_of: date, defaults: Policy, *, dry_run: bool = False
) -> ReconcileResult:
    """Plan the shop, record every decision (unless `dry_run`) and list the orders whose decision
    differs from what was last pushed; the caller's transaction makes it all-or-nothing."""
    view = load_stock(session, shop.id, kind_of(shop.platform).stock_rules)
    loaded = load_orders(session, shop.id, view)
    order_ids, line_ids = loaded.order_ids, loaded.line_ids
    policy = shop_policy(shop, defaults)
    lateness = shop_lateness(session, shop, as_of, policy)
    supply = load_supply(session, shop.id, view)
    plan = make_plan(loaded.orders, view.units, supply, as_of, policy, lateness)
    explain_plan(session, shop.id, plan, as_of, view)
    variants = storefront_availability(session, shop, plan, view, supply, policy, lateness)
    if view.pool_of:
        _show_real_skus(plan, loaded)
    previous = {
        decision.order_id: decision
        for decision in session.scalars(
            select(OrderDecision).join(Order, Order.id == OrderDecision.order_id).where(Order.shop_id == shop.id)
        )
    }
    result = ReconcileResult(shop_id=shop.id, plan=plan, dry_run=dry_run, variants=variants, stock=view)
    now = utcnow()
    planned: set[int] = set()
    # One read of the line decisions, not one per order: a shop has thousands of open orders.
    line_rows = {} if dry_run else _line_decisions(session, list(line_ids.values()))
    for order_plan in plan.orders:
        order_id = order_ids[order_plan.order_id]
        planned.add(order_id)
        _record(session, result, previous.get(order_id), order_id, order_plan, as_of, now, dry_run)
        if not dry_run:
            _record_lines(session, order_plan, line_ids, line_rows, now)
    # Orders that left the list (cancelled, fulfilled, no longer tracked) are now plainly "ok". One already
    # recorded so, never pushed and with no line decisions left, is skipped too: otherwise every order the
    # shop ever closed without a backorder would be rewritten (and its lines deleted) on every reconcile.
    with_lines = set() if dry_run else _orders_with_line_decisions(session, shop.id)
    for order_id, decision in previous.items():
        if order_id in planned or CLEARED_FINGERPRINT == decision.fingerprint == decision.pushed_fingerprint:
            continue
        if decision.fingerprint == CLEARED_FINGERPRINT and decision.pushed_fingerprint is None \
                and order_id not in with_lines:
            continue
        _record(session, result, decision, order_id, CLEARED, as_of, now, dry_run)
        if not dry_run:
            session.execute(
                delete(LineDecision).where(
                    LineDecision.order_line_id.in_(select(OrderLine.id).where(OrderLine.order_id == order_id))
                )
            )
    if not dry_run:
        session.flush()
        settle_ready(session, shop.id, {order_plan.order_id: order_plan for order_plan in plan.orders}, as_of,
                     policy.handling_days)
    return result


def shop_lateness(session: Session, shop: Shop, as_of: date, policy: Policy) -> LatenessModel | None:
    """The learned supplier lateness reconcile dates this shop's promises with (None when it is off)."""
    return lateness_model(session, as_of, policy.eta_confidence, shop.id) if policy.learn_lateness else None


def storefront_availability(session: Session, shop: Shop, plan: Plan, view: StockView, supply: list[SupplyRow],
                            policy: Policy, lateness: LatenessModel | None = None) -> list[VariantAvailability] | None:
    """The availability ETA of each tracked stock key, for a shop that shows storefront ETAs (None otherwise).

    `plan` must still carry stock keys (before `_show_real_skus`) and come from the same `lateness` model. The supply reconcile read covers the
    SKUs of open lines only; a SKU sold out with nothing waiting needs its own supply for its next arrival.
    """
    if not shop.setting("storefront_eta", False):
        return None
    covered = {row.sku for row in supply}
    waiting = {line.sku for order in plan.orders for line in order.lines}
    short = {key for key, units in view.units.items() if units <= 0 and key not in covered and key not in waiting}
    if short:
        real = {sku for sku, key in view.pool_of.items() if key in short} | {key for key in short
                                                                               if not key.startswith("pool:")}
        supply = supply + load_supply(session, shop.id, view, skus=real)
    return variant_availability(plan, view.units, supply, policy, lateness=lateness)


def _show_real_skus(plan: Plan, loaded: LoadedOrders) -> None:
    """Put each line's own SKU back where the engine saw its shared pool's key."""
    for order_plan in plan.orders:
        for line in order_plan.lines:
            real = loaded.skus.get(loaded.line_ids[(order_plan.order_id, line.line_id)])
            if real:
                line.sku = real


def _record(
    session: Session,
    result: ReconcileResult,
    decision: OrderDecision | None,
    order_id: int,
    order_plan: OrderPlan,
    as_of: date,
    now: datetime,
    dry_run: bool,
) -> None:
    new_fingerprint = fingerprint(order_plan)
    pushed = decision.pushed_fingerprint if decision else None
    # An order never pushed and plainly ok needs nothing written to its store.
    needs_push = new_fingerprint != pushed and not (pushed is None and order_plan.status == "ok")
    if needs_push:
        result.changes.append(OrderChange(order_id, order_plan, pushed, new_fingerprint))
    if dry_run:
        return
    if decision is None:
        decision = OrderDecision(order_id=order_id, pushed_fingerprint=None)
        session.add(decision)
    decision.status = order_plan.status
    decision.eta = order_plan.eta
    decision.fingerprint = new_fingerprint
    decision.as_of = as_of
    decision.decided_at = now


def _line_decisions(session: Session, line_row_ids: list[int]) -> dict[int, LineDecision]:
    """The recorded decisions of these order lines, by line row id."""
    found: dict[int, LineDecision] = {}
    for start in range(0, len(line_row_ids), SKU_CHUNK):
        chunk = line_row_ids[start : start + SKU_CHUNK]
        found.update((row.order_line_id, row) for row in session.scalars(
            select(LineDecision).where(LineDecision.order_line_id.in_(chunk))))
    return found


def _orders_with_line_decisions(session: Session, shop_id: int) -> set[int]:
    return set(session.scalars(
        select(OrderLine.order_id).distinct().join(LineDecision, LineDecision.order_line_id == OrderLine.id)
        .join(Order, Order.id == OrderLine.order_id).where(Order.shop_id == shop_id)
    ))


def _record_lines(session: Session, order_plan: OrderPlan, line_ids: dict[tuple[str, str], int],
                  existing: dict[int, LineDecision], now: datetime) -> None:
    wanted = {line_ids[(order_plan.order_id, line.line_id)]: line for line in order_plan.lines}
    for row_id, line in wanted.items():
        row = existing.get(row_id)
        if row is None:
            row = LineDecision(order_line_id=row_id)
            session.add(row)
            existing[row_id] = row
        row.allocated = line.allocated
        row.backordered = line.backordered
        row.eta = line.eta
        row.eta_source = (line.eta_source or None) and line.eta_source[:300]
        row.reason = line.reason
        row.decided_at = now
