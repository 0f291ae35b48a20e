"""Dashboard login: the operator's ADMIN_PASSWORD (hashed, rate-limited per client IP) and the Shopify admin entry.

ADMIN_PASSWORD may be a werkzeug hash (`scrypt:`/`pbkdf2:`) or plain text, hashed in memory at startup.

GET  /            opened from the Shopify admin (?shop=&hmac=&timestamp=&host=): verify and log the
                  merchant in, bound to that shop; otherwise go to the backorders page (or log in).
GET  /login       the operator login form.
POST /login       password + csrf_token; at most MAX_FAILURES failures per client IP per WINDOW (429).
POST /logout      ends the session.
"""

from __future__ import annotations

import time
from datetime import timedelta

from flask import abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from connector.platforms.shopify.oauth import valid_shop_domain, verify_query_hmac
from connector.store.models import LoginAttempt, Shop, utcnow
from connector.web.context import SERVICES_KEY, current_services
from connector.web.dashboard.access import Viewer, blueprint, current_viewer, end_session, start_session

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
KEEP_ATTEMPTS = timedelta(days=1)
# How far Shopify's `timestamp` may be from our clock before an admin link is refused.
TIMESTAMP_WINDOW_SECONDS = 300
HASH_EXTENSION = "dashboard.admin_password_hash"
HASH_PREFIXES = ("scrypt:", "pbkdf2:")


def hash_password(password: str) -> str:
    """A werkzeug password hash of `password`, suitable as the ADMIN_PASSWORD setting."""
    if not password:
        raise ValueError("the password must not be empty")
    return generate_password_hash(password)


def admin_password_hash(setting: str | None) -> str | None:
    """The hash to check logins against: the setting itself when it is a hash, else a hash of it.

    None when no ADMIN_PASSWORD is set (operator login is then disabled).
    """
    if not setting:
        return None
    if setting.startswith(HASH_PREFIXES):
        return setting
    return hash_password(setting)


def password_matches(stored_hash: str | None, given: str) -> bool:
    """True when `given` matches `stored_hash`; a malformed hash or no hash never matches."""
    if not stored_hash or not given:
        return False
    try:
        return check_password_hash(stored_hash, given)
    except (ValueError, TypeError):
        return False


@blueprint.record_once
def _hash_admin_password(state: object) -> None:
    # Hashed once at startup, so a plain-text setting is never compared as a string.
    app = state.app  # type: ignore[attr-defined]
    app.extensions[HASH_EXTENSION] = admin_password_hash(app.extensions[SERVICES_KEY].settings.admin_password)


def stored_admin_hash() -> str | None:
    value: str | None = current_app.extensions.get(HASH_EXTENSION)
    return value


def client_address() -> str:
    """The client IP as the WSGI server saw it (behind a proxy, the app must be wrapped in ProxyFix)."""
    return (request.remote_addr or "unknown")[:100]


def recent_failures(db: Session, client: str) -> int:
    since = utcnow() - WINDOW
    count = db.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.client == client, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since)
    )
    return int(count or 0)


def record_attempt(db: Session, client: str, succeeded: bool) -> None:
    now = utcnow()
    db.add(LoginAttempt(client=client, at=now, succeeded=succeeded))
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP_ATTEMPTS))


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute or protocol-relative URL (open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.orders")


@blueprint.get("/")
def index() -> Response | str | tuple[str, int]:
    if "hmac" in request.args:
        return shopify_entry()
    if current_viewer() is None:
        return redirect(url_for("dashboard.login"))
    return redirect(url_for("dashboard.orders"))


def _fresh(timestamp: str | None) -> bool:
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(time.time() - int(timestamp)) <= TIMESTAMP_WINDOW_SECONDS


def shopify_entry() -> Response:
    """The app URL as the Shopify admin opens it: signed query -> a session bound to that one shop."""
    settings = current_services().settings
    domain = (request.args.get("shop") or "").strip().lower()
    if not valid_shop_domain(domain):
        abort(400, description="shop must be a name.myshopify.com domain")
    if not settings.shopify_secrets:
        abort(400, description="this connector is not set up as a Shopify app (SHOPIFY_API_SECRET is not set)")
    params = request.args.to_dict(flat=False)
    if not any(verify_query_hmac(params, secret) for secret in settings.shopify_secrets):
        abort(401, description="the link is not signed by Shopify; open the app from your Shopify admin")
    if not _fresh(request.args.get("timestamp")):
        abort(400, description="the link has expired; open the app from your Shopify admin again")
    with current_services().db.session() as db:
        shop_id = db.scalar(
            select(Shop.id).where(Shop.platform == "shopify", Shop.domain == domain, Shop.uninstalled_at.is_(None))
        )
    if shop_id is None:
        return redirect(url_for("shopify_install.install", shop=domain))
    start_session(Viewer("merchant", shop_id))
    return redirect(url_for("dashboard.orders"))


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    enabled = stored_admin_hash() is not None
    next_target = request.values.get("next", "")
    if request.method == "GET":
        return render_template("dashboard/login.html", enabled=enabled, next=next_target, error=None)
    client = client_address()
    with current_services().db.session() as db:
        if recent_failures(db, client) >= MAX_FAILURES:
            return render_template(
                "dashboard/login.html", enabled=enabled, next=next_target,
                error="Too many failed attempts. Wait 15 minutes and try again.",
            ), 429
        ok = password_matches(stored_admin_hash(), request.form.get("password", ""))
        record_attempt(db, client, ok)
    if not ok:
        message = "Wrong password." if enabled else "Operator login is disabled: ADMIN_PASSWORD is not set."
        return render_template("dashboard/login.html", enabled=enabled, next=next_target, error=message), 401
    start_session(Viewer("operator"))
    return redirect(safe_next(next_target))


@blueprint.post("/logout")
def logout() -> Response:
    end_session()
    return redirect(url_for("dashboard.login"))
