"""The WooCommerce sandbox answers like WooCommerce: OAuth 1.0a, Basic and query keys, lists and writes."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.woocommerce import WooState, create_app, oauth_base_string, oauth_signature

from woo_sandbox_support import (  # noqa: F401 - fixtures are found by name
    CK, CS, EXAMPLE_FEED, EXAMPLE_SEED, NOW, REPO, RO_CK, RO_CS, SEED, SITE, Clock, Receiver, _ids, _order, app, basic, client, clock, https, receiver, sign, state,
)

# ---- OAuth 1.0a ----------------------------------------------------------------------------------


def test_oauth_signature_matches_the_worked_vectors_of_the_platform_notes() -> None:
    oauth = {"oauth_consumer_key": "ck_test", "oauth_nonce": "0123456789abcdef0123456789abcdef",
             "oauth_signature_method": "HMAC-SHA256", "oauth_timestamp": "1700000000"}
    url = "http://example.com/wp-json/wc/v3/orders"
    base = oauth_base_string("GET", url, oauth)
    assert base == ("GET&http%3A%2F%2Fexample.com%2Fwp-json%2Fwc%2Fv3%2Forders&oauth_consumer_key%3Dck_test"
                    "%26oauth_nonce%3D0123456789abcdef0123456789abcdef%26oauth_signature_method%3DHMAC-SHA256"
                    "%26oauth_timestamp%3D1700000000")
    assert oauth_signature(base, "cs_test", "HMAC-SHA256") == "/W4l4wOcf10uGaAiTpYVADANiV2YDDly/zO7iOKq7ew="
    query = {"per_page": "100", "page": "2", "status": "processing", "modified_after": "2024-01-01T00:00:00"}
    base = oauth_base_string("GET", url, {**query, **oauth})
    assert "modified_after%3D2024-01-01T00%253A00%253A00%26oauth_consumer_key" in base
    assert oauth_signature(base, "cs_test", "HMAC-SHA256") == "SVr7belHn5Gs0f696k7wtjnozQ0hVqiyDNMMYw4LGfg="
    signed = sign("GET", url, query, "ck_test", "cs_test", nonce=oauth["oauth_nonce"], timestamp=1700000000)
    assert signed["oauth_signature"] == "SVr7belHn5Gs0f696k7wtjnozQ0hVqiyDNMMYw4LGfg="


def test_oauth_signed_request_is_accepted_and_its_nonce_cannot_be_replayed(client: Any) -> None:
    params = sign("GET", f"{SITE}/wp-json/wc/v3/orders", {"per_page": "5"})
    first = client.get("/wp-json/wc/v3/orders?" + urlencode(params))
    assert first.status_code == 200
    assert len(first.get_json()) == 5
    replay = client.get("/wp-json/wc/v3/orders?" + urlencode(params))
    assert replay.status_code == 401
    assert replay.get_json()["code"] == "woocommerce_rest_authentication_error"
    assert replay.get_json()["message"] == "Invalid nonce - nonce has already been used."


def test_oauth_in_the_authorization_header_with_sha1_is_accepted(client: Any) -> None:
    params = sign("GET", f"{SITE}/wp-json/wc/v3/products", {}, algorithm="HMAC-SHA1")
    header = "OAuth " + ", ".join(f'{k}="{quote(v, safe="")}"' for k, v in params.items())
    assert client.get("/wp-json/wc/v3/products", headers={"Authorization": header}).status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key": "ck_unknown"}, "Consumer key is invalid."),
        ({"secret": "cs_wrong"}, "Invalid signature - provided signature does not match."),
        ({"timestamp": NOW - 16 * 60}, "Invalid timestamp."),
        ({"url": "http://127.0.0.1/wp-json/wc/v3/orders"}, "Invalid signature - provided signature does not match."),
    ],
)
def test_oauth_failures_name_the_reason(client: Any, change: dict[str, Any], message: str) -> None:
    url = change.pop("url", f"{SITE}/wp-json/wc/v3/orders")
    params = sign("GET", url, {}, change.pop("key", CK), change.pop("secret", CS), **change)
    response = client.get("/wp-json/wc/v3/orders?" + urlencode(params))
    assert response.status_code == 401
    assert response.get_json() == {"code": "woocommerce_rest_authentication_error", "message": message, "data": {"status": 401}}


def test_missing_oauth_parameters_are_named(client: Any) -> None:
    response = client.get("/wp-json/wc/v3/orders?oauth_consumer_key=" + CK)
    assert response.status_code == 401
    assert response.get_json()["code"] == "woocommerce_rest_authentication_missing_parameter"
    assert "oauth_signature" in response.get_json()["message"]


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text("abcxyz_[]", min_size=1, max_size=6).filter(lambda k: "[" not in k and not k.startswith("oauth")),
                       st.text(min_size=0, max_size=12), max_size=4))
def test_any_query_signed_by_an_independent_signer_is_accepted(params: dict[str, str]) -> None:
    app = create_app(WooState.from_seed(copy.deepcopy(SEED)), clock=Clock())
    signed = sign("GET", f"{SITE}/wp-json/wc/v3/products", params)
    assert app.test_client().get("/wp-json/wc/v3/products?" + urlencode(signed)).status_code == 200


# ---- Basic and query keys --------------------------------------------------------------------------


def test_basic_auth_and_query_keys_are_ignored_over_plain_http(client: Any) -> None:
    for response in (
        client.get("/wp-json/wc/v3/orders", headers=basic()),
        client.get(f"/wp-json/wc/v3/orders?consumer_key={CK}&consumer_secret={CS}"),
    ):
        assert response.status_code == 401
        assert response.get_json() == {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.",
                                       "data": {"status": 401}}


def test_https_mode_honours_basic_and_query_keys(client: Any, https: WooState) -> None:
    assert client.get("/wp-json/wc/v3/orders", headers=basic()).status_code == 200
    assert client.get(f"/wp-json/wc/v3/orders?consumer_key={CK}&consumer_secret={CS}").status_code == 200
    wrong = client.get("/wp-json/wc/v3/orders", headers=basic(CK, "cs_nope"))
    assert (wrong.status_code, wrong.get_json()["message"]) == (401, "Consumer secret is invalid.")
    unknown = client.get("/wp-json/wc/v3/orders", headers=basic("ck_nobody", "cs_x"))
    assert (unknown.status_code, unknown.get_json()["code"]) == (401, "woocommerce_rest_cannot_view")


def test_read_only_key_cannot_write(client: Any, https: WooState) -> None:
    assert client.get("/wp-json/wc/v3/orders/1", headers=basic(RO_CK, RO_CS)).status_code == 200
    response = client.put("/wp-json/wc/v3/orders/1", json={"status": "on-hold"}, headers=basic(RO_CK, RO_CS))
    assert response.status_code == 401
    assert response.get_json() == {"code": "woocommerce_rest_authentication_error",
                                   "message": "The API key provided does not have write permissions.", "data": {"status": 401}}


# ---- listing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["101", "0", "1000"])
def test_per_page_outside_1_to_100_is_a_400_with_woocommerces_shape(client: Any, https: WooState, value: str) -> None:
    response = client.get(f"/wp-json/wc/v3/orders?per_page={value}", headers=basic())
    assert response.status_code == 400
    assert response.get_json() == {
        "code": "rest_invalid_param", "message": "Invalid parameter(s): per_page",
        "data": {"status": 400, "params": {"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"}},
    }


def test_pagination_headers_and_links(client: Any, https: WooState) -> None:
    response = client.get(f"/wp-json/wc/v3/orders?per_page=2&page=2&orderby=id&order=asc&consumer_key={CK}&consumer_secret={CS}")
    assert _ids(response) == [3, 4]
    assert response.headers["X-WP-Total"] == "6"  # trash is not part of "any"
    assert response.headers["X-WP-TotalPages"] == "3"
    links = response.headers.getlist("Link")
    assert any('rel="prev"' in link and "page=1" in link for link in links)
    assert any('rel="next"' in link and "page=3" in link and link.startswith(f"<{SITE}/wp-json/wc/v3/orders?") for link in links)
    assert not any("consumer_secret" in link or CS in link for link in links)
    last = client.get("/wp-json/wc/v3/orders?per_page=2&page=3", headers=basic())
    assert not any('rel="next"' in link for link in last.headers.getlist("Link"))


def test_status_filter_follows_php_query_semantics(client: Any, https: WooState) -> None:
    def ids(query: str) -> list[int]:
        return sorted(_ids(client.get(f"/wp-json/wc/v3/orders?{query}", headers=basic())))

    assert ids("status=processing,on-hold") == [1, 2, 6]
    assert ids("status[]=processing&status[]=on-hold") == [1, 2, 6]
    assert ids("status=processing&status=on-hold") == [2]  # PHP keeps only the last plain key
    assert ids("") == [1, 2, 3, 4, 5, 6]
    assert ids("status=trash") == [7]
    bad = client.get("/wp-json/wc/v3/orders?status=shipped", headers=basic())
    assert bad.status_code == 400 and bad.get_json()["code"] == "rest_invalid_param"


def test_modified_after_compares_gmt_only_with_dates_are_gmt(client: Any, https: WooState) -> None:
    query = "modified_after=2026-11-12T08:00:00&orderby=modified&order=asc"
    assert _ids(client.get(f"/wp-json/wc/v3/orders?{query}&dates_are_gmt=true", headers=basic())) == [3, 4, 5, 6]
    # Without the flag the bound is read against site-local (GMT-5) times, so order 3 (05:00 local) drops out
    # and order 2 (modified 03:00 GMT = 22:00 local the day before) is still excluded.
    assert _ids(client.get(f"/wp-json/wc/v3/orders?{query}", headers=basic())) == [4, 5, 6]
    bad = client.get("/wp-json/wc/v3/orders?modified_after=yesterday", headers=basic())
    assert bad.get_json()["data"]["params"] == {"modified_after": "Invalid date."}


def test_products_variations_and_parent_managed_stock(client: Any, https: WooState) -> None:
    response = client.get("/wp-json/wc/v3/products?per_page=2&orderby=id&order=asc", headers=basic())
    assert _ids(response) == [10, 20]
    assert response.headers["X-WP-Total"] == "3"
    variations = client.get("/wp-json/wc/v3/products/20/variations", headers=basic()).get_json()
    # Order 6 already reduced the parent's stock from the seed value (the seed is taken as already reduced).
    assert variations[0]["manage_stock"] == "parent"
    assert variations[0]["stock_quantity"] == 4
    assert variations[0]["backorders"] == "yes"
    gift = client.get("/wp-json/wc/v3/products/30", headers=basic()).get_json()
    assert (gift["manage_stock"], gift["stock_quantity"]) == (False, None)
    missing = client.get("/wp-json/wc/v3/products/999", headers=basic())
    assert (missing.status_code, missing.get_json()["code"]) == (404, "woocommerce_rest_product_invalid_id")


def test_unknown_route_is_rest_no_route(client: Any, https: WooState) -> None:
    response = client.get("/wp-json/wc/v3/refunds", headers=basic())
    assert response.status_code == 404
    assert response.get_json()["code"] == "rest_no_route"


# ---- writes ----------------------------------------------------------------------------------------


def test_put_replaces_meta_by_key_changes_status_and_bumps_modified(client: Any, https: WooState, clock: Clock) -> None:
    clock.now = NOW + 3600
    first = client.put("/wp-json/wc/v3/orders/1", json={"meta_data": [{"key": "_backorder_eta", "value": "2026-12-01"}]}, headers=basic())
    second = client.put("/wp-json/wc/v3/orders/1", json={"meta_data": [{"key": "_backorder_eta", "value": "2026-12-09"}],
                                                         "status": "on-hold"}, headers=basic())
    assert first.status_code == second.status_code == 200
    body = second.get_json()
    assert [(m["key"], m["value"]) for m in body["meta_data"]] == [("_backorder_eta", "2026-12-09")]
    assert body["status"] == "on-hold"
    assert (body["date_modified_gmt"], body["date_modified"]) == ("2026-11-18T13:00:00", "2026-11-18T08:00:00")
    notes = client.get("/wp-json/wc/v3/orders/1/notes", headers=basic()).get_json()
    assert notes[0]["note"] == "Order status changed from Processing to On hold."
    bad = client.put("/wp-json/wc/v3/orders/999", json={"status": "completed"}, headers=basic())
    assert (bad.status_code, bad.get_json()["code"]) == (400, "woocommerce_rest_shop_order_invalid_id")


def test_new_backordered_order_reduces_stock_and_cancelling_restores_it(client: Any, https: WooState) -> None:
    placed = client.post("/_sandbox/orders", json={"status": "processing", "line_items": [{"sku": "TENT", "quantity": 3}],
                                                    "billing": {"email": "bo@example.com"}})
    assert placed.status_code == 201
    line = placed.get_json()["line_items"][0]
    assert {m["key"]: m["value"] for m in line["meta_data"]} == {"Backordered": "2", "_reduced_stock": "3"}
    tent = client.get("/wp-json/wc/v3/products/10", headers=basic()).get_json()
    assert (tent["stock_quantity"], tent["stock_status"], tent["backordered"]) == (-2, "onbackorder", True)
    order_id = placed.get_json()["id"]
    client.put(f"/wp-json/wc/v3/orders/{order_id}", json={"status": "cancelled"}, headers=basic())
    assert client.get("/wp-json/wc/v3/products/10", headers=basic()).get_json()["stock_quantity"] == 1


def test_batch_of_more_than_100_items_is_413_and_item_errors_are_inline(client: Any, https: WooState) -> None:
    too_many = client.post("/wp-json/wc/v3/orders/batch", json={"update": [{"id": 1}] * 60, "delete": [2] * 41}, headers=basic())
    assert too_many.status_code == 413
    assert too_many.get_json()["code"] == "woocommerce_rest_request_entity_too_large"
    response = client.post("/wp-json/wc/v3/orders/batch", headers=basic(), json={"update": [
        {"id": 1, "meta_data": [{"key": "_backorder_status", "value": "backordered"}]},
        {"id": 424242, "status": "completed"},
    ]})
    assert response.status_code == 200
    first, second = response.get_json()["update"]
    assert first["meta_data"][0]["value"] == "backordered"
    assert second["id"] == 424242 and second["error"]["code"] == "woocommerce_rest_shop_order_invalid_id"


def test_customer_note_records_the_email_the_store_would_send(client: Any, https: WooState, state: WooState) -> None:
    private = client.post("/wp-json/wc/v3/orders/2/notes", json={"note": "ETA 2026-12-10"}, headers=basic())
    assert private.status_code == 201 and private.get_json()["customer_note"] is False
    assert state.emails == []
    public = client.post("/wp-json/wc/v3/orders/2/notes", json={"note": "Your tent ships on December 10.", "customer_note": True},
                         headers=basic())
    assert public.status_code == 201
    emails = client.get("/_sandbox/emails").get_json()
    assert len(emails) == 1
    assert emails[0]["to"] == "ada@example.com"
    assert emails[0]["subject"] == "Note added to your Test Shop order from November 11, 2026"
    assert "Your tent ships on December 10." in emails[0]["body"]
    missing = client.post("/wp-json/wc/v3/orders/999/notes", json={"note": "x"}, headers=basic())
    assert (missing.status_code, missing.get_json()["code"]) == (404, "woocommerce_rest_order_invalid_id")
    empty = client.post("/wp-json/wc/v3/orders/2/notes", json={"customer_note": True}, headers=basic())
    assert (empty.status_code, empty.get_json()["code"]) == (400, "rest_missing_callback_param")
