"""A test delivery to the connector's own intake, signed as WooCommerce signs, before a disabled webhook is
re-enabled.

WooCommerce disables a webhook after repeated failed deliveries (non-2xx, timeouts): the intake was down,
unreachable from the store, or refused the signature. Switching it back on blindly would only fail
again, so the connector first sends what WooCommerce would send, signed with that webhook's secret, to its
delivery URL, and re-enables it only when the intake answers 2xx. The intake stores the test like any
signed delivery; the inbox settles it with a note and nothing else.
"""

from __future__ import annotations

import json
import secrets

import requests

from connector import __version__

from .auth import webhook_signature

TEST_EVENT = "backorder_connector_test"
TEST_TOPIC = f"action.{TEST_EVENT}"
TIMEOUT_SECONDS = 10.0


def send_test_delivery(address: str, webhook_id: str, secret: str, *, store_url: str,
                       session: requests.Session | None = None) -> tuple[bool, str]:
    """(whether the intake accepted it, what happened) for one signed test delivery to `address`."""
    body = json.dumps({"action": TEST_EVENT, "arg": str(webhook_id)}, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"backorder-connector/{__version__} webhook test",
        "X-WC-Webhook-Source": store_url.rstrip("/") + "/",
        "X-WC-Webhook-Topic": TEST_TOPIC,
        "X-WC-Webhook-Resource": "action",
        "X-WC-Webhook-Event": TEST_EVENT,
        "X-WC-Webhook-Signature": webhook_signature(body, secret),
        "X-WC-Webhook-ID": str(webhook_id),
        "X-WC-Webhook-Delivery-ID": secrets.token_hex(16),
    }
    http = session or requests.Session()
    try:
        response = http.post(address, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as error:
        return False, f"the intake could not be reached ({type(error).__name__})"
    finally:
        if session is None:
            http.close()
    if 200 <= response.status_code < 300:
        return True, f"the intake answered HTTP {response.status_code}"
    return False, f"the intake answered HTTP {response.status_code}"
