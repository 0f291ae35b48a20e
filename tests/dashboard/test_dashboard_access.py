"""Dashboard access: every route behind a login, operator password and rate limit, CSRF, Shopify shop isolation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from connector.services import Services
from connector.store.models import Action, InboxItem, LoginAttempt
from connector.web.app import create_app
from connector.web.dashboard import hash_password
from connector.web.dashboard.auth import HASH_EXTENSION, admin_password_hash, password_matches
from tests.conftest import make_settings
from tests.dashboard.conftest import (
    ADMIN_PASSWORD,
    ALPHA_DOMAIN,
    StubPlatform,
    csrf_from,
    login_operator,
    post_form,
    shopify_admin_query,
)
from tests.dashboard.dashboard_seed import SECRET_TOKENS, Seeded, seed_dashboard


def get_routes(seeded: Seeded) -> list[str]:
    return [
        "/orders", "/orders?q=red&week=unknown&status=push_pending&sort=units&dir=desc", "/orders.csv",
        f"/orders/{seeded.orders['ada']}", f"/orders/{seeded.orders['grace']}", "/skus", "/skus/detail?sku=SKU-RED",
        "/feeds", "/deliveries", "/reconcile",
    ]


def post_routes(seeded: Seeded) -> list[str]:
    return [
        "/logout", "/shop", f"/orders/{seeded.orders['ada']}/resend", f"/orders/{seeded.orders['ada']}/release",
        "/feeds/upload", f"/deliveries/{seeded.inbox['alpha_dead']}/replay",
        f"/choices/{seeded.choices['ada_cancel']}/handled", "/reconcile", "/login",
    ]


def test_every_page_answers_200_for_an_operator(operator: FlaskClient, seeded: Seeded) -> None:
    for path in get_routes(seeded):
        response = operator.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store"


def test_logged_out_visitors_are_sent_to_the_login_page(client: FlaskClient, seeded: Seeded) -> None:
    for path in get_routes(seeded):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=")
    assert client.get("/").headers["Location"] == "/login"
    token = csrf_from(client)
    for path in post_routes(seeded)[:-1]:
        response = client.post(path, data={"csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path


def test_login_redirects_back_to_the_page_asked_for_but_never_off_site(client: FlaskClient) -> None:
    token = csrf_from(client)
    response = client.post("/login", data={"password": ADMIN_PASSWORD, "csrf_token": token, "next": "/skus"})
    assert response.headers["Location"] == "/skus"
    client.post("/logout", data={"csrf_token": csrf_from(client, "/orders")})
    token = csrf_from(client)
    response = client.post("/login", data={"password": ADMIN_PASSWORD, "csrf_token": token, "next": "//evil.example/"})
    assert response.headers["Location"] == "/orders"


def test_wrong_password_is_refused_and_recorded(client: FlaskClient, dash_services: Services) -> None:
    response = login_operator(client, "not the password")
    assert response.status_code == 401
    assert "Wrong password" in response.get_data(as_text=True)
    assert client.get("/orders").status_code == 302
    with dash_services.db.session() as db:
        failures = db.scalars(select(LoginAttempt.client).where(LoginAttempt.succeeded.is_(False))).all()
    assert sorted(failures) == ["127.0.0.1", "account:operator"]  # counted for the client and for the account


def test_sixth_failure_within_15_minutes_gets_429_even_with_the_right_password(client: FlaskClient, app: Flask) -> None:
    for _ in range(5):
        assert login_operator(client, "guess", REMOTE_ADDR="203.0.113.9").status_code == 401
    assert login_operator(client, "guess", REMOTE_ADDR="203.0.113.9").status_code == 429
    assert login_operator(client, ADMIN_PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429
    # Another client address is not affected, and the count lives in the database (shared by workers).
    other_worker = app.test_client()
    assert login_operator(other_worker, ADMIN_PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302
    assert login_operator(app.test_client(), ADMIN_PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429


def test_logout_ends_the_session(operator: FlaskClient) -> None:
    assert post_form(operator, "/logout").status_code == 302
    assert operator.get("/orders").status_code == 302


def test_plain_text_setting_is_hashed_at_startup(app: Flask) -> None:
    stored = app.extensions[HASH_EXTENSION]
    assert stored.startswith("scrypt:") and ADMIN_PASSWORD not in stored


def test_hashed_setting_is_used_as_is(tmp_path: Path) -> None:
    hashed = hash_password("s3cret pass")
    assert hashed.startswith(("scrypt:", "pbkdf2:")) and admin_password_hash(hashed) == hashed
    assert password_matches(hashed, "s3cret pass") and not password_matches(hashed, "s3cret pas")
    assert not password_matches(None, "anything") and not password_matches("scrypt:garbage", "x")
    services = Services(make_settings(f"sqlite:///{tmp_path}/h.db", tmp_path, admin_password=hashed),
                        platform_factory=lambda _s, _shop: StubPlatform(), migrate=True)  # type: ignore[arg-type,return-value]
    try:
        seed_dashboard(services)
        client = create_app(services).test_client()
        assert login_operator(client, "s3cret pass").status_code == 302
        assert client.get("/orders").status_code == 200
    finally:
        services.close()


def test_without_admin_password_operator_login_is_disabled(tmp_path: Path) -> None:
    services = Services(make_settings(f"sqlite:///{tmp_path}/n.db", tmp_path, admin_password=None), migrate=True)
    try:
        client = create_app(services).test_client()
        assert "ADMIN_PASSWORD" in client.get("/login").get_data(as_text=True)
        with client.session_transaction() as session:
            session["csrf_token"] = "known-token"
        response = client.post("/login", data={"password": "", "csrf_token": "known-token"})
        assert response.status_code == 401 and "disabled" in response.get_data(as_text=True)
    finally:
        services.close()


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_every_post_needs_the_session_csrf_token(operator: FlaskClient, seeded: Seeded, token: str | None) -> None:
    data = {} if token is None else {"csrf_token": token}
    for path in post_routes(seeded):
        assert operator.post(path, data=data).status_code == 400, path
    assert operator.get("/orders").status_code == 200  # nothing above logged us out


def test_session_cookie_is_httponly_lax_and_secure_on_https(tmp_path: Path) -> None:
    services = Services(make_settings(f"sqlite:///{tmp_path}/c.db", tmp_path, admin_password=ADMIN_PASSWORD,
                                      app_url="https://connector.example"), migrate=True)
    try:
        client = create_app(services).test_client()
        cookie = client.get("/login").headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    finally:
        services.close()


def test_no_secret_or_token_is_ever_rendered(operator: FlaskClient, seeded: Seeded) -> None:
    pages = get_routes(seeded) + ["/login", f"/orders/{seeded.orders['barbara']}"]
    for shop in seeded.shops.values():
        post_form(operator, "/shop", {"shop_id": shop, "back": "/orders"})
        for path in pages:
            body = operator.get(path).get_data(as_text=True)
            for secret in SECRET_TOKENS:
                assert secret not in body, f"{secret} shown on {path}"
    assert "feeds.example/acme.csv" in operator.get("/feeds").get_data(as_text=True)


# --- Shopify merchants ------------------------------------------------------------------------------


def test_shopify_admin_link_logs_the_merchant_into_their_shop_only(merchant: FlaskClient, seeded: Seeded) -> None:
    page = merchant.get("/orders").get_data(as_text=True)
    assert "#1001" in page and "#B-2001" not in page
    assert 'name="shop_id"' not in page  # no switcher for a merchant
    for path in (f"/orders/{seeded.orders['barbara']}",):
        assert merchant.get(path).status_code == 404
    beta_csv = merchant.get("/orders.csv?q=B-2001").get_data(as_text=True)
    assert "B-2001" not in beta_csv
    assert "Beta Supply Co" not in merchant.get("/feeds").get_data(as_text=True)
    deliveries = merchant.get("/deliveries").get_data(as_text=True)
    assert "beta failure" not in deliveries and "order.updated" not in deliveries
    assert "Alpha Outfitters" in merchant.get("/skus").get_data(as_text=True)


def _unattributed_deliveries(services: Services) -> None:
    # The Shopify intake stores every delivery under its domain alone; the worker attributes it later.
    with services.db.session() as db:
        db.add_all([
            InboxItem(platform="shopify", shop_id=None, shop_domain=ALPHA_DOMAIN, topic="fulfillments/create",
                      delivery_id="d-mine", body=b"{}"),
            InboxItem(platform="shopify", shop_id=None, shop_domain="gamma.myshopify.com", topic="products/update",
                      delivery_id="d-other", body=b"{}"),
            InboxItem(platform="woocommerce", shop_id=None, shop_domain=ALPHA_DOMAIN, topic="product.updated",
                      delivery_id="w-same-name", body=b"{}"),
            InboxItem(platform="shopify", shop_id=None, shop_domain="gamma.myshopify.com", topic="carts/update",
                      delivery_id="d-settled", body=b"{}", status="done", note="no shop is installed"),
            InboxItem(platform="shopify", shop_id=None, shop_domain=ALPHA_DOMAIN, topic="orders/edited",
                      delivery_id="d-mine-dead", body=b"{}", status="dead", attempts=8),
        ])


def test_a_merchant_sees_its_pending_deliveries_before_the_worker_attributes_them(
        merchant: FlaskClient, dash_services: Services) -> None:
    _unattributed_deliveries(dash_services)
    page = merchant.get("/deliveries").get_data(as_text=True)
    assert "fulfillments/create" in page
    assert "products/update" not in page and "product.updated" not in page  # another domain, another platform
    [row] = [row for row in page.split("<tr>") if "fulfillments/create" in row]
    assert "no shop" not in row  # pending: not yet attributed, which is not "matched no shop"


def test_an_operator_sees_settled_unattributed_deliveries_but_not_another_shops_waiting_ones(
        operator: FlaskClient, dash_services: Services) -> None:
    _unattributed_deliveries(dash_services)
    page = operator.get("/deliveries").get_data(as_text=True)
    assert "fulfillments/create" in page and "carts/update" in page  # the shop's own, and one that matched no shop
    assert "products/update" not in page  # gamma's, waiting for the worker: not this shop's


def test_a_merchant_replays_its_own_unattributed_delivery_and_never_another_domains(
        merchant: FlaskClient, dash_services: Services) -> None:
    _unattributed_deliveries(dash_services)
    with dash_services.db.session() as db:
        ids = {item.delivery_id: item.id for item in db.scalars(select(InboxItem))}
    page = "/deliveries"
    assert post_form(merchant, f"/deliveries/{ids['d-settled']}/replay", page=page).status_code == 404
    assert post_form(merchant, f"/deliveries/{ids['d-mine-dead']}/replay", page=page).status_code == 302
    with dash_services.db.session() as db:
        assert db.get(InboxItem, ids["d-mine-dead"]).status == "pending"  # type: ignore[union-attr]
        assert db.get(InboxItem, ids["d-settled"]).status == "done"  # type: ignore[union-attr]


def test_merchant_cannot_act_on_another_shops_rows(merchant: FlaskClient, seeded: Seeded, dash_services: Services) -> None:
    barbara = seeded.orders["barbara"]
    for path in (f"/orders/{barbara}/resend", f"/orders/{barbara}/release",
                 f"/deliveries/{seeded.inbox['beta_dead']}/replay", f"/choices/{seeded.choices['barbara_wait']}/handled"):
        assert post_form(merchant, path).status_code == 404, path
    assert post_form(merchant, "/shop", {"shop_id": seeded.shops["beta"]}).status_code == 400
    with dash_services.db.session() as db:
        assert db.get(InboxItem, seeded.inbox["beta_dead"]).status == "dead"  # type: ignore[union-attr]
        assert db.scalar(select(func.count()).select_from(Action).where(Action.order_id == barbara)) == 1


def test_shopify_link_with_a_bad_signature_or_old_timestamp_is_refused(client: FlaskClient) -> None:
    assert client.get(shopify_admin_query(secret="not-the-secret")).status_code == 401
    assert client.get(shopify_admin_query(timestamp=int(time.time()) - 3600)).status_code == 400
    assert client.get("/?shop=evil.example.com&hmac=00").status_code == 400
    assert client.get("/orders").status_code == 302


def test_shopify_link_for_a_shop_not_installed_starts_the_install(client: FlaskClient) -> None:
    response = client.get(shopify_admin_query("newcomer.myshopify.com"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/shopify?shop=newcomer.myshopify.com")


def test_operator_shop_switcher_changes_the_shop_shown(operator: FlaskClient, seeded: Seeded) -> None:
    assert "#1001" in operator.get("/orders").get_data(as_text=True)
    response = post_form(operator, "/shop", {"shop_id": seeded.shops["beta"], "back": "/skus"})
    assert response.headers["Location"] == "/skus"
    page = operator.get("/orders").get_data(as_text=True)
    assert "#B-2001" in page and "#1001" not in page
    assert post_form(operator, "/shop", {"shop_id": 999}).status_code == 404


def test_a_session_older_than_12_hours_must_log_in_again(operator: FlaskClient) -> None:
    with operator.session_transaction() as session:
        session["dashboard"] = {**session["dashboard"], "since": int(time.time()) - 13 * 3600}
    assert operator.get("/orders").status_code == 302


def test_merchant_of_an_uninstalled_shop_is_refused(merchant: FlaskClient, seeded: Seeded,
                                                    dash_services: Services) -> None:
    from connector.store.models import Shop, utcnow

    with dash_services.db.session() as db:
        db.get(Shop, seeded.shops["alpha"]).uninstalled_at = utcnow()  # type: ignore[union-attr]
    assert merchant.get("/orders").status_code == 403
