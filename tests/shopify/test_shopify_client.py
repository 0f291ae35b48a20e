"""ShopifyClient: endpoint and token, pacing by throttleStatus, retries, error mapping, token refresh."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses
from shopify_support import API, DOMAIN, TOKEN, FakeShopify, FakeTime, make_client, throttle, throttled_body

from connector.errors import AuthError, ConfigError, PlatformError, ThrottledError, TransportError, UserError
from connector.platforms.base import ShopAccess
from connector.platforms.shopify import documents as docs
from connector.platforms.shopify.client import ShopifyClient
from connector.platforms.shopify.oauth import TokenSet

TAGS = {"order": {"id": "gid://shopify/Order/1", "tags": []}}
ORDER_VARS = {"id": "gid://shopify/Order/1"}


def test_execute_posts_to_the_versioned_endpoint_with_the_token(client: ShopifyClient, shop: FakeShopify) -> None:
    shop.data("OrderTags", TAGS)
    assert client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS) == TAGS
    call = shop.calls[0]
    assert call.headers["X-Shopify-Access-Token"] == TOKEN
    assert call.variables == ORDER_VARS
    assert client.endpoint == API


def test_api_version_comes_from_the_shop_when_it_has_one(fake_time: FakeTime) -> None:
    access = ShopAccess(platform="shopify", domain=DOMAIN, access_token=TOKEN, api_version="2027-01")
    assert make_client(fake_time, access=access).endpoint.endswith("/admin/api/2027-01/graphql.json")


# -- pacing -------------------------------------------------------------------------------------


def test_requests_wait_for_the_bucket_to_refill_to_their_cost(client: ShopifyClient, shop: FakeShopify,
                                                             fake_time: FakeTime) -> None:
    shop.data("OrderTags", TAGS, cost=throttle(available=100, restore=50, requested=400))
    shop.data("OrderTags", TAGS, cost=throttle(available=600, restore=50, requested=400))
    client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert fake_time.sleeps == []
    fake_time.now += 2.0  # 100 points restored meanwhile
    client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    # the same document asked 400 last time: 400 - (100 + 2 * 50) = 200 points at 50/s
    assert fake_time.sleeps == [pytest.approx(4.0)]


def test_pacing_uses_the_estimated_cost_of_a_document_not_seen_before(client: ShopifyClient, shop: FakeShopify,
                                                                      fake_time: FakeTime) -> None:
    shop.data("OrderTags", TAGS, cost=throttle(available=0, restore=100, requested=1))
    shop.data("OrderLineItems", {"order": None})
    client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    client.execute(docs.ORDER_LINE_ITEMS_QUERY, {"id": "gid://shopify/Order/1", "first": 250})
    assert fake_time.sleeps == [pytest.approx((1 + 2 + 250 * 2) / 100)]


def test_no_pacing_when_the_bucket_covers_the_request(client: ShopifyClient, shop: FakeShopify,
                                                      fake_time: FakeTime) -> None:
    shop.data("OrderTags", TAGS, cost=throttle(available=990, restore=50))
    shop.data("OrderTags", TAGS, cost=throttle(available=980, restore=50))
    client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert fake_time.sleeps == []


# -- retries ------------------------------------------------------------------------------------


def test_throttled_with_http_200_waits_what_the_bucket_needs_then_retries(client: ShopifyClient, shop: FakeShopify,
                                                                          fake_time: FakeTime) -> None:
    shop.raw("OrderTags", 200, throttled_body(requested=70, available=66, restore=50))
    shop.data("OrderTags", TAGS)
    assert client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS) == TAGS
    # (70 - 66 + 1 point of rounding) / 50; no extra pacing on top of the retry wait
    assert fake_time.sleeps == [pytest.approx(0.10)]
    assert len(shop.calls) == 2


def test_a_throttle_hidden_by_rounding_waits_a_point_not_a_backoff(client: ShopifyClient, shop: FakeShopify,
                                                                   fake_time: FakeTime) -> None:
    # Shopify rounds currentlyAvailable: 969.6 points show as 970 against a 970-point request, twice in a row
    shop.raw("OrderTags", 200, throttled_body(requested=970, available=965, restore=1000))
    shop.raw("OrderTags", 200, throttled_body(requested=970, available=970, restore=1000))
    shop.data("OrderTags", TAGS)
    assert client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS) == TAGS
    assert fake_time.sleeps == [pytest.approx(0.006), pytest.approx(0.001)]


def test_throttled_with_http_429_is_retried(client: ShopifyClient, shop: FakeShopify, fake_time: FakeTime) -> None:
    shop.raw("OrderTags", 429, throttled_body(requested=200, available=100, restore=100))
    shop.data("OrderTags", TAGS)
    assert client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS) == TAGS
    assert fake_time.sleeps == [pytest.approx(1.01)]


def test_http_429_with_retry_after_waits_that_long(client: ShopifyClient, shop: FakeShopify,
                                                   fake_time: FakeTime) -> None:
    shop.raw("OrderTags", 429, "Too Many Requests", {"Retry-After": "2.5"})
    shop.data("OrderTags", TAGS)
    client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert fake_time.sleeps == [2.5]


def test_server_errors_back_off_exponentially_then_succeed(client: ShopifyClient, shop: FakeShopify,
                                                           fake_time: FakeTime) -> None:
    shop.raw("OrderTags", 502, "bad gateway")
    shop.raw("OrderTags", 503, "unavailable")
    shop.data("OrderTags", TAGS)
    assert client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS) == TAGS
    assert fake_time.sleeps == [1.0, 2.0]


def test_jitter_is_applied_to_the_backoff(fake_time: FakeTime, shop: FakeShopify) -> None:
    jittery = make_client(fake_time, jitter=lambda delay: delay * 1.1)
    shop.raw("OrderTags", 500, "oops")
    shop.data("OrderTags", TAGS)
    jittery.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert fake_time.sleeps == [pytest.approx(1.1)]


def test_connection_errors_and_timeouts_are_retried(client: ShopifyClient, shop: FakeShopify,
                                                    fake_time: FakeTime) -> None:
    shop.fail("OrderTags", requests.ConnectionError("refused"))
    shop.fail("OrderTags", requests.Timeout("slow"))
    shop.data("OrderTags", TAGS)
    assert client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS) == TAGS
    assert len(fake_time.sleeps) == 2


def test_retries_are_bounded(fake_time: FakeTime, shop: FakeShopify) -> None:
    bounded = make_client(fake_time, max_attempts=3)
    for _ in range(5):
        shop.raw("OrderTags", 500, "down")
    with pytest.raises(TransportError) as caught:
        bounded.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert caught.value.status == 500
    assert len(shop.calls) == 3
    assert fake_time.sleeps == [1.0, 2.0]


def test_throttling_that_never_ends_gives_up_with_a_throttled_error(fake_time: FakeTime, shop: FakeShopify) -> None:
    bounded = make_client(fake_time, max_attempts=2)
    for _ in range(2):
        shop.raw("OrderTags", 200, throttled_body(requested=70, available=0, restore=50))
    with pytest.raises(ThrottledError):
        bounded.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert len(shop.calls) == 2


# -- errors that are not retried ----------------------------------------------------------------


def test_401_is_an_auth_error_without_retry(client: ShopifyClient, shop: FakeShopify) -> None:
    shop.raw("OrderTags", 401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
    with pytest.raises(AuthError, match="access token was refused"):
        client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert len(shop.calls) == 1


def test_403_names_the_missing_scope(client: ShopifyClient, shop: FakeShopify) -> None:
    shop.raw("OrderTags", 403, {"errors": "[API] This action requires merchant approval for write_orders scope."})
    with pytest.raises(AuthError, match="write_orders") as caught:
        client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert caught.value.status == 403
    assert len(shop.calls) == 1


def test_access_denied_in_graphql_errors_names_the_scope(client: ShopifyClient, shop: FakeShopify) -> None:
    shop.raw("OrderTags", 200, {"errors": [{"message": "Access denied for orders field. Required access: "
                                            "`read_orders` access scope.", "extensions": {"code": "ACCESS_DENIED"}}]})
    with pytest.raises(AuthError, match="read_orders"):
        client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert len(shop.calls) == 1


def test_graphql_errors_become_a_user_error_with_every_message(client: ShopifyClient, shop: FakeShopify) -> None:
    shop.raw("OrderTags", 200, {"errors": [{"message": "Field 'x' doesn't exist"}, {"message": "second"}]})
    with pytest.raises(UserError) as caught:
        client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert caught.value.messages == ["Field 'x' doesn't exist", "second"]
    assert len(shop.calls) == 1


def test_max_cost_exceeded_is_a_bug_and_not_retried(client: ShopifyClient, shop: FakeShopify) -> None:
    shop.raw("OrderTags", 200, {"errors": [{"message": "Query cost is 3252, which exceeds the single query max "
                                            "cost limit (1000).", "extensions": {"code": "MAX_COST_EXCEEDED"}}]})
    with pytest.raises(UserError) as caught:
        client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert caught.value.code == "MAX_COST_EXCEEDED"
    assert len(shop.calls) == 1


def test_a_redirect_is_not_followed_so_the_token_stays_home(client: ShopifyClient, shop: FakeShopify,
                                                            rsps: responses.RequestsMock) -> None:
    shop.raw("OrderTags", 301, "", {"Location": "https://evil.example.com/steal"})
    with pytest.raises(PlatformError, match="redirect") as caught:
        client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert caught.value.status == 301
    assert [call.request.url for call in rsps.calls] == [API]


def test_an_answer_that_is_not_json_is_a_platform_error(client: ShopifyClient, shop: FakeShopify) -> None:
    shop.raw("OrderTags", 200, "<html>proxy page</html>")
    with pytest.raises(PlatformError, match="not JSON"):
        client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)


def test_mutation_user_errors_are_raised_with_their_messages(client: ShopifyClient, shop: FakeShopify) -> None:
    shop.data("TagsAdd", {"tagsAdd": {"userErrors": [{"field": ["tags", "0"], "message": "Tag is too long"},
                                                     {"field": None, "message": "Order is archived"}]}})
    with pytest.raises(UserError) as caught:
        client.mutate(docs.TAGS_ADD_MUTATION, {"id": "gid://shopify/Order/1", "tags": ["x"]}, "tagsAdd")
    assert caught.value.messages == ["tags.0: Tag is too long", "Order is archived"]


def test_mutation_without_user_errors_returns_its_payload(client: ShopifyClient, shop: FakeShopify) -> None:
    shop.data("TagsAdd", {"tagsAdd": {"userErrors": []}})
    assert client.mutate(docs.TAGS_ADD_MUTATION, {"id": "gid://shopify/Order/1", "tags": ["x"]},
                         "tagsAdd") == {"userErrors": []}


@pytest.mark.parametrize("reply", [
    (401, {"errors": "bad token"}),
    (403, {"errors": "denied"}),
    (500, "boom"),
    (200, {"errors": [{"message": "nope"}]}),
    (429, "slow down"),
])
def test_the_token_never_appears_in_errors_or_logs(fake_time: FakeTime, shop: FakeShopify,
                                                  caplog: pytest.LogCaptureFixture, reply: tuple) -> None:
    caplog.set_level(logging.DEBUG)
    quick = make_client(fake_time, max_attempts=1)
    shop.raw("OrderTags", *reply)
    with pytest.raises(PlatformError) as caught:
        quick.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    for text in (str(caught.value), repr(caught.value), repr(quick), caplog.text):
        assert TOKEN not in text


def test_the_token_is_not_in_a_connection_error(fake_time: FakeTime, shop: FakeShopify) -> None:
    shop.fail("OrderTags", requests.ConnectionError(f"failed with header {TOKEN}"))
    with pytest.raises(TransportError) as caught:
        make_client(fake_time, max_attempts=1).execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


# -- addresses ----------------------------------------------------------------------------------


@pytest.mark.parametrize("api_url", ["http://127.0.0.1:8123", "http://localhost:9000/", "http://[::1]:81",
                                     "http://127.9.9.9", "https://proxy.example.com/shopify"])
def test_loopback_http_and_any_https_api_url_are_accepted(fake_time: FakeTime, api_url: str) -> None:
    access = ShopAccess(platform="shopify", domain=DOMAIN, access_token=TOKEN, api_url=api_url)
    client = make_client(fake_time, access=access)
    assert client.endpoint == f"{api_url.rstrip('/')}/admin/api/2026-10/graphql.json"


@pytest.mark.parametrize("api_url", ["http://example.com", "http://127.0.0.1.evil.com", "http://localhost.evil.com",
                                     "http://10.0.0.5:8080", "ftp://127.0.0.1", "https://user:pw@proxy.example.com",
                                     "https://proxy.example.com/?x=1", "127.0.0.1:8000"])
def test_other_api_urls_are_refused(fake_time: FakeTime, api_url: str) -> None:
    access = ShopAccess(platform="shopify", domain=DOMAIN, access_token=TOKEN, api_url=api_url)
    with pytest.raises(ConfigError, match="api_url"):
        make_client(fake_time, access=access)


def test_requests_go_to_the_loopback_api_url(fake_time: FakeTime, rsps: responses.RequestsMock) -> None:
    local = FakeShopify(rsps, url="http://127.0.0.1:8123/admin/api/2026-10/graphql.json")
    local.data("OrderTags", TAGS)
    access = ShopAccess(platform="shopify", domain=DOMAIN, access_token=TOKEN, api_url="http://127.0.0.1:8123")
    assert make_client(fake_time, access=access).execute(docs.ORDER_TAGS_QUERY, ORDER_VARS) == TAGS


@pytest.mark.parametrize("domain", ["evil.com", "test-shop.myshopify.com.evil.com", "test-shop.myshopify.com\n",
                                    "evil.com/x.myshopify.com", "test-shop.myshopify.com@evil.com",
                                    "evil.com#.myshopify.com", "-shop.myshopify.com", "test-shop.myshopify.com:443",
                                    "Test-Shop.myshopify.com", "test_shop.myshopify.com", ".myshopify.com", ""])
def test_crafted_shop_domains_are_refused_before_any_request(fake_time: FakeTime, rsps: responses.RequestsMock,
                                                             domain: str) -> None:
    access = ShopAccess(platform="shopify", domain=domain, access_token=TOKEN)
    with pytest.raises(ConfigError, match="shop domain"):
        make_client(fake_time, access=access)
    assert len(rsps.calls) == 0


# -- expiring tokens ----------------------------------------------------------------------------

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _expiring_client(fake_time: FakeTime, expires_in: timedelta, saved: list, refreshed_with: list) -> ShopifyClient:
    access = ShopAccess(platform="shopify", domain=DOMAIN, access_token=TOKEN, refresh_token="shprt_old",
                        token_expires_at=NOW + expires_in)

    def refresher(refresh: str) -> TokenSet:
        refreshed_with.append(refresh)
        return TokenSet("shpat_new", "write_orders", NOW + timedelta(hours=1), "shprt_new", NOW + timedelta(days=90))

    return make_client(fake_time, access=access, now=lambda: NOW, token_refresher=refresher,
                       on_token_refresh=lambda *pair: saved.append(pair))


def test_a_token_expiring_within_five_minutes_is_refreshed_first(fake_time: FakeTime, shop: FakeShopify) -> None:
    saved: list = []
    refreshed_with: list = []
    client = _expiring_client(fake_time, timedelta(minutes=4), saved, refreshed_with)
    shop.data("OrderTags", TAGS)
    shop.data("OrderTags", TAGS)
    client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert refreshed_with == ["shprt_old"]
    assert saved == [("shpat_new", "shprt_new", NOW + timedelta(hours=1))]
    assert [call.headers["X-Shopify-Access-Token"] for call in shop.calls] == ["shpat_new", "shpat_new"]


def test_a_token_with_time_left_is_not_refreshed(fake_time: FakeTime, shop: FakeShopify) -> None:
    saved: list = []
    refreshed_with: list = []
    client = _expiring_client(fake_time, timedelta(minutes=30), saved, refreshed_with)
    shop.data("OrderTags", TAGS)
    client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert refreshed_with == [] and saved == []


def test_an_expired_token_without_a_refresher_fails_before_sending(fake_time: FakeTime, shop: FakeShopify) -> None:
    access = ShopAccess(platform="shopify", domain=DOMAIN, access_token=TOKEN, token_expires_at=NOW - timedelta(1))
    client = make_client(fake_time, access=access, now=lambda: NOW)
    with pytest.raises(AuthError, match="expired"):
        client.execute(docs.ORDER_TAGS_QUERY, ORDER_VARS)
    assert shop.calls == []



def test_default_jitter_stays_within_a_quarter_above_the_backoff() -> None:
    from connector.platforms.retrying import backoff_seconds, spread_jitter

    assert [backoff_seconds(n, base=1.0, cap=60.0) for n in (1, 2, 3, 7, 50)] == [1.0, 2.0, 4.0, 60.0, 60.0]
    assert all(4.0 <= spread_jitter(4.0) <= 5.0 for _ in range(200))
