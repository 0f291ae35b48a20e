"""What both sandbox stores share: on-demand fault injection and serving a WSGI app on a loopback thread."""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class FaultPlan:
    """Faults a sandbox injects, each at a rate in [0, 1]; settable at run time over its control API.

    `seed` makes a run repeatable, so a test that injects faults can be replayed exactly.
    """

    error_rate: float = 0.0  # answer 5xx instead of serving
    slow_rate: float = 0.0  # sleep `slow_seconds` before serving
    slow_seconds: float = 0.0
    throttle_rate: float = 0.0  # answer as if the rate limit were exhausted
    drop_webhook_rate: float = 0.0  # do not send a webhook that should have been sent
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self.reseed(self.seed)

    def reseed(self, seed: int | None) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key == "seed":
                self.reseed(None if value is None else int(value))
            elif key in {"error_rate", "slow_rate", "slow_seconds", "throttle_rate", "drop_webhook_rate"}:
                number = float(value)
                if number < 0 or (key != "slow_seconds" and number > 1):
                    raise ValueError(f"{key} must be between 0 and 1")
                setattr(self, key, number)
            else:
                raise ValueError(f"unknown fault setting {key!r}")

    def roll(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def should_fail(self) -> bool:
        return self.roll(self.error_rate)

    def should_throttle(self) -> bool:
        return self.roll(self.throttle_rate)

    def should_drop_webhook(self) -> bool:
        return self.roll(self.drop_webhook_rate)

    def maybe_sleep(self) -> None:
        if self.roll(self.slow_rate):
            time.sleep(self.slow_seconds)

    def as_dict(self) -> dict[str, Any]:
        return {
            "error_rate": self.error_rate,
            "slow_rate": self.slow_rate,
            "slow_seconds": self.slow_seconds,
            "throttle_rate": self.throttle_rate,
            "drop_webhook_rate": self.drop_webhook_rate,
            "seed": self.seed,
        }


class ServerThread:
    """A WSGI app served on a loopback port in a daemon thread; port 0 picks a free port.

    The request log is silenced: its lines carry query strings, which hold OAuth codes and keys.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if host not in LOOPBACK_HOSTS:
            raise ValueError("sandbox servers only listen on loopback addresses")
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self.app = app
        self.host = host
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"sandbox:{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "ServerThread":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
