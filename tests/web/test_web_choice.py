"""GET/POST /choice/<token>: the customer's keep-waiting-or-cancel answer, recorded once per notice."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from connector.notify.links import make_choice_token
from connector.services import Services
from connector.store.models import CustomerChoice, Order
from connector.web.app import create_app
from web_support import SECRET_KEY, FakePlatform, PlatformLog, add_shop, make_web_settings

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def add_order(services: Services) -> tuple[int, int]:
    shop_id = add_shop(services, "shopify", "demo.myshopify.com")
    with services.db.session() as session:
        order = Order(shop_id=shop_id, platform_id="1001", name="#1001", created_at=T0, updated_at=T0, is_open=True)
        session.add(order)
        session.flush()
        return shop_id, order.id


def csrf_from(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def choices(services: Services) -> list[tuple[str, str]]:
    with services.db.session() as session:
        return [(row.notice_ref, row.choice) for row in session.scalars(select(CustomerChoice))]


def test_the_page_shows_the_order_and_a_protected_form(client: FlaskClient, web_services: Services) -> None:
    shop_id, order_id = add_order(web_services)
    response = client.get(f"/choice/{make_choice_token(SECRET_KEY, shop_id, order_id, 'n-1')}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "#1001" in page and 'value="wait"' in page and 'value="cancel"' in page
    assert csrf_from(page)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_posting_records_the_choice_and_the_last_choice_wins(client: FlaskClient, web_services: Services) -> None:
    shop_id, order_id = add_order(web_services)
    url = f"/choice/{make_choice_token(SECRET_KEY, shop_id, order_id, 'n-1')}"
    token = csrf_from(client.get(url).get_data(as_text=True))

    done = client.post(url, data={"choice": "wait", "csrf_token": token})
    assert done.status_code == 200 and "Thank you" in done.get_data(as_text=True)
    assert choices(web_services) == [("n-1", "wait")]

    assert client.post(url, data={"choice": "cancel", "csrf_token": token}).status_code == 200
    assert choices(web_services) == [("n-1", "cancel")]
    assert "You last chose: Cancel the items that have not shipped." in client.get(url).get_data(as_text=True)


def test_each_notice_keeps_its_own_answer(client: FlaskClient, web_services: Services) -> None:
    shop_id, order_id = add_order(web_services)
    for ref, picked in (("n-1", "wait"), ("n-2", "cancel")):
        url = f"/choice/{make_choice_token(SECRET_KEY, shop_id, order_id, ref)}"
        token = csrf_from(client.get(url).get_data(as_text=True))
        assert client.post(url, data={"choice": picked, "csrf_token": token}).status_code == 200
    assert sorted(choices(web_services)) == [("n-1", "wait"), ("n-2", "cancel")]


def test_a_post_without_the_csrf_token_is_refused(client: FlaskClient, web_services: Services) -> None:
    shop_id, order_id = add_order(web_services)
    url = f"/choice/{make_choice_token(SECRET_KEY, shop_id, order_id, 'n-1')}"
    client.get(url)
    assert client.post(url, data={"choice": "cancel"}).status_code == 400
    assert client.post(url, data={"choice": "cancel", "csrf_token": "forged"}).status_code == 400
    assert choices(web_services) == []


def test_an_unknown_choice_is_refused(client: FlaskClient, web_services: Services) -> None:
    shop_id, order_id = add_order(web_services)
    url = f"/choice/{make_choice_token(SECRET_KEY, shop_id, order_id, 'n-1')}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    assert client.post(url, data={"choice": "refund", "csrf_token": token}).status_code == 400
    assert choices(web_services) == []


@pytest.mark.parametrize("kind", ["tampered", "other-key", "expired", "garbage", "wrong-shop", "no-order"])
def test_a_bad_token_is_a_400_page(client: FlaskClient, web_services: Services, kind: str) -> None:
    shop_id, order_id = add_order(web_services)
    good = make_choice_token(SECRET_KEY, shop_id, order_id, "n-1")
    token = {
        "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "other-key": make_choice_token("Z3XmqE8_6neMk8uFghz9O51QvzW1U5u9C5CCuqhcFMc=", shop_id, order_id, "n-1"),
        "expired": make_choice_token(SECRET_KEY, shop_id, order_id, "n-1", now=datetime.now(UTC) - timedelta(days=400)),
        "garbage": "not-a-token",
        "wrong-shop": make_choice_token(SECRET_KEY, shop_id + 1, order_id, "n-1"),
        "no-order": make_choice_token(SECRET_KEY, shop_id, order_id + 1, "n-1"),
    }[kind]
    for response in (client.get(f"/choice/{token}"), client.post(f"/choice/{token}", data={"choice": "wait"})):
        assert response.status_code == 400
        assert "<html" in response.get_data(as_text=True)
    assert choices(web_services) == []


def test_links_signed_with_the_previous_key_open_during_a_rotation(tmp_path: Path, platform_log: PlatformLog,
                                                                   made_up_stores_resolve: None) -> None:
    """Issue 13, rotation: emails already sent keep working while CONNECTOR_SECRET_KEY_PREVIOUS is set."""
    new_key = "Z3XmqE8_6neMk8uFghz9O51QvzW1U5u9C5CCuqhcFMc="
    for previous, status in ((SECRET_KEY, 200), (None, 400)):
        folder = tmp_path / str(status)
        services = Services(make_web_settings(folder, connector_secret_key=new_key,
                                              connector_secret_key_previous=previous),
                            platform_factory=lambda _services, shop: FakePlatform(shop, platform_log), migrate=True)
        try:
            shop_id, order_id = add_order(services)
            app = create_app(services)
            app.config["TESTING"] = True
            old_link = f"/choice/{make_choice_token(SECRET_KEY, shop_id, order_id, 'n-1')}"
            new_link = f"/choice/{make_choice_token(new_key, shop_id, order_id, 'n-1')}"
            assert app.test_client().get(old_link).status_code == status
            assert app.test_client().get(new_link).status_code == 200
        finally:
            services.close()
