"""Child process of the sync and push-back benchmarks: syncs (and optionally pushes back) one sandbox shop.

    python -m bench.sync_child shopify|woocommerce SANDBOX_URL DATABASE_URL first|incremental [push [unbatched]]

`first` is a shop's first sync (Shopify reads it through a bulk operation); `incremental` starts from a
cursor older than every order, so every order is read through the paged, cost-metered queries.
Prints JSON figures: requests, cost, throttled and failed answers, seconds, peak RSS; with `push`, also
the push-back phase's requests after reconcile queued its actions, and those of a second push of the
same decisions (every store write queued again). `unbatched` pushes one write per call, as before the
batched writes: the reference.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.machine import own_peak_rss_mb
from bench.sandbox_child import SHOPIFY_TOKEN
from bench.store_data import SHOP_DOMAIN, WOO_CONSUMER_KEY, WOO_CONSUMER_SECRET

COST = re.compile(rb'"actualQueryCost":\s*(\d+)')
REQUESTED = re.compile(rb'"requestedQueryCost":\s*(\d+)')
MAX_QUERY_COST = 1000
MUTATION = re.compile(rb'\s*"(?:\\n|\s)*mutation\b')
SECRET_KEY = "ZTRUiWmYNNgTkOtA4OwzQFCdxfqT2PFaMc7ntObqwNU="
BEFORE_EVERY_ORDER = datetime(2026, 7, 1, tzinfo=UTC)  # the generated stores' orders start in August
SANDBOX_TIMEOUT = 600.0


@dataclass
class Traffic:
    """Every answer the platform client received, as counted by a requests response hook."""

    requests: int = 0
    cost: int = 0
    throttled: int = 0
    failed: int = 0
    over_cap: int = 0  # answers whose requestedQueryCost (extensions.cost) is over the single-query cap
    largest_request: int = 0
    mutations: int = 0  # requests that were GraphQL mutation documents
    by_method: dict[str, int] = field(default_factory=dict)

    def hook(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> requests.Response:
        self.requests += 1
        method = response.request.method or "?"
        self.by_method[method] = self.by_method.get(method, 0) + 1
        if response.url.endswith(".jsonl"):
            return response  # a streamed bulk result: reading it here would hold it all in memory
        content = response.content
        found = COST.search(content)
        if found:
            self.cost += int(found.group(1))
        requested = REQUESTED.search(content)
        if requested:
            self.largest_request = max(self.largest_request, int(requested.group(1)))
        if (requested and int(requested.group(1)) > MAX_QUERY_COST) or b"MAX_COST_EXCEEDED" in content:
            self.over_cap += 1
        body = response.request.body
        if isinstance(body, bytes) and b'"query":' in body:
            if MUTATION.match(body.split(b'"query":', 1)[1]):
                self.mutations += 1
        elif method in ("POST", "PUT"):  # WooCommerce: every write is a POST or PUT
            self.mutations += 1
        if response.status_code == 429 or b'"THROTTLED"' in content:
            self.throttled += 1
        elif response.status_code >= 400:
            self.failed += 1
        return response

    def snapshot(self) -> dict[str, Any]:
        return {"requests": self.requests, "cost": self.cost, "throttled": self.throttled, "failed": self.failed,
                "over_cap": self.over_cap, "largest_request": self.largest_request, "mutations": self.mutations,
                "by_method": dict(self.by_method)}


def platform_for(name: str, url: str, traffic: Traffic, exports: Any = None) -> Any:
    session = requests.Session()
    session.hooks["response"].append(traffic.hook)
    if name == "shopify":
        from connector.platforms.base import ShopAccess
        from connector.platforms.shopify.adapter import ShopifyPlatform
        from connector.platforms.shopify.client import ShopifyClient

        access = ShopAccess(platform="shopify", domain=SHOP_DOMAIN, api_url=url, access_token=SHOPIFY_TOKEN)
        # Bulk results are staged in the database, as the pipeline's platforms stage them. The sandbox builds
        # a whole export inside the bulkOperationRunQuery call (Shopify answers at once and builds it
        # later), which for 100,000 orders takes longer than the client's usual 30 s.
        return ShopifyPlatform(ShopifyClient(access, session=session, timeout=SANDBOX_TIMEOUT), exports=exports)
    from connector.platforms.base import ShopAccess
    from connector.platforms.woocommerce.adapter import WooPlatform
    from connector.platforms.woocommerce.client import WooClient

    access = ShopAccess(platform="woocommerce", domain=url, api_url=f"{url}/wp-json/wc/v3",
                        consumer_key=WOO_CONSUMER_KEY, consumer_secret=WOO_CONSUMER_SECRET)
    return WooPlatform(WooClient(access, session=session))


def main(argv: list[str]) -> None:
    name, url, database_url, mode = argv[0], argv[1], argv[2], argv[3]
    push = argv[4:5] == ["push"]
    unbatched = argv[5:6] == ["unbatched"]
    from connector.pipeline.sync import ORDERS, sync_shop
    from connector.store.repo import set_cursor
    from connector.services import Services
    from connector.settings import load_settings
    from connector.store.exports import DatabaseExportStore
    from connector.store.models import Shop

    traffic = Traffic()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-sync-data-"))
    holder: dict[str, Any] = {}
    services = Services(load_settings(database_url=database_url, data_dir=data_dir, connector_secret_key=SECRET_KEY,
                                      mail_from="shop@example.com", outbound_allow_loopback=True),
                        platform_factory=lambda _services, _shop: _Unclosed(holder["platform"]), migrate=True)
    with services.db.session() as session:
        shop = Shop(platform=name, domain=SHOP_DOMAIN if name == "shopify" else url, name="Bench store",
                    settings={}, api_url=url)
        shop.credentials = services.box.seal({"access_token": "unused"})
        session.add(shop)
        session.flush()
        shop_id = shop.id
        if mode == "incremental":
            set_cursor(session, shop_id, ORDERS, BEFORE_EVERY_ORDER, 0)
    platform = holder["platform"] = platform_for(name, url, traffic, DatabaseExportStore(services.db, shop_id))
    if unbatched:
        from dataclasses import replace

        platform.capabilities = replace(platform.capabilities, write_batch_size=0)
    started = time.perf_counter()
    summary = sync_shop(services.db, shop_id, platform)
    figures: dict[str, Any] = {"seconds": time.perf_counter() - started, "orders": summary.orders_seen,
                               "stock_records": summary.stock_records, **traffic.snapshot()}
    if push:
        figures["push"] = _push(services, shop_id, traffic)
    figures["peak_rss_mb"] = own_peak_rss_mb()
    platform.close()
    services.close()
    print(json.dumps(figures))


class _Unclosed:
    """The shared platform, handed out to the pipeline, which closes what it is given."""

    def __init__(self, platform: Any) -> None:
        self._platform = platform

    def __getattr__(self, name: str) -> Any:
        return getattr(self._platform, name)

    def close(self) -> None:
        # The pipeline closes its platform after each claim; the next claim must read afresh.
        forget = getattr(self._platform, "forget_reads", None)
        if forget is not None:
            forget()


def _push(services: Any, shop_id: int, traffic: Traffic) -> dict[str, Any]:
    from sqlalchemy import func, select, update

    from connector.pipeline.executor import run_due_actions
    from connector.pipeline.outbox import reconcile_and_plan
    from connector.store.models import Action, OrderDecision

    queued = reconcile_and_plan(services, shop_id)
    before = traffic.snapshot()
    started = time.perf_counter()
    while run_due_actions(services, limit=500):
        pass
    seconds = time.perf_counter() - started
    after = traffic.snapshot()
    # The same decisions pushed again: every store write back in the queue; each finds the store as it
    # should be, so only the reads go out.
    with services.db.session() as session:
        session.execute(update(Action).where(Action.kind.in_(("tag", "untag", "marks", "note", "hold", "release")))
                        .values(status="pending", attempts=0))
    while run_due_actions(services, limit=500):
        pass
    again = traffic.snapshot()
    with services.db.session() as session:
        changed = session.scalar(select(func.count()).select_from(OrderDecision)
                                 .where(OrderDecision.pushed_fingerprint.is_not(None)))
        statuses = dict(session.execute(select(Action.status, func.count()).group_by(Action.status)).all())
        kinds = dict(session.execute(select(Action.kind, func.count()).group_by(Action.kind)).all())
    by_method = {key: after["by_method"].get(key, 0) - before["by_method"].get(key, 0) for key in after["by_method"]}
    return {"queued": queued, "orders_changed": changed, "requests": after["requests"] - before["requests"],
            "throttled": after["throttled"] - before["throttled"], "failed": after["failed"] - before["failed"],
            "by_method": by_method, "seconds": seconds, "statuses": statuses, "kinds": kinds,
            "over_cap": after["over_cap"] - before["over_cap"], "largest_request": after["largest_request"],
            "mutations": after["mutations"] - before["mutations"],
            "again": {key: again[key] - after[key] for key in ("requests", "mutations", "failed", "over_cap")}}


if __name__ == "__main__":
    main(sys.argv[1:])
