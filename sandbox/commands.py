"""`connector sandbox shopify|woocommerce`: run a sandbox store on a loopback port for development."""

from __future__ import annotations

import threading
from pathlib import Path

import click

DEFAULT_SEEDS = Path(__file__).resolve().parent.parent / "examples" / "sandbox"
# Development only: with no --api-secret and no SHOPIFY_API_SECRET the sandbox signs with this, and says so.
DEVELOPMENT_SECRET = "sandbox-development-secret"


def _wait_forever(url: str, what: str) -> None:
    click.echo(f"{what} sandbox listening on {url} (Ctrl-C stops it)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("stopped")


@click.group("sandbox")
def sandbox_group() -> None:
    """Run a sandbox store that behaves like the real platform (loopback only, no account needed)."""


@sandbox_group.command("shopify")
@click.option("--port", type=click.IntRange(0, 65535), default=8081, show_default=True)
@click.option("--seed", type=click.Path(exists=True, dir_okay=False), default=str(DEFAULT_SEEDS / "shopify_seed.json"),
              show_default=True)
@click.option("--api-secret", envvar="SHOPIFY_API_SECRET", default=None,
              help="Signs webhooks and OAuth redirects: give the connector's SHOPIFY_API_SECRET (default: that "
                   f"variable, else {DEVELOPMENT_SECRET!r}).")
@click.option("--access-token", default=None, help="Accept this Admin API token besides tokens issued by OAuth.")
@click.option("--webhook-url", default=None, help="Send webhooks here when no subscription matches.")
@click.option("--bucket-size", type=float, default=1000.0, show_default=True)
@click.option("--restore-rate", type=float, default=100.0, show_default=True, help="Points restored per second.")
def shopify_command(port: int, seed: str, api_secret: str | None, access_token: str | None, webhook_url: str | None,
                    bucket_size: float, restore_rate: float) -> None:
    """A Shopify store: Admin GraphQL against Shopify's schema, OAuth, signed webhooks, leaky bucket."""
    from sandbox.shopify import run

    if not api_secret:
        api_secret = DEVELOPMENT_SECRET
        click.echo(f"signing webhooks and OAuth with the development secret {DEVELOPMENT_SECRET!r}; set "
                   "SHOPIFY_API_SECRET to the same value for the connector", err=True)
    server = run(port, seed, api_secret=api_secret, access_token=access_token, webhook_url=webhook_url,
                 bucket_size=bucket_size, restore_rate=restore_rate)
    _wait_forever(server.url, "Shopify")


@sandbox_group.command("woocommerce")
@click.option("--port", type=click.IntRange(0, 65535), default=8082, show_default=True)
@click.option("--seed", type=click.Path(exists=True, dir_okay=False),
              default=str(DEFAULT_SEEDS / "woocommerce_seed.json"), show_default=True)
@click.option("--https-mode", is_flag=True, help="Honour Basic auth as if served over HTTPS.")
def woocommerce_command(port: int, seed: str, https_mode: bool) -> None:
    """A WooCommerce store: REST v3 with OAuth 1.0a, wc-auth key approval, signed webhooks."""
    from sandbox.woocommerce import run

    server = run(port, seed, https_mode=https_mode)
    _wait_forever(server.url, "WooCommerce")
