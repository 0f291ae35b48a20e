"""Dashboard login: the operator's ADMIN_PASSWORD (hashed, rate-limited per client IP) and the Shopify admin entry.

ADMIN_PASSWORD may be a werkzeug hash (`scrypt:`/`pbkdf2:`) or plain text, hashed in memory at startup.

GET  /            opened from the Shopify admin (?shop=&hmac=&timestamp=&host=): verify and log the
                  merchant in, bound to that shop; otherwise go to the backorders page (or log in).
GET  /login       the operator login form.
POST /login       password + csrf_token (429 while locked, see below); `next` is followed only when it is a
                  plain path of this site (`safe_next`).
POST /login/switch  an admin link opened while someone else is signed in asks first; this confirms it.
POST /logout      ends the session, and every saved copy of it: the subject's session version is bumped.

Lockout, with backoff. Per client (its address; behind a proxy set PROXY_COUNT so it is read from
X-Forwarded-For, or every visitor is the proxy): after CLIENT_FREE_FAILURES failures within WINDOW,
the client is refused until its last failure plus one minute, doubling with every further failure up
to 15 minutes. Per account: after ACCOUNT_FREE_FAILURES failures from any clients within WINDOW,
every client waits from the last failure 5 seconds, doubling up to 5 minutes; short, so guessing from
many addresses is slowed down without locking the operator out for long.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

from flask import abort, current_app, redirect, render_template, request, session, url_for
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from connector.platforms.shopify.oauth import valid_shop_domain, verify_query_hmac
from connector.store.models import LoginAttempt, Shop, utcnow
from connector.web.context import SERVICES_KEY, current_services
from connector.web.dashboard.access import Viewer, blueprint, current_viewer, end_session, start_session

WINDOW = timedelta(minutes=15)
CLIENT_FREE_FAILURES, CLIENT_FIRST_LOCK, CLIENT_MAX_LOCK = 5, timedelta(minutes=1), timedelta(minutes=15)
ACCOUNT_FREE_FAILURES, ACCOUNT_FIRST_LOCK, ACCOUNT_MAX_LOCK = 20, timedelta(seconds=5), timedelta(minutes=5)
ACCOUNT_KEY = "account:operator"  # the failures of the one operator account, from every client
PENDING_SHOP_KEY = "dashboard_pending_shop"
PENDING_SECONDS = 300
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


def locked_until(db: Session, key: str, free: int, first: timedelta, most: timedelta) -> datetime | None:
    """Until when `key` (a client or the account) is locked out, or None: past `free` failures within
    WINDOW, `first` from the last failure, doubling with each further failure up to `most`."""
    now = utcnow()
    count, last = db.execute(
        select(func.count(), func.max(LoginAttempt.at))
        .where(LoginAttempt.client == key, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= now - WINDOW)
    ).one()
    if not count or count < free or last is None:
        return None
    until: datetime = last + min(most, first * 2 ** min(count - free, 20))
    return until if until > now else None


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
    if not succeeded:
        db.add(LoginAttempt(client=ACCOUNT_KEY, at=now, succeeded=False))
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP_ATTEMPTS))


def safe_next(target: str | None) -> str:
    """`target` when it is a plain path of this site, else the backorders page (no open redirect).

    Refused: anything not starting with one `/`, any control character, space, backslash or non-ASCII
    character (browsers drop tabs and newlines, and read `\\` as `/`, so `/%09/evil` and `/\\evil` would
    go off site), a scheme or host, and a path that decodes to any of those (`/%2F/evil`, `/%5Cevil`)."""
    fallback = url_for("dashboard.orders")
    if not target or len(target) > 2000 or not target.isascii():
        return fallback
    decoded = unquote(target)
    for text in (target, decoded):
        if not text.startswith("/") or text.startswith("//") or "\\" in text:
            return fallback
        if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in text):
            return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "/../" in decoded or decoded.startswith("/.."):
        return fallback
    return target


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


def shopify_entry() -> Response | str:
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
    arriving, signed_in = Viewer("merchant", shop_id), current_viewer()
    if signed_in is not None and signed_in != arriving:
        # Someone else is signed in here: ask, never replace their session silently.
        session[PENDING_SHOP_KEY] = {"shop_id": shop_id, "since": int(time.time())}
        who = "the operator" if signed_in.is_operator else "another shop's merchant"
        return render_template("dashboard/switch.html", title="Switch session", who=who, domain=domain)
    start_session(arriving)
    return redirect(url_for("dashboard.orders"))


@blueprint.post("/login/switch")
def switch_session() -> Response:
    """Confirms the switch an admin link asked for (CSRF-checked; the link was verified when it was opened)."""
    pending = session.pop(PENDING_SHOP_KEY, None)
    if not isinstance(pending, dict) or not isinstance(pending.get("shop_id"), int) \
            or time.time() - int(pending.get("since") or 0) > PENDING_SECONDS:
        abort(400, description="nothing to switch to; open the app from your Shopify admin again")
    start_session(Viewer("merchant", pending["shop_id"]))
    return redirect(url_for("dashboard.orders"))


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    enabled = stored_admin_hash() is not None
    next_target = request.values.get("next", "")
    if request.method == "GET":
        return render_template("dashboard/login.html", enabled=enabled, next=next_target, error=None)
    client = client_address()
    with current_services().db.session() as db:
        until = (locked_until(db, client, CLIENT_FREE_FAILURES, CLIENT_FIRST_LOCK, CLIENT_MAX_LOCK)
                 or locked_until(db, ACCOUNT_KEY, ACCOUNT_FREE_FAILURES, ACCOUNT_FIRST_LOCK, ACCOUNT_MAX_LOCK))
        if until is not None:
            wait = max(1, int((until - utcnow()).total_seconds()) + 1)
            return render_template(
                "dashboard/login.html", enabled=enabled, next=next_target,
                error=f"Too many failed attempts. Wait {wait} seconds and try again.",
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
