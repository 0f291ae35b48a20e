"""Credentials for an outbound URL kept apart from it: split out of a URL, added to the request, never shown.

A supplier may hand out a feed URL such as `https://user:pw@feeds.example/stock.csv?token=...`. The
connector stores the URL without the user name, password and secret query values (`split_credentials`),
keeps those sealed (connector.feeds.credentials), and adds them back only to the request it sends
(`Credentials.request_parts`). A query parameter is secret when its name looks like one (`is_secret_name`:
token, key, secret, password, auth, signature, ...); other parameters stay in the URL. `redact_text` hides
user names, passwords and secret query values in any text, for log lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_plus, urlencode, urlsplit, urlunsplit

_SECRET_NAME = re.compile(r"token|key|secret|pass|pwd|auth|sig|credential|session|jwt|bearer", re.IGNORECASE)
# An HTTP header name (RFC 9110 token); a value may not hold a line break.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
_USERINFO = re.compile(r"(//)[^/@\s?#]*@")
_QUERY_PAIR = re.compile(r"([?&;])([^=&\s#\"']*)=([^&\s#\"']*)")


def is_secret_name(name: str) -> bool:
    """True for a query parameter or header whose name says it carries a secret (`token`, `api_key`, ...)."""
    return bool(_SECRET_NAME.search(name))


def redact_text(text: str) -> str:
    """`text` with every URL's user name and password, and every secret query value, replaced by `***`."""
    hidden = _USERINFO.sub(r"\1***@", text)
    return _QUERY_PAIR.sub(lambda m: f"{m[1]}{m[2]}=***" if is_secret_name(unquote_plus(m[2])) else m[0], hidden)


@dataclass(frozen=True)
class Credentials:
    """HTTP basic user and password, secret headers and secret query values for one URL (any may be absent)."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    query: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        for name, value in self.headers:
            if not HEADER_NAME.fullmatch(name) or "\r" in value or "\n" in value:
                raise ValueError("not a valid HTTP header")

    def __repr__(self) -> str:
        return f"Credentials(<hidden: {', '.join(self.kinds()) or 'none'}>)"

    def __bool__(self) -> bool:
        return bool(self.username is not None or self.password or self.headers or self.query)

    def kinds(self) -> list[str]:
        """What is held, by name only (`basic auth`, `header Authorization`, `query token`), for people."""
        kinds = ["basic auth"] if self.username is not None or self.password else []
        return kinds + [f"header {name}" for name, _ in self.headers] + [f"query {name}" for name, _ in self.query]

    def as_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if self.username is not None or self.password:
            values["basic"] = [self.username or "", self.password or ""]
        if self.headers:
            values["headers"] = [list(pair) for pair in self.headers]
        if self.query:
            values["query"] = [list(pair) for pair in self.query]
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Credentials:
        basic = values.get("basic") or None
        return cls(
            username=str(basic[0]) if basic else None,
            password=str(basic[1]) if basic else None,
            headers=tuple((str(name), str(value)) for name, value in values.get("headers") or ()),
            query=tuple((str(name), str(value)) for name, value in values.get("query") or ()),
        )

    def merged(self, other: Credentials) -> Credentials:
        """These credentials with `other`'s parts taking precedence (basic auth whole, headers and query
        values by name)."""
        basic = other if other.username is not None or other.password else self
        header_names = {name.lower() for name, _ in other.headers}
        query_names = {name for name, _ in other.query}
        return Credentials(
            basic.username, basic.password,
            tuple(pair for pair in self.headers if pair[0].lower() not in header_names) + other.headers,
            tuple(pair for pair in self.query if pair[0] not in query_names) + other.query,
        )

    def request_parts(self, url: str) -> tuple[str, dict[str, str], tuple[str, str] | None]:
        """(the URL with the secret query values added, the headers to add, the basic-auth pair or None)."""
        if self.query:
            url += ("&" if urlsplit(url).query else "?") + urlencode(self.query)
        auth = (self.username or "", self.password or "") if self.username is not None or self.password else None
        return url, dict(self.headers), auth


def split_credentials(url: str) -> tuple[str, Credentials]:
    """`url` without its user name, password and secret query values, and those as Credentials.

    A URL that cannot be parsed comes back unchanged with no credentials (the outbound policy refuses it)."""
    try:
        parts = urlsplit(url.strip())
        username, password = parts.username, parts.password
    except ValueError:
        return url, Credentials()
    kept: list[str] = []
    secret: list[tuple[str, str]] = []
    for raw in parts.query.split("&") if parts.query else ():
        name, has_value, value = raw.partition("=")
        if has_value and is_secret_name(unquote_plus(name)):
            secret.append((unquote_plus(name), unquote_plus(value)))
        elif raw:
            kept.append(raw)
    if username is None and password is None and not secret:
        return url.strip(), Credentials()
    netloc = parts.netloc.rpartition("@")[2]
    clean = urlunsplit((parts.scheme, netloc, parts.path, "&".join(kept), parts.fragment))
    basic = bool(username) or bool(password)
    return clean, Credentials(unquote(username or "") if basic else None,
                              unquote(password or "") if basic else None, (), tuple(secret))
