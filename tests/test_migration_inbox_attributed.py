"""Migration 0012: deliveries stored before the worker attributed them get their installed shop's id."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.store.db import alembic_config, make_engine
from connector.store.models import InboxItem, Shop


def test_unattributed_deliveries_of_an_installed_shop_are_attributed_and_the_rest_left(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine(database_url)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "0011_inbox_body_lz4")
        with Session(engine) as session, session.begin():
            shop = Shop(platform="shopify", domain="alpha.myshopify.com", name="Alpha", settings={})
            woo = Shop(platform="woocommerce", domain="alpha.myshopify.com", name="Same text, other platform", settings={})
            session.add_all([shop, woo])
            session.flush()
            session.add_all([
                InboxItem(platform="shopify", shop_id=None, shop_domain="alpha.myshopify.com", topic="orders/create",
                          delivery_id="d-old", body=b"{}", status="done"),
                InboxItem(platform="shopify", shop_id=None, shop_domain="gone.myshopify.com", topic="shop/redact",
                          delivery_id="d-gone", body=b"{}", status="done"),
                InboxItem(platform="shopify", shop_id=shop.id, shop_domain="alpha.myshopify.com",
                          topic="orders/updated", delivery_id="d-set", body=b"{}", status="done"),
            ])
            shop_id = shop.id

        command.upgrade(config, "head")

        with Session(engine) as session:
            attributed = dict(session.execute(select(InboxItem.delivery_id, InboxItem.shop_id)).tuples().all())
        assert attributed == {"d-old": shop_id, "d-gone": None, "d-set": shop_id}
    finally:
        engine.dispose()
