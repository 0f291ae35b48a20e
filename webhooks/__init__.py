"""HTTP intake for store webhooks: verify the signature over the raw body, store in the inbox, answer 200.

The handlers do nothing else (the worker does the work), so a platform gets its answer in milliseconds.
They are served by a WSGI layer in front of the web app (webhooks/wsgi.py), not by Flask routes.
"""

from __future__ import annotations

from flask import Flask


def register_webhooks(app: Flask) -> None:
    """Serve the Shopify and WooCommerce intake endpoints in front of `app`'s other routes."""
    from webhooks import shopify, woocommerce
    from webhooks.answer import Answer
    from webhooks.wsgi import IntakeRequest, IntakeRouter

    def shopify_delivery(request: IntakeRequest) -> Answer:
        return shopify.receive(app, request)

    def woocommerce_delivery(request: IntakeRequest, shop_id: int) -> Answer:
        return woocommerce.receive(app, request, shop_id)

    app.wsgi_app = IntakeRouter(app.wsgi_app, shopify_delivery, woocommerce_delivery)  # type: ignore[method-assign]
