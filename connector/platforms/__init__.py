"""Platform registry: the one place that turns a shop's platform name into its kind and a `Platform` client."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connector.errors import ConfigError
from connector.platforms.base import ExportStore, Platform, ShopAccess, TokenSaver

if TYPE_CHECKING:
    from connector.platforms.inbound import PlatformKind

PLATFORMS = ("shopify", "woocommerce")


def kind_of(platform: str) -> type[PlatformKind]:
    """The platform's kind (topics, intake path, events, stock rules, capabilities), without a client."""
    if platform == "shopify":
        from connector.platforms.shopify.kind import ShopifyKind

        return ShopifyKind
    if platform == "woocommerce":
        from connector.platforms.woocommerce.kind import WooKind

        return WooKind
    raise ConfigError("platform", f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")


def connect(
    access: ShopAccess,
    *,
    on_token_refresh: TokenSaver | None = None,
    shopify_app: tuple[str, str] | None = None,
    token_renewer: Callable[[str | None], Any] | None = None,
    exports: ExportStore | None = None,
) -> Platform:
    """A ready client for the shop `access` describes.

    `shopify_app` is (api key, secret), which lets the client refresh an expiring Shopify token;
    `token_renewer` (a `shopify.client.TokenRenewer`) does it under the shop's lock instead, so processes
    refreshing at once rotate the token once. `exports` stages bulk results (the database's, in the pipeline).
    """
    if access.platform == "shopify":
        from connector.platforms.shopify.adapter import ShopifyPlatform
        from connector.platforms.shopify.client import ShopifyClient, TokenRenewer
        from connector.platforms.shopify.oauth import TokenSet, refresh_token

        refresher = None
        if shopify_app is not None:
            api_key, secret = shopify_app

            def refresher(current_refresh_token: str) -> TokenSet:
                return refresh_token(access.domain, current_refresh_token, api_key, secret, base_url=access.api_url)

        renewer: TokenRenewer | None = token_renewer
        client = ShopifyClient(access, on_token_refresh=on_token_refresh, token_refresher=refresher,
                               token_renewer=renewer)  # the client reads access.api_version itself
        return ShopifyPlatform(client, exports=exports,
                               required_scopes=access.required_scopes or None, granted_scopes=access.granted_scopes)
    if access.platform == "woocommerce":
        from connector.platforms.woocommerce.adapter import WooPlatform
        from connector.platforms.woocommerce.client import WooClient

        return WooPlatform(WooClient(access))
    raise ConfigError("platform", f"unknown platform {access.platform!r}; expected one of {', '.join(PLATFORMS)}")
