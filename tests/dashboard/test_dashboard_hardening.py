"""Dashboard hardening (issue 13, findings 4, 7 and 8): the `next` check, lockout per account and per client
with backoff, logout that ends the session on the server, admin links that never silently replace a
session, and no 500 for huge ids, NUL bytes or an empty database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connector.services import Services
from connector.store.models import LoginAttempt, utcnow
from connector.web.app import create_app
from tests.conftest import make_settings
from tests.dashboard.conftest import ADMIN_PASSWORD, csrf_from, login_operator, post_form, shopify_admin_query
from tests.dashboard.dashboard_seed import Seeded

HOSTILE_NEXT = [
    "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "/%09/evil.example",
    "/\t/evil.example", "/%0a/evil.example", "/\n/evil.example", "%0a", "\r\nSet-Cookie: a=b",
    "/orders\r\nSet-Cookie: a=b", "https://evil.example/", "http:evil.example", "javascript:alert(1)",
    "/%2F/evil.example", "/%2f%2fevil.example", "/%5Cevil.example", " /orders", "/\u3000/evil.example",
    "evil.example", "/..//evil.example", "/%00", "/" + "a" * 3000,
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_never_sends_anyone_off_site_and_never_fails_on_next(client: FlaskClient, target: str) -> None:
    """Finding 4: `/login?next=/%09/evil.example` ended at //evil.example, and `%0a` was a 500."""
    assert client.get("/login", query_string={"next": target}).status_code in (200, 400)
    token = csrf_from(client)
    response = client.post("/login", data={"password": ADMIN_PASSWORD, "csrf_token": token, "next": target})
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert response.headers["Location"] == "/orders"


@pytest.mark.parametrize("target", ["/skus", "/orders?week=2026-W49&status=open", "/feeds#rejected"])
def test_login_still_returns_to_a_page_of_this_site(client: FlaskClient, target: str) -> None:
    response = client.post("/login", data={"password": ADMIN_PASSWORD, "csrf_token": csrf_from(client),
                                           "next": target})
    assert response.headers["Location"] == target


def _age_failures(dash_services: Services, minutes: float) -> None:
    with dash_services.db.session() as db:
        for attempt in db.scalars(select(LoginAttempt)):
            attempt.at = attempt.at - timedelta(minutes=minutes)


def test_a_locked_client_backs_off_longer_with_every_failure(app: Flask, dash_services: Services) -> None:
    client = app.test_client()
    for _ in range(5):
        assert login_operator(client, "guess", REMOTE_ADDR="203.0.113.9").status_code == 401
    assert login_operator(client, ADMIN_PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429
    _age_failures(dash_services, 1.5)  # the first lock is one minute
    assert login_operator(client, "guess", REMOTE_ADDR="203.0.113.9").status_code == 401
    _age_failures(dash_services, 1.5)  # the sixth failure locks for two minutes
    assert login_operator(client, ADMIN_PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429
    _age_failures(dash_services, 1)
    assert login_operator(client, ADMIN_PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 302


def test_failures_from_many_clients_slow_the_account_down_but_never_lock_it_out(
    app: Flask, dash_services: Services
) -> None:
    """Finding 7: with PROXY_COUNT=0 behind a proxy every visitor is one address; guessing from many
    addresses still meets the per-account backoff, which is short, so the operator gets back in."""
    for number in range(20):
        assert login_operator(app.test_client(), "guess", REMOTE_ADDR=f"198.51.100.{number}").status_code == 401
    assert login_operator(app.test_client(), ADMIN_PASSWORD, REMOTE_ADDR="192.0.2.1").status_code == 429
    _age_failures(dash_services, 0.2)  # past the account's first backoff (5 s)
    assert login_operator(app.test_client(), ADMIN_PASSWORD, REMOTE_ADDR="192.0.2.1").status_code == 302


def test_proxy_count_reads_the_client_from_x_forwarded_for(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path}/p.db", tmp_path, admin_password=ADMIN_PASSWORD, proxy_count=1)
    services = Services(settings, migrate=True)
    app = create_app(services)
    try:
        for _ in range(5):
            client = app.test_client()
            login_operator(client, "guess", HTTP_X_FORWARDED_FOR="203.0.113.50", REMOTE_ADDR="10.0.0.1")
        other = app.test_client()
        assert login_operator(other, ADMIN_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.51",
                              REMOTE_ADDR="10.0.0.1").status_code == 302
    finally:
        services.close()


def test_a_cookie_saved_before_logout_opens_nothing_afterwards(operator: FlaskClient) -> None:
    """Finding 7: logout ends the session on the server, not only in the browser that logged out."""
    saved = operator.get_cookie("session")
    assert saved is not None
    assert post_form(operator, "/logout").status_code == 302
    operator.set_cookie("session", saved.value)
    assert operator.get("/orders").status_code == 302


def test_a_merchant_logout_ends_that_shops_saved_sessions_too(merchant: FlaskClient) -> None:
    saved = merchant.get_cookie("session")
    assert saved is not None
    assert post_form(merchant, "/logout").status_code == 302
    merchant.set_cookie("session", saved.value)
    assert merchant.get("/orders").status_code in (302, 401)


def test_an_admin_link_asks_before_replacing_the_operators_session(operator: FlaskClient, seeded: Seeded) -> None:
    """Finding 7: a signed Shopify admin link no longer silently replaces whoever is signed in."""
    page = operator.get(shopify_admin_query())
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "You are signed in as the operator" in text
    assert operator.get("/deliveries").status_code == 200  # still the operator
    switched = operator.post("/login/switch", data={"csrf_token": csrf_from(operator, "/orders")})
    assert switched.status_code == 302
    with operator.session_transaction() as session:
        assert session["dashboard"]["role"] == "merchant"


def test_an_admin_link_for_the_shop_already_signed_in_goes_straight_on(merchant: FlaskClient) -> None:
    response = merchant.get(shopify_admin_query())
    assert response.status_code == 302 and response.headers["Location"].endswith("/orders")


@pytest.mark.parametrize("path", ["/orders/99999999999999999999", "/orders/2147483648", "/skus/x",
                                  "/orders/-1"])
def test_ids_past_the_column_range_are_404(operator: FlaskClient, path: str) -> None:
    """Finding 8: huge numeric ids were a 500."""
    assert operator.get(path).status_code == 404


@pytest.mark.parametrize("where", ["path", "query", "header", "form"])
def test_nul_bytes_are_400(operator: FlaskClient, where: str) -> None:
    """Finding 8: a NUL byte reached PostgreSQL and was a 500."""
    if where == "path":
        response = operator.get("/skus/A%00B")
    elif where == "query":
        response = operator.get("/orders", query_string={"q": "a\x00b"})
    elif where == "header":
        response = operator.get("/orders", headers={"X-Anything": "a\x00b"})
    else:
        response = post_form(operator, "/feeds/upload", {"supplier": "a\x00b"})
    assert response.status_code == 400


def test_every_dashboard_page_works_on_an_empty_database(tmp_path: Path) -> None:
    """Finding 8: on SQLite every page was a 500 "database is locked" until the first shop existed."""
    settings = make_settings(f"sqlite:///{tmp_path}/empty.db", tmp_path, admin_password=ADMIN_PASSWORD)
    services = Services(settings, migrate=True)
    try:
        client = create_app(services).test_client()
        assert login_operator(client).status_code == 302
        for path in ("/orders", "/skus", "/feeds", "/notices", "/cancellations", "/deliveries", "/reconcile",
                     "/connect/woocommerce", "/orders.csv", "/held"):
            response = client.get(path)
            assert response.status_code in (200, 404), (path, response.status_code)
    finally:
        services.close()


def test_login_attempts_older_than_a_day_are_dropped(client: FlaskClient, dash_services: Services) -> None:
    login_operator(client, "guess")
    _age_failures(dash_services, 25 * 60)
    login_operator(client, "guess")
    with dash_services.db.session() as db:
        assert db.query(LoginAttempt).filter(LoginAttempt.at < utcnow() - timedelta(hours=24)).count() == 0
