"""Shopify's OAuth authorization-code grant, as the sandbox plays it: auto-approved installs, one-time codes,
expiring offline tokens (60 minutes) with rotating refresh tokens, and the signed redirect query.

Refresh tokens rotate the way Shopify's do: each refresh issues a new pair, and the refresh token used is
retired once its replacement has been used (the new access token in an API call, or the new refresh
token in a refresh). Until then it still works, and using it again is another rotation: two processes
refreshing at once without coordinating show up as two rotations (`rotations`). Scopes named in
`withheld` are never granted, as when a merchant or Shopify's review declines them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request

ACCESS_TOKEN_TTL = 3600
REFRESH_TOKEN_TTL = 90 * 24 * 3600
# What the static token (shops added by hand) is granted unless told otherwise: all the connector asks for.
STATIC_SCOPES = ("write_orders,read_all_orders,read_inventory,write_products,write_merchant_managed_fulfillment_orders,"
                 "write_third_party_fulfillment_orders")
STATIC_CLIENT = "static"


def query_hmac(params: Mapping[str, str], secret: str) -> str:
    """Hex HMAC-SHA256 of the sorted query without `hmac`, with Shopify's escaping of `%`, `&` and `=`."""
    def escape_key(text: str) -> str:
        return text.replace("%", "%25").replace("=", "%3D").replace("&", "%26")

    def escape_value(text: str) -> str:
        return text.replace("%", "%25").replace("&", "%26")

    message = "&".join(f"{escape_key(k)}={escape_value(v)}" for k, v in sorted(params.items()) if k != "hmac")
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


@dataclass(slots=True)
class Grant:
    client_id: str
    scope: str
    expires_at: float | None = None  # access tokens only; None: never expires

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.scope.split(",") if part.strip())


class TokenRegistry:
    """Which access tokens the sandbox accepts, and the codes and refresh tokens that can mint new ones."""

    def __init__(self, clock: Callable[[], float], static_token: str | None = None,
                 static_scope: str = STATIC_SCOPES) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, Grant] = {}
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        self._replaces: dict[str, str] = {}  # a new token -> the refresh token it replaces
        self.rotations = 0
        self.withheld: set[str] = set()
        self._static_token = static_token
        if static_token:
            self._access[static_token] = Grant(STATIC_CLIENT, static_scope)

    def __repr__(self) -> str:
        return f"TokenRegistry({len(self._access)} access tokens)"

    def set_static_scope(self, scope: str) -> None:
        if self._static_token:
            with self._lock:
                self._access[self._static_token] = Grant(STATIC_CLIENT, scope)

    def grant(self, token: str | None) -> Grant | None:
        """The grant behind a valid access token, or None; using a new token retires the one it replaced."""
        if not token:
            return None
        with self._lock:
            # compare every stored token in constant time; the registry is small
            matches = [(stored, grant) for stored, grant in self._access.items() if hmac.compare_digest(stored, token)]
            if not matches:
                return None
            stored, grant = matches[0]
            if grant.expires_at is not None and self.clock() >= grant.expires_at:
                return None
            self._retire_replaced(stored)
        return grant

    def accepts(self, token: str | None) -> bool:
        return self.grant(token) is not None

    def new_code(self, client_id: str, scope: str) -> str:
        code = secrets.token_hex(16)
        granted = ",".join(part for part in scope.split(",") if part.strip() and part.strip() not in self.withheld)
        with self._lock:
            self._codes[code] = Grant(client_id, granted, self.clock() + 600)
        return code

    def redeem_code(self, code: str, client_id: str, expiring: bool) -> dict[str, Any] | None:
        with self._lock:
            grant = self._codes.pop(code, None)  # one-time: gone whether or not it was valid
        if grant is None or grant.client_id != client_id or (grant.expires_at or 0) < self.clock():
            return None
        return self._issue(grant, expiring)

    def refresh(self, refresh_token: str, client_id: str) -> dict[str, Any] | None:
        with self._lock:
            grant = self._refresh.get(refresh_token)
            if grant is None or grant.client_id != client_id or (grant.expires_at or 0) < self.clock():
                return None
            self._retire_replaced(refresh_token)
            self.rotations += 1
        answer = self._issue(grant, expiring=True, replacing=refresh_token)
        return answer

    def revoke_all(self) -> None:
        with self._lock:
            self._access.clear()
            self._refresh.clear()
            self._replaces.clear()

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"rotations": self.rotations, "access_tokens": len(self._access),
                    "refresh_tokens": len(self._refresh)}

    def _retire_replaced(self, token: str) -> None:
        """`token` is in use: the refresh token it replaced is retired (caller holds the lock)."""
        old = self._replaces.pop(token, None)
        if old is not None:
            self._refresh.pop(old, None)
            self._replaces = {new: replaced for new, replaced in self._replaces.items() if replaced != old}

    def _issue(self, grant: Grant, expiring: bool, replacing: str | None = None) -> dict[str, Any]:
        token = "shpat_" + secrets.token_hex(16)
        now = self.clock()
        answer: dict[str, Any] = {"access_token": token, "scope": grant.scope}
        with self._lock:
            self._access[token] = Grant(grant.client_id, grant.scope, now + ACCESS_TOKEN_TTL if expiring else None)
            if expiring:
                refresh = "shprt_" + secrets.token_hex(16)
                self._refresh[refresh] = Grant(grant.client_id, grant.scope, now + REFRESH_TOKEN_TTL)
                answer.update({"expires_in": ACCESS_TOKEN_TTL, "refresh_token": refresh,
                               "refresh_token_expires_in": REFRESH_TOKEN_TTL})
                if replacing is not None:
                    self._replaces[token] = replacing
                    self._replaces[refresh] = replacing
        return answer


def _oauth_error(description: str, status: int = 400, error: str = "invalid_request") -> tuple[Response, int]:
    return jsonify({"error": error, "error_description": description}), status


def register_oauth(app: Flask, tokens: TokenRegistry, shop: str, api_secret: str, clock_seconds: Callable[[], float]) -> None:
    """Add `/admin/oauth/authorize` and `/admin/oauth/access_token` to `app`."""

    @app.get("/admin/oauth/authorize")
    def authorize() -> Any:
        client_id = request.args.get("client_id", "")
        redirect_uri = request.args.get("redirect_uri", "")
        if not client_id or not redirect_uri.startswith(("http://", "https://")):
            return _oauth_error("client_id and an absolute redirect_uri are required")
        code = tokens.new_code(client_id, request.args.get("scope", ""))
        params = {"code": code, "shop": shop, "timestamp": str(int(clock_seconds())),
                  "host": base64.b64encode(f"{shop}/admin".encode()).decode().rstrip("=")}
        if "state" in request.args:
            params["state"] = request.args["state"]
        params["hmac"] = query_hmac(params, api_secret)
        separator = "&" if "?" in redirect_uri else "?"
        return redirect(f"{redirect_uri}{separator}{urlencode(params)}", code=302)

    @app.post("/admin/oauth/access_token")
    def access_token() -> Any:
        body: Mapping[str, Any] = request.get_json(silent=True) or request.form
        client_id = str(body.get("client_id") or "")
        client_secret = str(body.get("client_secret") or "")
        if not client_id or not hmac.compare_digest(client_secret.encode(), api_secret.encode()):
            return _oauth_error("client credentials are invalid", 401, "invalid_client")
        if body.get("grant_type") == "refresh_token":
            answer = tokens.refresh(str(body.get("refresh_token") or ""), client_id)
            if answer is None:
                return _oauth_error("refresh token is invalid, expired or retired", 400, "invalid_grant")
            return jsonify(answer)
        expiring = str(body.get("expiring") or "0") == "1"
        answer = tokens.redeem_code(str(body.get("code") or ""), client_id, expiring)
        if answer is None:
            return _oauth_error("The authorization code was not found or was already used", 400, "invalid_grant")
        return jsonify(answer)
