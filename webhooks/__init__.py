"""HTTP intake for store webhooks: verify the signature over the raw body, store in the inbox, answer 200.

The handlers do nothing else (the worker does the work), so a platform gets its answer in milliseconds.
"""

from __future__ import annotations

from flask import Flask, Response

_ANSWERS = {True: b'{"status":"stored"}\n', False: b'{"status":"duplicate"}\n'}


def stored_answer(stored: bool) -> tuple[Response, int]:
    """The 200 for a stored delivery or a repeat, as jsonify would write it, without its per-call work."""
    return Response(_ANSWERS[stored], mimetype="application/json"), 200


def register_webhooks(app: Flask) -> None:
    """Add the Shopify and WooCommerce intake endpoints to `app`."""
    from webhooks import shopify, woocommerce

    app.register_blueprint(shopify.blueprint)
    app.register_blueprint(woocommerce.blueprint)
