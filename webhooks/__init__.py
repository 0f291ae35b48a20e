"""HTTP intake for store webhooks: verify the signature over the raw body, store in the inbox, answer 200.

The handlers do nothing else (the worker does the work), so a platform gets its answer in milliseconds.
"""

from __future__ import annotations

from flask import Flask


def register_webhooks(app: Flask) -> None:
    """Add the Shopify and WooCommerce intake endpoints to `app`."""
    from webhooks import shopify, woocommerce

    app.register_blueprint(shopify.blueprint)
    app.register_blueprint(woocommerce.blueprint)
