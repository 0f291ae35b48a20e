"""How the intake answers a refused delivery: a JSON error with its status, never the body or a secret."""

from __future__ import annotations

from flask import Response, jsonify


def refuse(status: int, title: str, message: str) -> tuple[Response, int]:
    """A JSON error answer; platforms read the status, operators the message in their delivery logs."""
    return jsonify(error=title, message=message), status
