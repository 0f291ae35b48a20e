"""Two worker processes renew the same shop's expiring token at the same moment: one rotation, and both go on
working (the sandbox retires a refresh token once its replacement has been used, as Shopify does)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests
from sqlalchemy import select

from connector.services import Services
from connector.store.models import Shop, utcnow
from connector.store.repo import save_credentials
from sandbox.common import ServerThread
from sandbox.shopify import ShopifyState, create_app
from tests.conftest import make_settings
from tests.pipeline.token_process import API_KEY, API_SECRET, QUERIES

SCRIPT = Path(__file__).with_name("token_process.py")
DOMAIN = "token-race.myshopify.com"


def _install(sandbox_url: str) -> dict[str, str]:
    """An expiring offline token pair, through the sandbox's own OAuth flow."""
    authorized = requests.get(f"{sandbox_url}/admin/oauth/authorize", allow_redirects=False, timeout=10, params={
        "client_id": API_KEY, "scope": "write_orders,read_all_orders,read_inventory",
        "redirect_uri": "http://127.0.0.1:9/auth/shopify/callback"})
    code = dict(parse_qsl(urlsplit(authorized.headers["Location"]).query))["code"]
    answer = requests.post(f"{sandbox_url}/admin/oauth/access_token", timeout=10, json={
        "client_id": API_KEY, "client_secret": API_SECRET, "code": code, "expiring": "1"})
    assert answer.status_code == 200
    return answer.json()


def test_two_processes_renewing_at_once_rotate_the_token_once_and_both_keep_working(database_url: str,
                                                                                    tmp_path: Path) -> None:
    state = ShopifyState.from_seed({"shop": DOMAIN, "locations": [{"id": 1, "name": "Main"}]})
    with ServerThread(create_app(state, api_secret=API_SECRET)) as sandbox:
        first = _install(sandbox.url)
        services = Services(make_settings(database_url, tmp_path, shopify_api_key=API_KEY,
                                          shopify_api_secret=API_SECRET), migrate=True)
        with services.db.session() as session:
            shop = Shop(platform="shopify", domain=DOMAIN, name="race", settings={}, api_url=sandbox.url)
            save_credentials(shop, services.box, access_token=first["access_token"],
                             refresh_token=first["refresh_token"])
            shop.token_expires_at = utcnow() + timedelta(minutes=2)  # due: renewed five minutes early
            session.add(shop)
            session.flush()
            shop_id = shop.id
        workers = [subprocess.Popen([sys.executable, str(SCRIPT), database_url, str(tmp_path), str(shop_id)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(2)]
        try:
            for worker in workers:
                assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
            for worker in workers:  # both start at once
                assert worker.stdin is not None
                worker.stdin.write("go\n")
                worker.stdin.flush()
            results = []
            for worker in workers:
                out, _ = worker.communicate(timeout=120)
                assert worker.returncode == 0
                results.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
        stats = requests.get(f"{sandbox.url}/_sandbox/tokens", timeout=10).json()

    assert [result["answered"] for result in results] == [QUERIES, QUERIES]  # both kept working
    assert stats["rotations"] == 1  # one refresh between them: the second used what the first stored
    with services.db.session() as session:
        stored = session.scalar(select(Shop).where(Shop.id == shop_id))
        assert stored is not None
        credentials = services.box.open(stored.credentials)
        assert stored.token_expires_at is not None and stored.token_expires_at > utcnow() + timedelta(minutes=50)
    assert credentials["access_token"] != first["access_token"]
    assert credentials["refresh_token"] != first["refresh_token"]
    digest = hashlib.sha256(credentials["access_token"].encode()).hexdigest()
    assert {result["token"] for result in results} == {digest}
    services.close()
