"""A worker process for the multi-process tests: a fake store, notices logged to a file, killed at will.

    python worker_process.py DATABASE_URL DATA_DIR SENT_LOG EVENT_LOG [--slow-send]

It runs `run_worker(once=True)`; every applied delivery is logged ("delivery N processed") to EVENT_LOG
and every notice sent is appended to SENT_LOG, both flushed as they happen.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connector.notify.message import DeliveryReceipt, OutgoingNotice
from connector.pipeline.worker import run_worker
from tests.fakes import FakePlatform, FileLogChannel
from tests.pipeline.conftest import make_services


class SlowChannel(FileLogChannel):
    """Widens the window between `sending` and `sent`, where a kill matters most."""

    announced = False

    def send(self, notice: OutgoingNotice) -> DeliveryReceipt:
        if not self.announced:  # the test kills only once sends have begun, however slow the start-up was
            self.announced = True
            print("sending", flush=True)
        time.sleep(0.01)
        receipt = super().send(notice)
        time.sleep(0.01)
        return receipt


def main() -> None:
    database_url, data_dir, sent_log, event_log = sys.argv[1:5]
    slow = "--slow-send" in sys.argv[5:]
    logging.basicConfig(filename=event_log, level=logging.INFO, format="%(process)d %(name)s %(message)s")
    platform = FakePlatform()
    services = make_services(database_url, Path(data_dir), platform)
    channel = (SlowChannel if slow else FileLogChannel)(Path(sent_log))
    print("ready", flush=True)
    run_worker(services, once=True, schedule=False, notifier=lambda _shop, _platform: channel)
    services.close()


if __name__ == "__main__":
    main()
