"""CSRF protection for the app's own forms: a random token kept in the signed session, echoed by the form."""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

SESSION_KEY = "csrf_token"
FORM_FIELD = "csrf_token"


def csrf_token() -> str:
    """This browser session's token, created on first use; put it in every POST form."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def csrf_valid() -> bool:
    """True when the posted form carries this session's token (constant-time compare)."""
    expected = session.get(SESSION_KEY)
    given = request.form.get(FORM_FIELD, "")
    if not isinstance(expected, str) or not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))
