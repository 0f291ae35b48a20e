"""What the intake answers: a status, a small JSON body and its headers; never a request body or a secret."""

from __future__ import annotations

import json
from dataclasses import dataclass

_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store"))
_STATUS_LINES = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 404: "404 Not Found",
                 405: "405 Method Not Allowed", 413: "413 Content Too Large", 500: "500 Internal Server Error"}


@dataclass(frozen=True, slots=True)
class Answer:
    """One intake answer, ready for a WSGI `start_response`."""

    status: int
    body: bytes
    content_type: str = "application/json"
    extra_headers: tuple[tuple[str, str], ...] = ()

    @property
    def status_line(self) -> str:
        return _STATUS_LINES.get(self.status) or f"{self.status} Unknown"

    def headers(self) -> list[tuple[str, str]]:
        return [("Content-Type", self.content_type), ("Content-Length", str(len(self.body))), *_HEADERS,
                *self.extra_headers]


STORED = Answer(200, b'{"status":"stored"}\n')
DUPLICATE = Answer(200, b'{"status":"duplicate"}\n')
STALE = Answer(200, b'{"status":"stale"}\n')  # 200: the platform stops retrying a delivery we will never use
EMPTY = Answer(200, b"", "text/html; charset=utf-8")


def stored_answer(stored: bool) -> Answer:
    """The 200 for a stored delivery or a repeat."""
    return STORED if stored else DUPLICATE


def refuse(status: int, title: str, message: str, *, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    """A JSON error answer; platforms read the status, operators the message in their delivery logs."""
    body = json.dumps({"error": title, "message": message}, separators=(",", ":")).encode() + b"\n"
    return Answer(status, body, extra_headers=headers)
