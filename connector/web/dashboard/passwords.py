"""ADMIN_PASSWORD handling: accept a werkzeug hash or plain text, and only ever compare hashes."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

HASH_PREFIXES = ("scrypt:", "pbkdf2:")


def hash_password(password: str) -> str:
    """A werkzeug password hash of `password`, suitable as the ADMIN_PASSWORD setting."""
    if not password:
        raise ValueError("the password must not be empty")
    return generate_password_hash(password)


def admin_password_hash(setting: str | None) -> str | None:
    """The hash to check logins against: the setting itself when it is a hash, else a hash of it.

    None when no ADMIN_PASSWORD is set (operator login is then disabled).
    """
    if not setting:
        return None
    if setting.startswith(HASH_PREFIXES):
        return setting
    return hash_password(setting)


def password_matches(stored_hash: str | None, given: str) -> bool:
    """True when `given` matches `stored_hash`; a malformed hash or no hash never matches."""
    if not stored_hash or not given:
        return False
    try:
        return check_password_hash(stored_hash, given)
    except (ValueError, TypeError):
        return False
