"""The intake benchmark's reference: a bare Flask app answering 200 to every webhook with no work."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.post("/webhooks/shopify")
def receive() -> tuple[str, int]:
    return "", 200
