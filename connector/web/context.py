"""Request-time access to the app's Services, and how an error is answered (JSON for APIs, a page for people)."""

from __future__ import annotations

import logging

from flask import Response, jsonify, render_template, request

from connector.services import SERVICES_KEY, current_services

__all__ = ["SERVICES_KEY", "current_services", "error_response", "wants_json"]
# Machines call these; everything else is a page a person looks at.
API_PREFIXES = ("/webhooks/", "/healthz", "/auth/woocommerce/callback", "/api/")

log = logging.getLogger("connector.web")


def wants_json() -> bool:
    """True when the current request is an API call whose errors must be JSON."""
    return request.path.startswith(API_PREFIXES)


def error_response(status: int, title: str, message: str) -> tuple[Response | str, int]:
    """An error answer in the form the caller expects; `message` must never hold secrets or bodies."""
    if wants_json():
        return jsonify(error=title, message=message), status
    return render_template("message.html", title=title, message=message, status=status), status
