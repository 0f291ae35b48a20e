"""Read-only queries behind the backorder pages: filtered, sorted, paged orders with their lines, pushes and notices.

Every query takes the shop id and filters by it; callers pass only a shop the viewer may see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from connector.store.models import Action, CustomerChoice, LineDecision, Order, OrderDecision, OrderLine

PAGE_SIZE = 50
STORE_KINDS = ("tag", "untag", "marks", "note", "hold", "release", "ship_ready", "cancel")
SHOWN_PUSH_KINDS = ("tag", "marks", "note", "hold")
STORE_PENDING = ("pending", "running", "failed")
NOTICE_STUCK = ("sending", "stuck")

STATUS_FILTERS: dict[str, str] = {
    "push_pending": "Store update pending",
    "push_failed": "Store update failed",
    "notice_sent": "Customer notified",
    "notice_waiting": "Notice queued",
    "notice_stuck": "Notice stuck",
    "no_notice": "No notice yet",
    "choice_waiting": "Customer choice to handle",
}
SORTS: dict[str, str] = {"eta": "ETA", "order": "Order", "customer": "Customer", "created": "Placed", "units": "Units"}


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str) -> date | None:
    """Monday of an ISO week "2026-W07"; None when malformed."""
    try:
        year, number = week.split("-W")
        return date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        return None


def week_label(week: str) -> str:
    monday = week_start(week)
    return f"Week of {monday:%d %b %Y}" if monday else "Unknown ETA"


@dataclass(frozen=True, slots=True)
class OrderFilters:
    """The list's search, filters, sort and page, as read from (and written back to) the query string."""

    q: str = ""
    week: str = ""  # an ISO week, "unknown", or "" for every ETA
    status: str = ""
    sort: str = "eta"
    direction: str = "asc"
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> OrderFilters:
        week = (args.get("week") or "").strip()
        if week and week != "unknown" and week_start(week) is None:
            week = ""
        status = args.get("status") or ""
        sort = args.get("sort") or "eta"
        page = args.get("page") or "1"
        return cls(
            q=(args.get("q") or "").strip()[:200],
            week=week,
            status=status if status in STATUS_FILTERS else "",
            sort=sort if sort in SORTS else "eta",
            direction="desc" if args.get("dir") == "desc" else "asc",
            page=max(1, min(int(page), 100_000)) if page.isdigit() else 1,
        )

    def args(self, **changes: Any) -> dict[str, str]:
        """Query-string arguments for a link to this view with `changes` (defaults left out)."""
        changed = replace(self, **changes)
        values = {"q": changed.q, "week": changed.week, "status": changed.status, "sort": changed.sort,
                  "dir": changed.direction, "page": str(changed.page)}
        defaults = {"sort": "eta", "dir": "asc", "page": "1"}
        return {key: value for key, value in values.items() if value and defaults.get(key) != value}

    def sort_link(self, key: str) -> dict[str, str]:
        direction = "desc" if self.sort == key and self.direction == "asc" else "asc"
        return self.args(sort=key, direction=direction, page=1)


@dataclass(slots=True)
class LineView:
    line_id: int
    sku: str | None
    title: str
    quantity: int
    open_quantity: int
    allocated: int
    backordered: int
    eta: date | None
    eta_source: str | None
    reason: str | None = None  # engine.reasons code of a backordered line


@dataclass(slots=True)
class ActionView:
    id: int
    kind: str
    status: str
    created_at: datetime
    finished_at: datetime | None
    channel: str | None
    attempts: int
    last_error: str | None
    manual: bool
    notice: str | None


@dataclass(slots=True)
class OrderView:
    id: int
    shop_id: int
    name: str
    customer: str
    email: str | None
    created_at: datetime
    status: str
    eta: date | None
    decided_at: datetime | None
    pushed_at: datetime | None
    contact_withheld: bool = False  # the store withholds the customer's contact details: no notices
    out_of_reach_at: datetime | None = None  # the store stopped showing the order (60-day window)
    lines: list[LineView] = field(default_factory=list)
    pushes: dict[str, ActionView] = field(default_factory=dict)  # latest store write per kind
    notice: ActionView | None = None  # latest customer notice
    choice: str | None = None  # a customer choice still waiting for the merchant

    @property
    def backordered_lines(self) -> list[LineView]:
        return [line for line in self.lines if line.backordered > 0]

    @property
    def backordered_units(self) -> int:
        return sum(line.backordered for line in self.lines)

    @property
    def push_state(self) -> str:
        """"done", "pending", "failed" or "none" over the latest store write of each kind."""
        states = {action.status for action in self.pushes.values()}
        if not states:
            return "none"
        if "dead" in states:
            return "failed"
        if states & set(STORE_PENDING):
            return "pending"
        return "done"

    @property
    def has_hold(self) -> bool:
        latest = max((a for k, a in self.pushes.items() if k in ("hold", "release")), key=lambda a: a.id, default=None)
        return latest is not None and latest.kind == "hold"


def _escaped_like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _status_condition(status: str) -> Any:
    store = and_(Action.order_id == Order.id, Action.kind != "notify")
    notice = and_(Action.order_id == Order.id, Action.kind == "notify")
    conditions = {
        "push_pending": exists().where(store, Action.status.in_(STORE_PENDING)),
        "push_failed": exists().where(store, Action.status == "dead"),
        "notice_sent": exists().where(notice, Action.status == "sent"),
        "notice_waiting": exists().where(notice, Action.status.in_(STORE_PENDING)),
        "notice_stuck": exists().where(notice, Action.status.in_(NOTICE_STUCK)),
        "no_notice": ~exists().where(notice),
        "choice_waiting": exists().where(CustomerChoice.order_id == Order.id, CustomerChoice.handled_at.is_(None)),
    }
    return conditions[status]


def _units_column() -> Any:
    return (
        select(func.coalesce(func.sum(LineDecision.backordered), 0))
        .join(OrderLine, OrderLine.id == LineDecision.order_line_id)
        .where(OrderLine.order_id == Order.id)
        .correlate(Order)
        .scalar_subquery()
    )


def _filtered(shop_id: int, filters: OrderFilters) -> Select[Any]:
    statement = (
        select(Order.id)
        .join(OrderDecision, OrderDecision.order_id == Order.id)
        .where(Order.shop_id == shop_id, OrderDecision.status == "backordered")
    )
    if filters.q:
        like = _escaped_like(filters.q)
        sku_match = exists().where(OrderLine.order_id == Order.id, OrderLine.sku.ilike(like, escape="\\"))
        statement = statement.where(
            or_(
                Order.name.ilike(like, escape="\\"),
                Order.customer_name.ilike(like, escape="\\"),
                Order.customer_email.ilike(like, escape="\\"),
                sku_match,
            )
        )
    if filters.week == "unknown":
        statement = statement.where(OrderDecision.eta.is_(None))
    elif filters.week:
        monday = week_start(filters.week)
        assert monday is not None
        statement = statement.where(OrderDecision.eta >= monday, OrderDecision.eta <= monday + timedelta(days=6))
    if filters.status:
        statement = statement.where(_status_condition(filters.status))
    return statement


def _ordered(statement: Select[Any], filters: OrderFilters) -> Select[Any]:
    columns = {
        "eta": OrderDecision.eta,
        "order": Order.name,
        "customer": func.lower(func.coalesce(Order.customer_name, "")),
        "created": Order.created_at,
        "units": _units_column(),
    }
    column = columns[filters.sort]
    ordering = column.desc() if filters.direction == "desc" else column.asc()
    # Unknown ETAs last whichever way the ETA is sorted: they are the ones furthest away.
    return statement.order_by(OrderDecision.eta.is_(None), ordering, Order.created_at, Order.id)


def count_orders(db: Session, shop_id: int, filters: OrderFilters) -> int:
    return int(db.scalar(select(func.count()).select_from(_filtered(shop_id, filters).subquery())) or 0)


def order_ids(db: Session, shop_id: int, filters: OrderFilters, *, paged: bool = True) -> list[int]:
    statement = _ordered(_filtered(shop_id, filters), filters)
    if paged:
        statement = statement.limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE)
    return list(db.scalars(statement))


def _action_view(action: Action) -> ActionView:
    payload = action.payload or {}
    return ActionView(
        id=action.id, kind=action.kind, status=action.status, created_at=action.created_at,
        finished_at=action.finished_at or action.started_at, channel=action.channel, attempts=action.attempts,
        last_error=action.last_error, manual=bool(payload.get("manual")),
        notice=payload.get("notice") if action.kind == "notify" else None,
    )


def load_orders(db: Session, shop_id: int, ids: Sequence[int]) -> list[OrderView]:
    """Full views of the given orders of `shop_id`, in the order of `ids`."""
    if not ids:
        return []
    rows = db.execute(
        select(Order, OrderDecision)
        .outerjoin(OrderDecision, OrderDecision.order_id == Order.id)
        .where(Order.shop_id == shop_id, Order.id.in_(ids))
    ).all()
    views: dict[int, OrderView] = {}
    for order, decision in rows:
        views[order.id] = OrderView(
            id=order.id, shop_id=order.shop_id, name=order.name,
            customer=order.customer_name or order.customer_first_name or "", email=order.customer_email,
            created_at=order.created_at, status=decision.status if decision else "unknown",
            eta=decision.eta if decision else None, decided_at=decision.decided_at if decision else None,
            pushed_at=decision.pushed_at if decision else None,
            contact_withheld=order.contact_withheld, out_of_reach_at=order.out_of_reach_at,
        )
    found = list(views)
    for line, decision in db.execute(
        select(OrderLine, LineDecision)
        .outerjoin(LineDecision, LineDecision.order_line_id == OrderLine.id)
        .where(OrderLine.order_id.in_(found))
        .order_by(OrderLine.id)
    ):
        views[line.order_id].lines.append(
            LineView(
                line_id=line.id, sku=line.sku, title=line.title, quantity=line.quantity,
                open_quantity=line.open_quantity, allocated=decision.allocated if decision else 0,
                backordered=decision.backordered if decision else 0, eta=decision.eta if decision else None,
                eta_source=decision.eta_source if decision else None,
                reason=decision.reason if decision and decision.backordered else None,
            )
        )
    for action in db.scalars(select(Action).where(Action.order_id.in_(found)).order_by(Action.id)):
        view = views[action.order_id]
        if action.kind == "notify":
            view.notice = _action_view(action)
        elif action.kind in STORE_KINDS:
            view.pushes[action.kind] = _action_view(action)
    for order_id, choice in db.execute(
        select(CustomerChoice.order_id, CustomerChoice.choice)
        .where(CustomerChoice.order_id.in_(found), CustomerChoice.handled_at.is_(None))
        .order_by(CustomerChoice.chosen_at)
    ):
        views[order_id].choice = choice
    return [views[i] for i in ids if i in views]


@dataclass(slots=True)
class NoticeView:
    """One customer notice of an order, as the customer received it (when it went out)."""

    id: int
    kind: str
    status: str
    queued_at: datetime
    sent_at: datetime | None
    channel: str | None
    language: str | None
    to: str | None
    subject: str | None
    text: str | None
    html: str | None
    eta: str | None
    manual: bool
    erased: bool
    last_error: str | None


def order_notices(db: Session, order_id: int) -> list[NoticeView]:
    """Every notice of the order, newest first, with the rendered text kept when it was sent."""
    views = []
    for action in db.scalars(select(Action).where(Action.order_id == order_id, Action.kind == "notify")
                             .order_by(Action.id.desc())):
        payload = action.payload or {}
        rendered = action.rendered or {}
        views.append(NoticeView(
            id=action.id, kind=str(payload.get("notice") or "notice"), status=action.status,
            queued_at=action.created_at, sent_at=action.finished_at or action.started_at,
            channel=rendered.get("channel") or action.channel, language=rendered.get("language"),
            to=rendered.get("to"), subject=rendered.get("subject"), text=rendered.get("text"),
            html=rendered.get("html"), eta=payload.get("eta"), manual=bool(payload.get("manual")),
            erased=bool(rendered.get("erased")), last_error=action.last_error,
        ))
    return views


@dataclass(frozen=True, slots=True)
class EtaEvent:
    at: datetime
    eta: str | None  # ISO date, or None for "not known"
    what: str  # "written to the store" or "told the customer (eta_changed)"
    status: str


def eta_history(db: Session, order_id: int) -> list[EtaEvent]:
    """The order's ETAs over time, oldest first: each one written to the store and each one told the customer."""
    events = []
    for action in db.scalars(select(Action).where(Action.order_id == order_id, Action.kind.in_(("marks", "notify")))
                             .order_by(Action.id)):
        payload = action.payload or {}
        if action.kind == "marks":
            status = payload.get("status")
            what = "written to the store" if status == "backordered" else "no longer backordered (store updated)"
            events.append(EtaEvent(action.created_at, payload.get("eta") if status == "backordered" else None,
                                   what, action.status))
        else:
            kind = str(payload.get("notice") or "notice").replace("_", " ")
            eta = None if payload.get("notice") == "ready" else payload.get("eta")
            events.append(EtaEvent(action.created_at, eta, f"customer told ({kind})", action.status))
    return events


def order_actions(db: Session, order_id: int) -> list[ActionView]:
    actions = db.scalars(select(Action).where(Action.order_id == order_id).order_by(Action.id.desc()))
    return [_action_view(action) for action in actions]


def eta_weeks(db: Session, shop_id: int) -> list[tuple[str, str]]:
    """(value, label) of every week some backordered order of the shop is due, soonest first."""
    etas = db.scalars(
        select(OrderDecision.eta)
        .join(Order, Order.id == OrderDecision.order_id)
        .where(Order.shop_id == shop_id, OrderDecision.status == "backordered")
        .distinct()
    )
    weeks = sorted({iso_week(eta) for eta in etas if eta is not None})
    return [(week, week_label(week)) for week in weeks] + [("unknown", "Unknown ETA")]


def units_by_week(rows: Iterable[tuple[date | None, int]]) -> list[tuple[str, int]]:
    """Sum backordered units per ISO week of their ETA, soonest first, unknown ETAs last."""
    totals: dict[str, int] = defaultdict(int)
    unknown = 0
    for eta, units in rows:
        if eta is None:
            unknown += units
        else:
            totals[iso_week(eta)] += units
    points = sorted(totals.items())
    if unknown:
        points.append(("unknown", unknown))
    return points
