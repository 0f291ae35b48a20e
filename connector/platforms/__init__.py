"""Platform registry: the one place that turns a shop's platform name into a `Platform` implementation."""

from __future__ import annotations

from connector.errors import ConfigError
from connector.platforms.base import Platform, ShopAccess, TokenSaver

PLATFORMS = ("shopify", "woocommerce")


def connect(access: ShopAccess, *, on_token_refresh: TokenSaver | None = None) -> Platform:
    """A ready client for the shop `access` describes."""
    if access.platform == "shopify":
        from connector.platforms.shopify.adapter import ShopifyPlatform
        from connector.platforms.shopify.client import ShopifyClient

        kwargs = {"api_version": access.api_version} if access.api_version else {}
        return ShopifyPlatform(ShopifyClient(access, on_token_refresh=on_token_refresh, **kwargs))
    if access.platform == "woocommerce":
        from connector.platforms.woocommerce.adapter import WooPlatform
        from connector.platforms.woocommerce.client import WooClient

        return WooPlatform(WooClient(access))
    raise ConfigError("platform", f"unknown platform {access.platform!r}; expected one of {', '.join(PLATFORMS)}")
