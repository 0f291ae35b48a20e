"""`connector serve`: the web app (webhooks, install routes, choice page, dashboard, /healthz) under gunicorn.

Production runs gunicorn in-process (threaded workers, so a slow store call in the install flow
does not block webhook intake); `--dev` runs Flask's single-process development server instead.
Pending database migrations are applied once before the workers fork, and each worker opens its own connections.
"""

from __future__ import annotations

import gc
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]  # gunicorn ships no type hints

from connector.services import Services
from connector.web.app import create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
REQUEST_TIMEOUT_SECONDS = 60  # the install callback waits on Shopify's token endpoint (30 s timeout)


class ConnectorServer(BaseApplication):
    """Gunicorn serving an already-built Flask app, configured from `options` (never from sys.argv)."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app


def gunicorn_options(services: Services, host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """The gunicorn settings `connector serve` runs with."""
    bind_host = f"[{host}]" if ":" in host and not host.startswith("[") else host

    def post_fork(_server: Any, _worker: Any) -> None:
        # Connections opened by the parent must not be shared with a forked worker.
        if "db" in services.__dict__:
            services.db.engine.dispose(close=False)
        services.__dict__.pop("intake", None)  # each worker opens its own intake connections
        # Everything loaded so far (the app, its models, SQLAlchemy's and Flask's objects) lives as long as the
        # worker: out of the collector's sight, the full collections that requests trigger stop walking it.
        gc.freeze()

    return {
        "bind": f"{bind_host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": REQUEST_TIMEOUT_SECONDS,
        "graceful_timeout": 30,
        "keepalive": 5,
        "loglevel": services.settings.log_level.lower(),
        "errorlog": "-",
        "accesslog": None,  # off: paths can carry choice tokens and OAuth codes
        "proc_name": "connector-web",
        "post_fork": post_fork,
    }


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Threads per worker.")
@click.option("--dev", is_flag=True, help="Use Flask's development server (one process; never in production).")
def serve_command(host: str, port: int, workers: int, threads: int, dev: bool) -> None:
    """Run the web app: webhooks, install routes, choice page, dashboard and /healthz.

    Applies pending database migrations first (as `connector db upgrade` does)."""
    services = click.get_current_context().obj
    if not isinstance(services, Services):
        services = Services()
    services.web_threads = threads
    app = create_app(services)
    # Migrated once here, before the workers fork, rather than checked by every worker at its first request.
    services.upgrade_database().engine.dispose()
    if dev:
        click.echo(f"development server on http://{host}:{port} (use gunicorn in production: drop --dev)", err=True)
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
        return
    ConnectorServer(app, gunicorn_options(services, host, port, workers, threads)).run()
