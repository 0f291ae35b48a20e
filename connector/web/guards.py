"""Request guards that turn hostile input into a clean 4xx before any route sees it (issue 13, finding 8).

- `<int:...>` in every route is bounded to the id columns' range: an id past it is a 404 like any
  unknown id, never an overflow in the database driver.
- A NUL byte in the path, the query, a header or a form field is a 400: PostgreSQL cannot store one in
  text, and no legitimate request carries one. Webhook bodies are left alone (they are read, and
  verified, as raw bytes by webhooks/).
"""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from connector.store.models import MAX_ID
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class BoundedIntConverter(IntegerConverter):
    """The default `int` converter, capped at MAX_ID: werkzeug then answers 404 for a larger number."""

    def __init__(self, map: object, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]


def _has_nul() -> bool:
    if "\x00" in request.path or any("\x00" in name or "\x00" in value
                                     for name, value in request.args.items(multi=True)):
        return True
    if any("\x00" in name or "\x00" in value for name, value in request.headers.items()):
        return True
    if request.path.startswith("/webhooks/") or request.mimetype not in _FORM_TYPES:
        return False
    return any("\x00" in name or "\x00" in value for name, value in request.form.items(multi=True))


def refuse_nul_bytes() -> None:
    if _has_nul():
        abort(400, description="the request contains a NUL byte")


def install_guards(app: Flask) -> None:
    """Register the bounded `int` converter and the NUL check on `app` (before its routes are added)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_nul_bytes)
