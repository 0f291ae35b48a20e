"""Fixtures for the Shopify client tests: responses, the scripted endpoint, a fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from shopify_support import FakeShopify, FakeTime, make_client

from connector.platforms.shopify.adapter import ShopifyPlatform
from connector.platforms.shopify.client import ShopifyClient


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def shop(rsps: responses.RequestsMock) -> FakeShopify:
    return FakeShopify(rsps)


@pytest.fixture
def client(fake_time: FakeTime, shop: FakeShopify) -> ShopifyClient:
    return make_client(fake_time)


@pytest.fixture
def platform(client: ShopifyClient) -> ShopifyPlatform:
    return ShopifyPlatform(client)
