"""Encrypts credentials at rest with a key derived from CONNECTOR_SECRET_KEY (and opens values sealed under
CONNECTOR_SECRET_KEY_PREVIOUS while a rotation is under way).

The key format is what `connector secret-key` prints: 32 random bytes as URL-safe base64, 44 characters
ending in `=`. `secret_key_problem` says why a value is not such a key (never quoting it); settings refuse
a CONNECTOR_SECRET_KEY that is not. The previous key may still be an older free-form value of at least 16
characters, so a deployment can rotate away from one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from connector.errors import ConfigError

_SETTING = "CONNECTOR_SECRET_KEY"
PREVIOUS_SETTING = "CONNECTOR_SECRET_KEY_PREVIOUS"
KEY_LENGTH = 44  # base64 of 32 bytes
LEGACY_MIN_LENGTH = 16
# 32 random bytes have about 30 distinct values; fewer than this is a typed or patterned value, not random.
_MIN_DISTINCT_BYTES = 16


def _fernet_key(secret: str) -> bytes:
    # Derived (not used as is) so values sealed under an older free-form key open the same way.
    digest = hashlib.sha256(b"backorder-connector/credentials/v1\x00" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def generate_secret_key() -> str:
    """A fresh random value for CONNECTOR_SECRET_KEY."""
    return Fernet.generate_key().decode()


def secret_key_problem(value: str) -> str | None:
    """Why `value` is not a key of the format `connector secret-key` prints, or None when it is one."""
    hint = "make one with `connector secret-key`"
    if len(value) != KEY_LENGTH:
        return (f"is not a key of the format `connector secret-key` prints ({KEY_LENGTH} characters of URL-safe "
                f"base64, got {len(value)}); {hint}")
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) != 32 or base64.urlsafe_b64encode(raw).decode("ascii") != value:
        return f"is not a key of the format `connector secret-key` prints (URL-safe base64 of 32 bytes); {hint}"
    if len(set(raw)) < _MIN_DISTINCT_BYTES:
        return f"does not look random (too few distinct bytes); {hint}"
    return None


def previous_key_problem(value: str) -> str | None:
    """Why `value` cannot be CONNECTOR_SECRET_KEY_PREVIOUS (an older key may be free-form, 16 characters on)."""
    if secret_key_problem(value) is None or len(value) >= LEGACY_MIN_LENGTH:
        return None
    return f"is too short to be a key this connector used (at least {LEGACY_MIN_LENGTH} characters)"


class SecretBox:
    """Encrypts and decrypts small JSON documents (tokens, keys, webhook secrets, feed credentials).

    Seals under the current key; opens with the current key, then with the previous one (a rotation)."""

    def __init__(self, secret: str | None, previous: str | None = None) -> None:
        if not secret:
            raise ConfigError(_SETTING, "is required to store credentials (make one with `connector secret-key`)")
        problem = secret_key_problem(secret)
        if problem:
            raise ConfigError(_SETTING, problem)
        if previous:
            problem = previous_key_problem(previous)
            if problem:
                raise ConfigError(PREVIOUS_SETTING, problem)
        self._fernet = Fernet(_fernet_key(secret))
        self._previous = Fernet(_fernet_key(previous)) if previous and previous != secret else None

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"

    @property
    def has_previous(self) -> bool:
        return self._previous is not None

    def seal(self, values: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(values, sort_keys=True).encode()).decode()

    def open(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        return self.open_reporting(token)[0]

    def open_reporting(self, token: str) -> tuple[dict[str, Any], bool]:
        """The sealed document and whether it opened only with the previous key (so wants re-sealing)."""
        data = token.encode()
        try:
            return json.loads(self._fernet.decrypt(data)), False
        except InvalidToken:
            pass
        if self._previous is not None:
            try:
                return json.loads(self._previous.decrypt(data)), True
            except InvalidToken:
                pass
        raise ConfigError(_SETTING, "cannot decrypt stored credentials: they were sealed with another key"
                                    + ("" if self._previous is not None else
                                       " (set the old one as CONNECTOR_SECRET_KEY_PREVIOUS while rotating)")) from None
