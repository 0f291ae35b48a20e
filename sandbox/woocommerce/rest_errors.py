"""WordPress REST error responses (`{code, message, data: {status}}`) raised inside the WooCommerce sandbox."""

from __future__ import annotations

from typing import Any

from flask import Response

from sandbox.woocommerce.php import json_encode


class WooRestError(Exception):
    """A WP_Error the REST server turns into `{code, message, data}` with `data.status` as HTTP status."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}

    def batch_entry(self, item_id: Any) -> dict[str, Any]:
        """How a batch answer reports this error for one item: `{id, error: {code, message, data}}`."""
        return {"id": item_id, "error": self.as_dict()}

    def response(self, headers: dict[str, str] | None = None) -> Response:
        return json_response(self.as_dict(), self.status, headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response serialised as PHP would (escaped slashes), so byte-level checks see real output."""
    response = Response(json_encode(body), status=status, mimetype="application/json")
    response.headers["Content-Type"] = "application/json; charset=UTF-8"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def invalid_params(problems: dict[str, str]) -> WooRestError:
    names = ", ".join(problems)
    return WooRestError("rest_invalid_param", f"Invalid parameter(s): {names}", 400, params=problems)


def missing_params(names: list[str]) -> WooRestError:
    return WooRestError("rest_missing_callback_param", f"Missing parameter(s): {', '.join(names)}", 400, params=names)


def auth_error(message: str) -> WooRestError:
    return WooRestError("woocommerce_rest_authentication_error", message, 401)


def no_route() -> WooRestError:
    return WooRestError("rest_no_route", "No route was found matching the URL and request method.", 404)


# Permission failures of an anonymous request, per kind of action (WooCommerce core messages).
_FORBIDDEN = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "delete": ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."),
    "batch": ("woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch manipulate this resource."),
}


def forbidden(action: str) -> WooRestError:
    code, message = _FORBIDDEN[action]
    # rest_authorization_required_code(): 401 when nobody is logged in, which is always the case here.
    return WooRestError(code, message, 401)
