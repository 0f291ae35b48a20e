"""The `/wc-auth/v1/authorize` key exchange, with the merchant approving at once (or denying when asked to)."""

from __future__ import annotations

import html
from typing import Any, Literal, cast
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import requests
from flask import Blueprint, Response, redirect, request

from sandbox.common import LOOPBACK_HOSTS
from sandbox.woocommerce.context import current
from sandbox.woocommerce.model import gmt_string
from sandbox.woocommerce.php import json_encode

wc_auth = Blueprint("woo_wc_auth", __name__)

SCOPES = ("read", "write", "read_write")
MERCHANT_USER_ID = 1
CALLBACK_TIMEOUT_SECONDS = 30.0


class _AuthFailure(Exception):
    pass


def formatted_url(url: str) -> str:
    """WC_Auth::get_formatted_url: decode once, and default to https:// when no scheme is given."""
    url = unquote(url)
    return url if "://" in url else f"https://{url}"


def with_query(url: str, extra: dict[str, str]) -> str:
    """add_query_arg: the URL with these parameters set, its own parameters kept."""
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in extra]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs + list(extra.items())), parts.fragment))


def _validated() -> dict[str, str]:
    data: dict[str, str] = {}
    for name in ("app_name", "user_id", "return_url", "callback_url", "scope"):
        value = request.values.get(name, "")
        if not value:
            raise _AuthFailure(f"Missing parameter {name}")
        data[name] = value
    if data["scope"] not in SCOPES:
        raise _AuthFailure(f"Invalid scope {data['scope']}")
    for name in ("return_url", "callback_url"):
        parts = urlsplit(formatted_url(data[name]))
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise _AuthFailure(f"The {formatted_url(data[name])} is not a valid URL")
    callback = urlsplit(formatted_url(data["callback_url"]))
    # Core insists on HTTPS; the sandbox also lets a loopback callback use plain HTTP so the demo runs offline.
    if callback.scheme != "https" and callback.hostname not in LOOPBACK_HOSTS:
        raise _AuthFailure("The callback_url needs to be over SSL")
    return data


def _error_page(message: str) -> Response:
    page = (
        "<!DOCTYPE html><html><head><title>Access denied</title></head><body id=\"error-page\">"
        f"<div class=\"wp-die-message\">Error: {html.escape(message)}.</div></body></html>"
    )
    return Response(page, status=401, mimetype="text/html")


@wc_auth.route("/wc-auth/v1/<route>", methods=["GET", "POST"])
def authorize(route: str) -> Any:
    if route not in {"authorize", "login", "access_granted"}:
        return _error_page("You do not have permission to access this page")
    try:
        data = _validated()
    except _AuthFailure as failure:
        return _error_page(str(failure))
    return_url = formatted_url(data["return_url"])
    if request.values.get("deny") in {"1", "true", "yes"}:
        # The merchant pressed "Deny": no key, straight back with success=0.
        return redirect(with_query(return_url, {"success": "0", "user_id": data["user_id"]}), code=302)
    sandbox = current()
    state = sandbox.state
    key = state.create_key(
        MERCHANT_USER_ID,
        cast(Literal["read", "write", "read_write"], data["scope"]),
        f"{data['app_name'][:170]} - API ({gmt_string(sandbox.now()).replace('T', ' ')})",
    )
    consumer_data = {
        "key_id": key.key_id,
        "user_id": data["user_id"],  # echoed as the string it arrived as
        "consumer_key": key.consumer_key,
        "consumer_secret": key.consumer_secret,
        "key_permissions": key.permissions,
    }
    try:
        answer = requests.post(
            formatted_url(data["callback_url"]),
            data=json_encode(consumer_data).encode("ascii"),
            headers={"Content-Type": "application/json;charset=UTF-8"},
            timeout=CALLBACK_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        state.delete_key(key.key_id)
        return _error_page(f"cURL error: {type(exc).__name__}")
    if answer.status_code != 200:
        state.delete_key(key.key_id)
        return _error_page("An error occurred in the request and at the time were unable to send the consumer data")
    return redirect(with_query(return_url, {"success": "1", "user_id": data["user_id"]}), code=302)
