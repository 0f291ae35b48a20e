"""Which hosts the Shopify client may talk to: shop-domain validation and the API base URL."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from connector.errors import ConfigError
from connector.platforms.hosts import is_loopback_host

# fullmatch, never match + "$": "$" also matches before a trailing newline.
SHOP_DOMAIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")


def valid_shop_domain(shop: str) -> bool:
    """True when `shop` is exactly a `name.myshopify.com` host (lower case, nothing around it)."""
    return isinstance(shop, str) and SHOP_DOMAIN_PATTERN.fullmatch(shop) is not None



def check_base_url(url: str, setting: str = "api_url") -> str:
    """Return `url` without a trailing slash when it is https, or http on a loopback host.

    Plain http elsewhere would send the access token in clear, so it is refused; so are
    credentials embedded in the URL, query strings and fragments.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(setting, "must be an http(s) URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(setting, "must not carry credentials")
    if parts.query or parts.fragment:
        raise ConfigError(setting, "must not carry a query string or fragment")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(setting, "plain http is only accepted for loopback hosts (127.0.0.1, ::1, localhost)")
    return url.strip().rstrip("/")


def shop_base_url(domain: str, api_url: str | None = None) -> str:
    """The base every Admin API and OAuth address is built on, after checking the shop domain."""
    if not valid_shop_domain(domain):
        raise ConfigError("shop domain", f"{domain[:80]!r} is not a name.myshopify.com domain")
    if api_url:
        return check_base_url(api_url)
    return f"https://{domain}"
