"""Property tests: whatever arrives at the webhook endpoints, the answer is never a 500 and nothing unsigned is stored."""

from __future__ import annotations

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.services import Services
from connector.store.models import Shop
from web_support import SHOPIFY_SECRET, add_shop, b64_hmac, inbox_count

HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters="\x7f"), max_size=60)
SHOPIFY_NAMES = ["X-Shopify-Hmac-Sha256", "Shopify-Hmac-Sha256", "X-Shopify-Topic", "shopify-topic",
                 "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id", "Content-Type"]
WOO_NAMES = ["X-WC-Webhook-Signature", "X-WC-Webhook-ID", "X-WC-Webhook-Topic", "X-WC-Webhook-Delivery-ID",
             "x-wc-webhook-source", "Content-Type"]
BODIES = st.one_of(st.binary(max_size=300), st.just(b"webhook_id=1"), st.just(b'{"id": 1}'),
                   st.from_regex(rb"\Awebhook_id=[0-9]{1,5}\Z"))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def headers_from(names: list[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(st.sampled_from(names), HEADER_TEXT, max_size=len(names))


@FUZZ
@given(body=BODIES, headers=headers_from(SHOPIFY_NAMES))
def test_shopify_random_deliveries_are_refused_without_a_500(
    client: FlaskClient, web_services: Services, body: bytes, headers: dict[str, str]
) -> None:
    response = client.post("/webhooks/shopify", data=body, headers=headers)
    assert response.status_code in (400, 401, 413)
    assert inbox_count(web_services) == 0


@FUZZ
@given(body=BODIES, headers=headers_from(WOO_NAMES), shop_path=st.sampled_from(["1", "2", "0", "99999999999"]))
def test_woocommerce_random_deliveries_are_refused_without_a_500(
    client: FlaskClient, web_services: Services, body: bytes, headers: dict[str, str], shop_path: str
) -> None:
    if not _has_shop(web_services):  # fixtures live for the whole test, examples share them
        add_shop(web_services, "woocommerce", "https://store.example", webhook_secret="s3cret")
    response = client.post(f"/webhooks/woocommerce/{shop_path}", data=body, headers=headers)
    assert response.status_code in (200, 400, 401, 404, 413)
    assert inbox_count(web_services) == 0


@FUZZ
@given(body=st.binary(max_size=300), headers=headers_from(SHOPIFY_NAMES[2:]))
def test_shopify_signed_deliveries_with_random_headers_never_500(
    client: FlaskClient, web_services: Services, body: bytes, headers: dict[str, str]
) -> None:
    before = inbox_count(web_services)
    response = client.post("/webhooks/shopify", data=body,
                           headers={**headers, "X-Shopify-Hmac-Sha256": b64_hmac(SHOPIFY_SECRET, body)})
    assert response.status_code in (200, 400)
    assert inbox_count(web_services) - before <= (1 if response.status_code == 200 else 0)


def _has_shop(services: Services) -> bool:
    with services.db.session() as session:
        return session.get(Shop, 1) is not None
