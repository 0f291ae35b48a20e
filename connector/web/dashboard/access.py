"""Who is looking: the signed-session viewer (operator or one Shopify shop), the login guard, CSRF and shop scope.

An operator (ADMIN_PASSWORD login) sees every shop and picks one with the shop switcher. A Shopify
merchant's session is bound to the shop whose signed admin link opened it: every query is filtered
by that shop id, and a row of another shop is answered 404 as if it did not exist.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NoReturn

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from connector.store.models import Order, SessionVersion, Shop
from connector.store.repo import insert_or_ignore
from connector.web.context import current_services
from connector.web.csrf import FORM_FIELD, csrf_token, csrf_valid
from connector.web.dashboard.banners import shop_banners

blueprint = Blueprint(
    "dashboard",
    __name__,
    template_folder="templates",
    static_folder="static",
    # The app's own /static belongs to the app; the dashboard serves its CSS and JS under its own path.
    static_url_path="/dashboard-static",
)

SESSION_KEY = "dashboard"
SHOP_CHOICE_KEY = "dashboard_shop"
SESSION_MAX_AGE_SECONDS = 12 * 3600
# Reachable without a session: the login page, the Shopify admin entry ("/") and the static files.
PUBLIC_ENDPOINTS = frozenset({"dashboard.login", "dashboard.index", "dashboard.static"})


@dataclass(frozen=True, slots=True)
class Viewer:
    role: str  # "operator" or "merchant"
    shop_id: int | None = None  # the merchant's one shop

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    def may_see(self, shop_id: int | None) -> bool:
        return self.is_operator or (shop_id is not None and shop_id == self.shop_id)

    @property
    def subject(self) -> str:
        """Whose sessions one logout ends: the operator's, or one shop's merchants'."""
        return "operator" if self.is_operator else f"shop:{self.shop_id}"


def session_version(subject: str) -> int:
    """The subject's current session version (0 before its first logout), read once per request."""
    cache: dict[str, int] = g.setdefault("session_versions", {})
    if subject not in cache:
        with current_services().db.session() as db:
            cache[subject] = int(db.scalar(select(SessionVersion.version)
                                           .where(SessionVersion.subject == subject)) or 0)
    return cache[subject]


def _bump_session_version(subject: str) -> None:
    with current_services().db.session() as db:
        insert_or_ignore(db, SessionVersion.__table__, {"subject": subject, "version": 0}, ("subject",))
        db.execute(update(SessionVersion).where(SessionVersion.subject == subject)
                   .values(version=SessionVersion.version + 1))
    g.pop("session_versions", None)


def current_viewer() -> Viewer | None:
    raw = session.get(SESSION_KEY)
    if not isinstance(raw, dict):
        return None
    since = raw.get("since")
    if not isinstance(since, int) or time.time() - since > SESSION_MAX_AGE_SECONDS:
        return None
    found: Viewer | None = None
    if raw.get("role") == "operator":
        found = Viewer("operator")
    shop_id = raw.get("shop_id")
    if raw.get("role") == "merchant" and isinstance(shop_id, int):
        found = Viewer("merchant", shop_id)
    # A cookie from before the subject's last logout carries an older version: it opens nothing.
    if found is None or raw.get("v") != session_version(found.subject):
        return None
    return found


def start_session(viewer: Viewer) -> None:
    """Log `viewer` in on a fresh session (a new CSRF token too, so nothing carries over from before)."""
    session.clear()
    session[SESSION_KEY] = {"role": viewer.role, "shop_id": viewer.shop_id, "since": int(time.time()),
                            "v": session_version(viewer.subject)}


def end_session() -> None:
    """Log out: this cookie and every other one saved for the same subject stop working (server side)."""
    who = current_viewer()
    if who is not None:
        _bump_session_version(who.subject)
    session.clear()


def viewer() -> Viewer:
    """The logged-in viewer; the guard below has already sent everyone else to the login page."""
    found = current_viewer()
    if found is None:
        abort(401)
    return found


@blueprint.before_request
def _guard() -> Response | None:
    if request.method == "POST" and not csrf_valid():
        abort(400, description="the form's security token is missing or expired; reload the page and try again")
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    who = current_viewer()
    if who is None:
        target = request.full_path if request.method == "GET" else request.path
        return redirect(url_for("dashboard.login", next=target.rstrip("?")))
    if not who.is_operator:
        with current_services().db.session() as db:
            installed = db.scalar(select(Shop.id).where(Shop.id == who.shop_id, Shop.uninstalled_at.is_(None)))
        if installed is None:
            end_session()
            abort(403, description="this shop is no longer installed; open the app from your Shopify admin again")
    return None


@blueprint.after_request
def _no_store(response: Response) -> Response:
    # Pages show customer data: keep them out of shared caches and the browser's history cache.
    if request.endpoint != "dashboard.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def visible_shops(db: Session, who: Viewer) -> list[Shop]:
    statement = select(Shop).order_by(Shop.uninstalled_at.is_not(None), Shop.name, Shop.id)
    if not who.is_operator:
        statement = statement.where(Shop.id == who.shop_id)
    return list(db.scalars(statement))


def current_shop(db: Session, who: Viewer) -> Shop | None:
    """The shop the pages show: the merchant's own, or the operator's pick (first shop by default)."""
    if not who.is_operator:
        return db.get(Shop, who.shop_id)  # the guard has checked it is still installed
    chosen = session.get(SHOP_CHOICE_KEY)
    if isinstance(chosen, int):
        shop = db.get(Shop, chosen)
        if shop is not None:
            return shop
    shops = visible_shops(db, who)
    return shops[0] if shops else None


def choose_shop(shop_id: int) -> None:
    session[SHOP_CHOICE_KEY] = shop_id


def require_visible(who: Viewer, shop_id: int | None) -> None:
    """404 unless `who` may see rows of `shop_id`: another shop's data does not exist for a merchant."""
    if not who.may_see(shop_id):
        abort(404)


def render(template: str, **context: object) -> str:
    return render_template(f"dashboard/{template}", **context)


class NoShopYet(Exception):
    """Raised inside a page's database session; rendered once the session is closed (see below)."""


def no_shop_page() -> NoReturn:
    """The "no shop yet" page. Raised, not returned: pages call this inside their database session, and
    rendering opens another one (the menu's shop list), which on SQLite would wait for the first one's
    write lock and fail with "database is locked" (issue 13, finding 8)."""
    raise NoShopYet


@blueprint.errorhandler(NoShopYet)
def _no_shop(_error: NoShopYet) -> str:
    return render("empty.html", title="No shop yet")


def visible_order(db: Session, who: Viewer, order_id: int) -> Order:
    """The order, if `who` may see its shop; 404 otherwise (another shop's order does not exist for them)."""
    order = db.get(Order, order_id)
    if order is None:
        abort(404)
    require_visible(who, order.shop_id)
    return order


@blueprint.context_processor
def _page_context() -> dict[str, object]:
    who = current_viewer()
    context: dict[str, object] = {"viewer": who, "csrf_field": FORM_FIELD, "csrf_token": csrf_token}
    if who is None:
        return context
    with current_services().db.session() as db:
        shops = visible_shops(db, who)
        shop = current_shop(db, who)
        context["shop_options"] = [(s.id, s.name or s.domain, s.platform) for s in shops]
        context["current_shop_id"] = shop.id if shop else None
        context["banners"] = shop_banners(db, shop) if shop else []
    return context
