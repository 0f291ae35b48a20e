"""Platform registry: the one place that turns a shop's platform name into a `Platform` implementation."""

from __future__ import annotations

from connector.errors import ConfigError
from connector.platforms.base import Platform, ShopAccess, TokenSaver

PLATFORMS = ("shopify", "woocommerce")


def connect(
    access: ShopAccess,
    *,
    on_token_refresh: TokenSaver | None = None,
    shopify_app: tuple[str, str] | None = None,
) -> Platform:
    """A ready client for the shop `access` describes; `shopify_app` is (api key, secret), which
    lets the client refresh an expiring Shopify token."""
    if access.platform == "shopify":
        from connector.platforms.shopify.adapter import ShopifyPlatform
        from connector.platforms.shopify.client import ShopifyClient
        from connector.platforms.shopify.oauth import TokenSet, refresh_token

        refresher = None
        if shopify_app is not None:
            api_key, secret = shopify_app

            def refresher(current_refresh_token: str) -> TokenSet:
                return refresh_token(access.domain, current_refresh_token, api_key, secret, base_url=access.api_url)

        kwargs = {"api_version": access.api_version} if access.api_version else {}
        client = ShopifyClient(access, on_token_refresh=on_token_refresh, token_refresher=refresher, **kwargs)
        return ShopifyPlatform(client)
    if access.platform == "woocommerce":
        from connector.platforms.woocommerce.adapter import WooPlatform
        from connector.platforms.woocommerce.client import WooClient

        return WooPlatform(WooClient(access))
    raise ConfigError("platform", f"unknown platform {access.platform!r}; expected one of {', '.join(PLATFORMS)}")
