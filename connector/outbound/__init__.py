"""The one outbound-URL policy: every call the connector makes to a store or feed goes through here.

    addresses   OutboundPolicy: check_url (scheme, credentials, literal addresses) and vet (resolve,
                refuse non-public answers); the table of refused ranges is in its docstring
    transport   guarded_session: a requests.Session that connects only to vetted addresses and checks
                every redirect; read_body: a size cap and an overall deadline on what comes back
    fetch       fetch_url: one bounded GET with re-checked redirects, for supplier feeds

The process-wide policy comes from settings (OUTBOUND_ALLOW_LOOPBACK) through `configure`, called when
`Services` is built; clients take an explicit `policy=` where tests need another one.
"""

from __future__ import annotations

from connector.outbound.addresses import OutboundPolicy, Resolver, address_problem, literal_address, system_resolver
from connector.outbound.transport import DeadlineExceeded, ResponseTooLarge, guarded_session, read_body

_policy = OutboundPolicy()

__all__ = ["DeadlineExceeded", "OutboundPolicy", "Resolver", "ResponseTooLarge", "address_problem", "configure",
           "current_policy", "guarded_session", "literal_address", "read_body", "system_resolver"]


def configure(*, allow_loopback: bool, resolver: Resolver | None = None) -> OutboundPolicy:
    """Set the process's policy (from OUTBOUND_ALLOW_LOOPBACK) and return it; the resolver stays as it was
    unless one is given (tests give one that knows their made-up store names)."""
    global _policy
    _policy = OutboundPolicy(allow_loopback=allow_loopback, resolver=resolver or _policy.resolver)
    return _policy


def current_policy() -> OutboundPolicy:
    """The process's policy: loopback refused unless `configure` allowed it."""
    return _policy
