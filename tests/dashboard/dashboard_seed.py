"""Seeds a dashboard test database: two shops with orders, decisions, actions, deliveries, feeds and choices.

Dates are relative to today, so ETA weeks are always in the future. Shop credentials hold known
tokens (`SECRET_TOKENS`) that no page may ever show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from connector.services import Services
from connector.store.models import (
    Action,
    CustomerChoice,
    InboxItem,
    InventoryLevel,
    Job,
    LineDecision,
    Order,
    OrderDecision,
    OrderLine,
    Shop,
    Supplier,
    SupplyItem,
    SyncCursor,
)
from connector.store.repo import save_credentials

ALPHA_TOKEN = "shpat_DASHBOARD_SECRET_alpha_0123456789"
ALPHA_REFRESH = "shprt_DASHBOARD_SECRET_refresh_9876543210"
BETA_SECRET = "cs_DASHBOARD_SECRET_beta_abcdef"
FEED_URL_SECRET = "feedtoken_DASHBOARD_SECRET_42"
SECRET_TOKENS = (ALPHA_TOKEN, ALPHA_REFRESH, BETA_SECRET, FEED_URL_SECRET)
ALPHA_DOMAIN = "alpha.myshopify.com"


@dataclass
class Seeded:
    """Ids of what was seeded, by a name the tests use."""

    today: date
    shops: dict[str, int] = field(default_factory=dict)
    orders: dict[str, int] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)
    inbox: dict[str, int] = field(default_factory=dict)
    choices: dict[str, int] = field(default_factory=dict)


def _at(days: int = 0) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)


def _order(session: Session, shop: Shop, number: str, customer: str, days_ago: int, *, open_: bool = True) -> Order:
    first = customer.split()[0]
    email = f"{first.lower()}@example.com"
    order = Order(
        shop_id=shop.id, platform_id=number.strip("#B-"), name=number, created_at=_at(-days_ago), updated_at=_at(-days_ago),
        is_open=open_, status="open", customer_id=f"c-{number}", customer_email=email, customer_first_name=first,
        customer_name=customer, locale="en",
    )
    session.add(order)
    session.flush()
    return order


def _line(session: Session, order: Order, sku: str, quantity: int, backordered: int, eta: date | None,
          source: str | None, title: str = "") -> OrderLine:
    line = OrderLine(order_id=order.id, platform_id=f"{order.platform_id}-{sku}", sku=sku, title=title or sku.title(),
                     quantity=quantity, open_quantity=quantity)
    session.add(line)
    session.flush()
    session.add(LineDecision(order_line_id=line.id, allocated=quantity - backordered, backordered=backordered,
                             eta=eta, eta_source=source))
    return line


def _decide(session: Session, order: Order, status: str, eta: date | None, today: date) -> None:
    session.add(OrderDecision(order_id=order.id, status=status, eta=eta, fingerprint=f"seed-{order.id}", as_of=today,
                              pushed_fingerprint=f"seed-{order.id}", pushed_at=_at(-1)))


def _action(session: Session, order: Order, kind: str, status: str, **extra: Any) -> Action:
    action = Action(idempotency_key=f"seed:{order.id}:{kind}:{status}", shop_id=order.shop_id, order_id=order.id,
                    kind=kind, fingerprint=f"seed-{order.id}", payload=extra.pop("payload", {}), status=status, **extra)
    session.add(action)
    session.flush()
    return action


def _notice_payload(order: Order, sku: str, quantity: int, eta: date | None) -> dict[str, Any]:
    return {"notice": "backordered", "ref": f"ref-{order.id}", "eta": eta.isoformat() if eta else None,
            "previous_eta": None,
            "lines": [{"line_id": f"{order.platform_id}-{sku}", "sku": sku, "title": sku.title(), "quantity": quantity,
                       "eta": eta.isoformat() if eta else None}]}


EXTRA_CUSTOMERS = ("Katherine Johnson", "Margaret Hamilton", "Donald Knuth", "Frances Allen", "John Backus",
                   "Radia Perlman", "Ken Thompson", "Hedy Lamarr", "Tim Berners-Lee", "Annie Easley")
EXTRA_SKUS = (("LAMP-OAK", "Oak Desk Lamp"), ("MUG-TEAL", "Teal Stoneware Mug"), ("RUG-WOOL", "Wool Rug 120x180"),
              ("KETTLE-CU", "Copper Kettle"))


def add_extra_orders(services: Services, shop_id: int, count: int) -> None:
    """More backordered orders (for the screenshot): varied SKUs and ETAs, pushed, most customers notified."""
    today = datetime.now(UTC).date()
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        for index in range(count):
            order = _order(session, shop, f"#{1010 + index}", EXTRA_CUSTOMERS[index % len(EXTRA_CUSTOMERS)], 9 - index % 9)
            sku, title = EXTRA_SKUS[index % len(EXTRA_SKUS)]
            eta = None if index % 5 == 4 else today + timedelta(days=7 + 7 * (index % 4))
            source = "no supply known" if eta is None else f"supplier Acme: restock {eta - timedelta(days=8)} (+7d lead)"
            _line(session, order, sku, 1 + index % 3, 1 + index % 3, eta, source, title)
            _decide(session, order, "backordered", eta, today)
            for kind in ("tag", "marks", "note", "hold"):
                _action(session, order, kind, "done" if index % 6 else "pending", finished_at=_at(-1))
            if index % 3:
                _action(session, order, "notify", "sent", channel="smtp", finished_at=_at(-1),
                        payload=_notice_payload(order, sku, 1 + index % 3, eta))


def seed_dashboard(services: Services) -> Seeded:
    today = datetime.now(UTC).date()
    seeded = Seeded(today=today)
    soon, later = today + timedelta(days=10), today + timedelta(days=17)
    acme_source = f"supplier Acme: restock {today + timedelta(days=3)} (+7d lead)"
    with services.db.session() as session:
        alpha = Shop(platform="shopify", domain=ALPHA_DOMAIN, name="Alpha Outfitters", api_url=None)
        beta = Shop(platform="woocommerce", domain="https://beta.example", name="Beta Home")
        session.add_all([alpha, beta])
        session.flush()
        save_credentials(alpha, services.box, access_token=ALPHA_TOKEN, refresh_token=ALPHA_REFRESH)
        save_credentials(beta, services.box, consumer_key="ck_beta_key", consumer_secret=BETA_SECRET)
        seeded.shops = {"alpha": alpha.id, "beta": beta.id}

        ada = _order(session, alpha, "#1001", "Ada Lovelace", 5)
        _line(session, ada, "SKU-RED", 2, 2, soon, acme_source, "Red Lantern")
        _line(session, ada, "SKU-BLUE", 1, 0, None, "in stock", "Blue Mug")
        _decide(session, ada, "backordered", soon, today)
        for kind in ("tag", "marks", "note", "hold"):
            seeded.actions[f"ada_{kind}"] = _action(session, ada, kind, "done", finished_at=_at(-1)).id
        seeded.actions["ada_notice"] = _action(
            session, ada, "notify", "sent", channel="smtp", finished_at=_at(-1), receipt="<msg-1@example>",
            payload=_notice_payload(ada, "SKU-RED", 2, soon),
        ).id

        grace = _order(session, alpha, "#1002", "Grace Hopper", 4)
        _line(session, grace, "SKU-GREEN", 3, 3, None, "no supply known", "Green Kettle")
        _decide(session, grace, "backordered", None, today)
        seeded.actions["grace_tag"] = _action(session, grace, "tag", "pending").id
        seeded.actions["grace_note"] = _action(session, grace, "note", "pending").id
        seeded.actions["grace_notice"] = _action(
            session, grace, "notify", "sending", channel="smtp", started_at=_at(-1),
            payload=_notice_payload(grace, "SKU-GREEN", 3, None),
        ).id

        alan = _order(session, alpha, "#1003", "Alan Turing", 3)
        _line(session, alan, "SKU-RED", 1, 1, later, acme_source, "Red Lantern")
        _decide(session, alan, "backordered", later, today)
        seeded.actions["alan_marks"] = _action(session, alan, "marks", "dead", last_error="store refused: 422").id

        edsger = _order(session, alpha, "#1004", "Edsger Dijkstra", 2)
        _line(session, edsger, "SKU-BLUE", 1, 0, None, "in stock", "Blue Mug")
        _decide(session, edsger, "ok", None, today)

        barbara = _order(session, beta, "#B-2001", "Barbara Liskov", 6)
        _line(session, barbara, "SKU-RED", 4, 4, soon, acme_source, "Red Lantern")
        _decide(session, barbara, "backordered", soon, today)
        seeded.actions["barbara_hold"] = _action(session, barbara, "hold", "done").id
        seeded.orders = {"ada": ada.id, "grace": grace.id, "alan": alan.id, "edsger": edsger.id, "barbara": barbara.id}

        session.add_all([
            InventoryLevel(shop_id=alpha.id, sku="SKU-BLUE", location_id="1", quantity=5),
            InventoryLevel(shop_id=alpha.id, sku="SKU-RED", location_id="1", quantity=0),
            InventoryLevel(shop_id=beta.id, sku="SKU-RED", location_id="1", quantity=0),
        ])
        acme = Supplier(scope="all", name="Acme", source=f"https://feeds.example/acme.csv?token={FEED_URL_SECRET}",
                        column_map={}, imported_at=_at(-1), checked_at=_at(0), row_count=2,
                        rejected=[{"line": 4, "reason": "negative quantity -2"}])
        alpha_direct = Supplier(scope=f"shop:{alpha.id}", shop_id=alpha.id, name="Alpha Direct",
                                source="/srv/feeds/alpha.csv", column_map={}, imported_at=_at(-2), row_count=1, rejected=[])
        beta_supply = Supplier(scope=f"shop:{beta.id}", shop_id=beta.id, name="Beta Supply Co",
                               source="/srv/feeds/beta.csv", column_map={}, imported_at=_at(-2), row_count=1, rejected=[])
        session.add_all([acme, alpha_direct, beta_supply])
        session.flush()
        session.add_all([
            SupplyItem(supplier_id=acme.id, sku="SKU-RED", restock_date=today + timedelta(days=3), restock_qty=10, line_no=2),
            SupplyItem(supplier_id=acme.id, sku="SKU-BLUE", available=20, line_no=3),
            SupplyItem(supplier_id=alpha_direct.id, sku="SKU-YELLOW", available=4, line_no=2),
            SupplyItem(supplier_id=beta_supply.id, sku="SKU-RED", available=1, line_no=2),
        ])

        inbox = {
            "alpha_done": InboxItem(platform="shopify", shop_id=alpha.id, shop_domain=ALPHA_DOMAIN, topic="orders/create",
                                    delivery_id="d-1", headers={"X-Shopify-Hmac-Sha256": "hmac-not-shown"},
                                    body=f'{{"token": "{ALPHA_TOKEN}"}}'.encode(), status="done", attempts=1,
                                    processed_at=_at(0)),
            "alpha_dead": InboxItem(platform="shopify", shop_id=alpha.id, shop_domain=ALPHA_DOMAIN, topic="orders/updated",
                                    delivery_id="d-2", body=b"{}", status="dead", attempts=8,
                                    last_error="TransportError: store answered 503"),
            "beta_dead": InboxItem(platform="woocommerce", shop_id=beta.id, shop_domain="https://beta.example",
                                   topic="order.updated", delivery_id="w-1", body=b"{}", status="dead", attempts=8,
                                   last_error="beta failure"),
        }
        session.add_all(inbox.values())
        session.add_all([
            SyncCursor(shop_id=alpha.id, resource="orders", cursor_at=_at(0), last_run_at=_at(0), last_count=4),
            SyncCursor(shop_id=beta.id, resource="orders", cursor_at=_at(0), last_run_at=_at(0), last_count=1),
            Job(kind="reconcile", target=f"shop:{alpha.id}", interval_seconds=3600, next_run_at=_at(0),
                last_run_at=_at(0), last_status="ok"),
        ])
        choices = {
            "ada_cancel": CustomerChoice(shop_id=alpha.id, order_id=ada.id, notice_ref="ref-ada", choice="cancel"),
            "barbara_wait": CustomerChoice(shop_id=beta.id, order_id=barbara.id, notice_ref="ref-b", choice="wait"),
        }
        session.add_all(choices.values())
        session.flush()
        seeded.inbox = {name: item.id for name, item in inbox.items()}
        seeded.choices = {name: choice.id for name, choice in choices.items()}
    return seeded
