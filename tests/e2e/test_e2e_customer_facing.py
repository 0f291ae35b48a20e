"""Issue 14, findings 4, 6 and 7 against both sandboxes: credentials checked at the door, the store's own
name in everything a customer reads (and no internal reference), and the merchant seeing exactly what
each customer was told.
"""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select

from connector.cli import cli
from connector.services import Services
from connector.store.models import Action, Order, Shop
from connector.web.app import create_app
from e2e_support import (
    SHOPIFY_DOMAIN,
    SHOPIFY_TOKEN,
    WOO_KEY,
    WOO_SECRET,
    Store,
    cli_env,
    connector,
    e2e_services,
    run_cycle,
    shopify_feed_rows,
    shopify_seed,
    start_woocommerce,
    write_feed,
    write_seed,
)

PASSWORD = "customer facing password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
STORE_NAME = "E2E Outfitters"


@pytest.fixture
def services(sqlite_url: str, tmp_path: Path) -> Any:
    built = e2e_services(sqlite_url, tmp_path, admin_password=PASSWORD)
    yield built
    built.close()


def named_shopify(tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    from sandbox.shopify import run

    seed = {**shopify_seed(), "shopName": STORE_NAME}
    server = run(0, write_seed(tmp_path / "named_seed.json", seed), api_secret="test_secret_key",
                 access_token=SHOPIFY_TOKEN, restore_rate=1000.0)
    request.addfinalizer(server.stop)
    return Store(server, "shopify")


def invoke(services: Services, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=cli_env(services.settings), catch_exceptions=False)


def shop_count(services: Services) -> int:
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Shop)) or 0)


def login(services: Services) -> FlaskClient:
    app = create_app(services)
    app.config["TESTING"] = True
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert client.post("/login", data={"password": PASSWORD, "csrf_token": token}).status_code == 302
    return client


# --- finding 4: credentials checked at the door ------------------------------------------------------


def test_shopify_credentials_are_checked_and_the_stores_name_filled_in(
    services: Services, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = named_shopify(tmp_path, request)
    refused = invoke(services, "shops", "add", "shopify", "--domain", SHOPIFY_DOMAIN, "--token", "shpat_...",
                     "--api-url", store.url)
    assert refused.exit_code == 2
    assert "the store refused these credentials" in refused.output
    assert "[API] Invalid API key or access token" in refused.output  # Shopify's own reason
    assert shop_count(services) == 0

    added = invoke(services, "shops", "add", "shopify", "--domain", SHOPIFY_DOMAIN, "--token", SHOPIFY_TOKEN,
                   "--api-url", store.url)
    assert added.exit_code == 0, added.output
    assert f"the store calls itself '{STORE_NAME}'" in added.stdout
    with services.db.session() as session:
        assert session.scalars(select(Shop.name)).one() == STORE_NAME


def test_woocommerce_keys_are_checked_and_the_site_title_filled_in(
    services: Services, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = start_woocommerce(tmp_path, request)
    refused = invoke(services, "shops", "add", "woocommerce", "--url", store.url, "--key", WOO_KEY,
                     "--secret", "cs_wrong")
    assert refused.exit_code == 2 and "the store refused these credentials" in refused.output
    assert "woocommerce_rest_authentication_error" in refused.output  # WooCommerce's own reason
    assert shop_count(services) == 0
    added = invoke(services, "shops", "add", "woocommerce", "--url", store.url, "--key", WOO_KEY, "--secret", WOO_SECRET)
    assert added.exit_code == 0, added.output
    with services.db.session() as session:
        assert session.scalars(select(Shop.name)).one() == "E2E kitchen"


def test_no_verify_stores_the_shop_without_asking_the_store(services: Services) -> None:
    added = invoke(services, "shops", "add", "shopify", "--domain", SHOPIFY_DOMAIN, "--token", SHOPIFY_TOKEN,
                   "--api-url", "http://127.0.0.1:9", "--no-verify")  # nothing listens on port 9
    assert added.exit_code == 0 and "credentials not checked" in added.stdout
    assert shop_count(services) == 1


# --- findings 6 and 7: what the customer reads, and what the merchant sees of it ------------------------


def shopify_cycle(services: Services, tmp_path: Path, request: pytest.FixtureRequest) -> int:
    store = named_shopify(tmp_path, request)
    output = connector(services.settings, "shops", "add", "shopify", "--domain", SHOPIFY_DOMAIN, "--token",
                       SHOPIFY_TOKEN, "--api-url", store.url)
    shop_id = int(output.split()[1].rstrip(":"))
    run_cycle(services, shop_id, write_feed(tmp_path / "supplier.csv", shopify_feed_rows()), "acme")
    return shop_id


def test_shopify_emails_carry_the_stores_name_and_no_internal_reference(
    services: Services, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    shopify_cycle(services, tmp_path, request)
    files = sorted(services.settings.outbox_dir.glob("*.eml"))
    assert files
    for path in files:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert f" at {STORE_NAME}" in str(message["Subject"])
        assert message["From"].addresses[0].display_name == STORE_NAME
        assert f"at {STORE_NAME}" in text and text.rstrip().endswith(STORE_NAME)  # greeting line and signature
        words = re.sub(r"https?://\S+", "", text)  # the choice link is the app's own address
        assert "e2e-outfitters" not in words and "Reference" not in words and "127.0.0.1" not in words, words
        assert message["X-Backorder-Notice"]  # the internal reference goes in a header


def test_woocommerce_notes_carry_the_site_title_and_no_reference(
    services: Services, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = start_woocommerce(tmp_path, request)
    output = connector(services.settings, "shops", "add", "woocommerce", "--url", store.url, "--key", WOO_KEY,
                       "--secret", WOO_SECRET)
    shop_id = int(output.split()[1].rstrip(":"))
    rows = [{"sku": "WE2E-KETTLE", "available": 0, "restock_date": "2030-01-10", "restock_qty": 20, "lead_time_days": 1},
            {"sku": "WE2E-CUP", "available": 50, "restock_date": "", "restock_qty": "", "lead_time_days": 1}]
    run_cycle(services, shop_id, write_feed(tmp_path / "kitchen.csv", rows), "kitchen")
    emails = requests.get(f"{store.url}/_sandbox/emails", timeout=10).json()
    assert len(emails) == 2
    for email in emails:
        assert "at E2E kitchen" in email["body"]
        words = re.sub(r"https?://\S+", "", email["body"])
        assert "127.0.0.1" not in words and "Reference" not in words and f"{shop_id}-" not in words, words


def test_the_order_page_shows_each_notice_as_received_and_the_eta_history(
    services: Services, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    shopify_cycle(services, tmp_path, request)
    with services.db.session() as session:
        action = session.scalars(select(Action).where(Action.kind == "notify", Action.status == "sent")).first()
        assert action is not None and action.rendered is not None
        order_id, subject = action.order_id, action.rendered["subject"]
        first_line = action.rendered["text"].splitlines()[2]
        eta = action.payload["eta"]
    client = login(services)
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "What the customer was told" in page and subject.replace("&", "&amp;") in page
    assert first_line in page  # the rendered text itself
    assert "in English" in page and "via .eml file" in page and "sent " in page
    assert "ETA history" in page and (eta or "not known") in page and "written to the store" in page
    assert "Customer&#39;s choice" in page or "Customer's choice" in page


def test_the_choice_page_lists_the_items_and_eta_in_the_emails_words(
    services: Services, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    shopify_cycle(services, tmp_path, request)
    path = next(iter(sorted(services.settings.outbox_dir.glob("*.eml"))))
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"https?://\S+/choice/\S+", text)
    assert link
    app = create_app(services)
    page = app.test_client().get(link.group(0).split("127.0.0.1:8000", 1)[1]).get_data(as_text=True)
    offer = next(line for line in text.splitlines() if line.startswith("You can choose to keep waiting"))
    assert offer.removesuffix(" Choose here:") in page  # the same sentence as the email
    assert STORE_NAME in page and "Cancel the items that have not shipped" in page and "Cancel my order" not in page
    for line in text.splitlines():
        if line.startswith("- "):  # "- 2 × Shirt (E2E-SHIRT): expected Friday, ..."
            quantity, _, rest = line[2:].partition(" × ")
            label = rest.split(" (")[0].split(":")[0]
            assert label in page and f">{quantity}<" in page
            if "expected " in line:
                assert line.split("expected ", 1)[1] in page  # the ETA as the email wrote it
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) > 0


def test_the_dashboard_previews_every_notice_in_each_language_and_sends_a_test(
    services: Services, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    shopify_cycle(services, tmp_path, request)
    client = login(services)
    page = client.get("/notices").get_data(as_text=True)
    for kind in ("Backordered", "ETA changed", "Ready to ship"):
        for language in ("English", "German"):
            assert f"{kind} · {language}" in page
    assert f"at {STORE_NAME}" in page and f"bei {STORE_NAME}" in page
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    before = set(services.settings.outbox_dir.glob("*.eml"))
    response = client.post("/notices/test", data={"kind": "eta_changed", "language": "de", "to": "owner@example.com",
                                                  "csrf_token": token})
    assert response.status_code == 302
    [new] = set(services.settings.outbox_dir.glob("*.eml")) - before
    message = BytesParser(policy=policy.default).parsebytes(new.read_bytes())
    assert str(message["To"]) == "owner@example.com" and str(message["Subject"]).startswith("[Test] Ihre Bestellung")
    assert "written to" in client.get("/notices").get_data(as_text=True)
