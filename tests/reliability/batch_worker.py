"""A worker process for the batched push-back kill test: the real Shopify client against a sandbox store.

    python batch_worker.py DATABASE_URL DATA_DIR SENT_LOG

Settles every due action (store writes in batched documents, notices appended to SENT_LOG) and exits 0;
the test kills it at will while a batched mutation is in flight.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reliability_support import EAGER_RETRY, quick_platform

from connector.pipeline.executor import run_due_actions
from connector.services import Services
from connector.store.models import utcnow
from tests.conftest import make_settings
from tests.fakes import FileLogChannel


def main() -> None:
    database_url, data_dir, sent_log = sys.argv[1:4]
    services = Services(make_settings(database_url, Path(data_dir)), platform_factory=quick_platform, migrate=True)
    channel = FileLogChannel(Path(sent_log))
    print("ready", flush=True)
    while run_due_actions(services, limit=500, retry=EAGER_RETRY, now=utcnow() + timedelta(hours=1),
                          notifier=lambda _shop, _platform: channel):
        pass
    services.close()


if __name__ == "__main__":
    main()
