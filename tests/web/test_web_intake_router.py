"""The intake's WSGI layer in front of the web app: its two routes answered without Flask, everything else passed on."""

from __future__ import annotations

import io
import logging

import pytest
from flask.testing import FlaskClient

from connector.services import Services
from web_support import VECTOR_BODY, add_shop, inbox_count, shopify_headers
from webhooks.wsgi import INTAKE_ROUTES, IntakeRequest

URL = "/webhooks/shopify"


def test_a_delivery_is_answered_by_the_intake_with_json_and_nosniff(client: FlaskClient, web_services: Services) -> None:
    add_shop(web_services, "shopify", "demo.myshopify.com")
    answer = client.post(URL, data=VECTOR_BODY, headers=shopify_headers(VECTOR_BODY))
    assert answer.status_code == 200 and answer.get_json() == {"status": "stored"}
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Content-Length"] == str(len(answer.data))
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and answer.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in answer.headers


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", [URL, "/webhooks/woocommerce/1"])
def test_other_methods_on_the_intake_routes_are_405_and_store_nothing(client: FlaskClient, web_services: Services,
                                                                      method: str, path: str) -> None:
    answer = client.open(path, method=method, data=VECTOR_BODY, headers=shopify_headers(VECTOR_BODY))
    assert answer.status_code == 405 and answer.headers["Allow"] == "POST"
    assert answer.get_json()["error"] == "Method Not Allowed"
    assert inbox_count(web_services) == 0


@pytest.mark.parametrize("where", ["a kept header", "Content-Type", "the query string"])
def test_a_nul_byte_in_a_header_is_400_before_anything_is_read(client: FlaskClient, web_services: Services,
                                                               where: str) -> None:
    headers = shopify_headers(VECTOR_BODY)
    overrides: dict[str, str] = {}
    if where == "a kept header":
        headers |= {"X-Shopify-Topic": "orders/create\x00"}
    elif where == "Content-Type":  # a header WSGI keeps under CONTENT_TYPE, not an HTTP_ key
        overrides["CONTENT_TYPE"] = "application/json\x00"
    else:
        overrides["QUERY_STRING"] = "a=\x00"
    answer = client.post(URL, data=VECTOR_BODY, headers=headers, environ_overrides=overrides)
    assert answer.status_code == 400 and "NUL" in answer.get_json()["message"]
    assert inbox_count(web_services) == 0


def test_a_declared_length_past_the_hard_cap_is_413_unread(client: FlaskClient, web_services: Services) -> None:
    limit = web_services.settings.webhook_max_body_bytes
    answer = client.post(URL, data=b"{}", headers=shopify_headers(b"{}"),
                         environ_overrides={"CONTENT_LENGTH": str(4 * limit + 1)})
    assert answer.status_code == 413 and answer.get_json()["error"] == "Payload Too Large"
    assert inbox_count(web_services) == 0


def test_an_unexpected_failure_is_a_500_that_logs_neither_body_nor_secret(
        client: FlaskClient, web_services: Services, caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def store(self, delivery: object) -> bool:
            raise RuntimeError("the database is on fire")

        def close(self) -> None:
            pass

    web_services.__dict__["intake"] = Broken()
    with caplog.at_level(logging.ERROR, logger="webhooks"):
        answer = client.post(URL, data=VECTOR_BODY, headers=shopify_headers(VECTOR_BODY))
    assert answer.status_code == 500
    assert answer.get_json() == {"error": "Internal Server Error",
                                 "message": "something went wrong; the operator can see the log"}
    [record] = [r for r in caplog.records if r.name == "webhooks"]
    assert "webhook intake failed for /webhooks/shopify" in record.getMessage()
    logged = caplog.text
    assert VECTOR_BODY.decode()[:40] not in logged and web_services.settings.shopify_api_secret not in logged


def test_every_other_path_goes_on_to_the_web_app(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    for path in ("/webhooks/woocommerce/abc", "/webhooks/woocommerce/", "/webhooks/shopify/", "/webhooks/woocommerce/٣"):
        answer = client.post(path, data=b"{}")
        assert answer.status_code == 404, path


def test_the_intake_routes_are_listed_for_route_walkers() -> None:
    assert sorted(rule.rule for rule in INTAKE_ROUTES.iter_rules()) == [
        "/webhooks/shopify", "/webhooks/woocommerce/<int:shop_id>"]


@pytest.mark.parametrize(("environ", "expected"), [
    ({"CONTENT_LENGTH": "5"}, b"hello"),
    ({"CONTENT_LENGTH": "0"}, b""),
    ({"CONTENT_LENGTH": "9"}, b"hello world"[:9]),
    ({"CONTENT_LENGTH": "12"}, b"hello world"),  # sent short of its declared length: comes back short
    ({}, None),  # no length: read through the stream
    ({"CONTENT_LENGTH": "5", "wsgi.input_terminated": True}, b"hello"),  # as gunicorn marks every body
    ({"CONTENT_LENGTH": "5", "HTTP_TRANSFER_ENCODING": "Chunked", "wsgi.input_terminated": True}, None),  # chunked
    ({"CONTENT_LENGTH": "-5"}, None),
    ({"CONTENT_LENGTH": "٥"}, None),  # a digit of another script is no length
    ({"CONTENT_LENGTH": "11"}, b"hello world"),
    ({"CONTENT_LENGTH": "12", "limit": 11}, None),  # over the limit: streamed, so the limit's answer applies
])
def test_a_declared_body_within_the_limit_is_read_whole(environ: dict[str, object], expected: bytes | None) -> None:
    limit = int(environ.pop("limit", 1000))  # type: ignore[call-overload]
    request = IntakeRequest({"wsgi.input": io.BytesIO(b"hello world"), **environ})
    assert request.read_declared(limit) == expected


def test_a_chunked_delivery_is_read_through_the_stream_and_stored(client: FlaskClient, web_services: Services) -> None:
    add_shop(web_services, "shopify", "demo.myshopify.com")
    # As gunicorn hands over a chunked body: no Content-Length, the stream ended by the server.
    answer = client.post(URL, input_stream=io.BytesIO(VECTOR_BODY),
                         headers=shopify_headers(VECTOR_BODY) | {"Transfer-Encoding": "chunked"},
                         environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    assert answer.status_code == 200 and answer.get_json() == {"status": "stored"}
    assert inbox_count(web_services) == 1
