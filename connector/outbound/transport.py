"""HTTP sessions that obey the outbound policy at connect time, and bounded reads of what comes back.

`guarded_session(policy)` is a `requests.Session` whose connections are opened by `_GuardedConnection`:
it asks the policy to resolve and vet the host (`OutboundPolicy.vet`) and connects the socket to one of
the vetted addresses itself, while TLS still checks the certificate against the host name. Every
request, redirects included, also has its URL checked first. Proxies from the environment are ignored
(a proxy would make the connection on our behalf, unchecked). A redirect to another origin carries only
the plain request headers: credential headers (Authorization, an API-key header) stay with the origin
they were given for. urllib3's DEBUG request lines are logged with credentials hidden (`redact_text`).

`read_body` reads a streamed response up to a size cap and an overall deadline (a server dripping one
byte at a time gets no longer than the deadline); its errors say what limit was hit, never what was read.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection

from connector.errors import PlatformError, TransportError
from connector.outbound.addresses import OutboundPolicy
from connector.outbound.credentials import redact_text

CHUNK = 64 * 1024


class _GuardedConnection(HTTPConnection):
    """Connects only to addresses the policy vetted for this host, resolved once per connection."""

    policy: OutboundPolicy = OutboundPolicy()

    def _new_conn(self) -> Any:
        last: OSError | None = None
        for address in self.policy.vet(self._dns_host, self.port):
            try:
                return connection.create_connection((address, self.port), self.timeout,
                                                    source_address=self.source_address,
                                                    socket_options=self.socket_options)
            except TimeoutError as error:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from error
            except OSError as error:
                last = error
        raise NewConnectionError(self, f"Failed to establish a new connection: {last}")


class _GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    """The https variant: the socket goes to a vetted address, SNI and the certificate use the host name."""


def _pool_classes(policy: OutboundPolicy) -> dict[str, type[HTTPConnectionPool]]:
    plain = type("PolicyConnection", (_GuardedConnection,), {"policy": policy})
    secure = type("PolicyHTTPSConnection", (_GuardedHTTPSConnection,), {"policy": policy})
    return {
        "http": type("PolicyPool", (HTTPConnectionPool,), {"ConnectionCls": plain}),
        "https": type("PolicyHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": secure}),
    }


class GuardedAdapter(HTTPAdapter):
    """A transport adapter that checks each request's URL and opens its connections through the policy."""

    def __init__(self, policy: OutboundPolicy, **kwargs: Any) -> None:
        self.policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.policy)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.policy.check_url(request.url or "", source=_host_of(request.url or ""))
        kwargs["proxies"] = {}
        return super().send(request, *args, **kwargs)


def _host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or "URL"
    except ValueError:
        return "URL"


# The headers a request keeps when a redirect takes it to another origin; any other (Authorization, X-Api-Key,
# a supplier's own token header) is dropped there.
PLAIN_HEADERS = frozenset({"user-agent", "accept", "accept-encoding", "accept-language", "connection",
                           "if-none-match", "if-modified-since", "content-type", "content-length"})


class GuardedSession(requests.Session):
    """A session that sends credential headers only to the origin they were given for."""

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        previous = response.request.url or ""
        if self.should_strip_auth(previous, prepared_request.url or ""):
            for name in [name for name in prepared_request.headers if name.lower() not in PLAIN_HEADERS]:
                del prepared_request.headers[name]
        super().rebuild_auth(prepared_request, response)


class _RedactCredentials(logging.Filter):
    """urllib3 logs each request line (path and query) at DEBUG: hide the credentials in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_text(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        return True


_urllib3_log = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(existing, _RedactCredentials) for existing in _urllib3_log.filters):
    _urllib3_log.addFilter(_RedactCredentials())


def guarded_session(policy: OutboundPolicy) -> requests.Session:
    """A session whose every request and redirect (at most `policy.max_redirects`) obeys `policy`."""
    session = GuardedSession()
    session.trust_env = False
    session.max_redirects = policy.max_redirects
    adapter = GuardedAdapter(policy)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class ResponseTooLarge(PlatformError):
    """The answer was bigger than the caller accepts."""


class DeadlineExceeded(TransportError):
    """The whole exchange took longer than its deadline (a slow or dripping server)."""


def read_body(response: requests.Response, *, max_bytes: int, deadline: float,
              clock: Callable[[], float] = time.monotonic, what: str = "the server") -> bytes:
    """The (decoded) body of a streamed response, refused past `max_bytes` or past `deadline` (a `clock`
    reading). The body is kept on the response too, so `response.json()` and `.text` work afterwards."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise ResponseTooLarge(f"{what} answered with more than {max_bytes:,} bytes", status=response.status_code)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise ResponseTooLarge(f"{what} answered with more than {max_bytes:,} bytes",
                                       status=response.status_code)
            if clock() > deadline:
                raise DeadlineExceeded(f"{what} did not finish answering within the deadline",
                                       status=response.status_code)
            chunks.append(chunk)
    except requests.RequestException as error:
        raise TransportError(f"{what}: the answer broke off ({type(error).__name__})") from None
    finally:
        response.close()
    body = b"".join(chunks)
    response._content = body
    response._content_consumed = True  # type: ignore[attr-defined]
    return body
