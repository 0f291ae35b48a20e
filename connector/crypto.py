"""Encrypts shop credentials at rest with a key derived from CONNECTOR_SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from connector.errors import ConfigError

_SETTING = "CONNECTOR_SECRET_KEY"


def _fernet_key(secret: str) -> bytes:
    # Any operator-chosen string works; derive a fixed-size key so short or odd secrets are usable.
    digest = hashlib.sha256(b"backorder-connector/credentials/v1\x00" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def generate_secret_key() -> str:
    """A fresh random value for CONNECTOR_SECRET_KEY."""
    return Fernet.generate_key().decode()


class SecretBox:
    """Encrypts and decrypts small JSON documents (tokens, keys, webhook secrets)."""

    def __init__(self, secret: str | None) -> None:
        if not secret:
            raise ConfigError(_SETTING, "is required to store shop credentials (make one with `connector secret-key`)")
        if len(secret) < 16:
            raise ConfigError(_SETTING, "is too short; use at least 16 characters")
        self._fernet = Fernet(_fernet_key(secret))

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"

    def seal(self, values: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(values, sort_keys=True).encode()).decode()

    def open(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise ConfigError(
                _SETTING, "cannot decrypt stored credentials: it differs from the key they were stored with"
            ) from None
