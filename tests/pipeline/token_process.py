"""A worker process for the token-refresh test: builds the shop's platform, waits for "go", then uses it.

    python token_process.py DATABASE_URL DATA_DIR SHOP_ID

Prints "ready" once everything is loaded, reads one line from stdin, then makes QUERIES Admin API calls
(the first one renews the expiring token) and prints one JSON line: the calls that answered and a digest
of the access token the process ended with (never the token itself).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connector.services import Services
from connector.store.models import Shop
from tests.conftest import make_settings

QUERIES = 3
API_KEY = "token-test-app"
API_SECRET = "token-test-secret"


def main() -> None:
    database_url, data_dir, shop_id = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    services = Services(make_settings(database_url, data_dir, shopify_api_key=API_KEY, shopify_api_secret=API_SECRET), migrate=True)
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        platform = services.platform_for(shop)
    print("ready", flush=True)
    sys.stdin.readline()
    answered = 0
    for _ in range(QUERIES):
        platform.check_access()
        answered += 1
    token = platform.client._token or ""  # type: ignore[attr-defined]
    print(json.dumps({"answered": answered, "token": hashlib.sha256(token.encode()).hexdigest()}), flush=True)
    platform.close()
    services.close()


if __name__ == "__main__":
    main()
