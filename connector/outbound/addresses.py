"""Which destinations the connector may call: URL checks and address checks that stop SSRF.

Every outbound call (WooCommerce stores, supplier feeds, Shopify stores and their redirects) goes
through an `OutboundPolicy`. A URL is checked when it is given (`check_url`) and the host's addresses
again on every connection (`vet`, called by `transport`): the name is resolved once, every answer must
be a public address, and the socket is opened to one of those very addresses, so a DNS answer that
changes between the check and the connection (rebinding) cannot reach an internal host.

Refused: loopback (unless OUTBOUND_ALLOW_LOOPBACK, for the sandbox stores, the demo and tests), private
(RFC 1918, unique-local), link-local (169.254/16 with the cloud metadata address, fe80::/10), CGNAT
(100.64/10), multicast, unspecified, reserved and documentation ranges, and IPv6 forms that embed one of
those (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`). Hosts spelled as numbers
the C resolver reads as IPv4 (`2130706433`, `0177.0.0.1`, `0x7f.1`) are read the same way here.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from connector.errors import OutboundRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""(host, port) -> the addresses the name resolves to, as text."""

CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# What inet_aton accepts: one to four parts, each decimal, octal (leading 0) or hex (0x).
_NUMERIC_HOST = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]*|[0-9]+)){0,3}")


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system resolves `host` to, without duplicates."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise OutboundRefused(host, f"cannot resolve the host name ({error.__class__.__name__})") from None
    return list(dict.fromkeys(str(answer[4][0]) for answer in answers))


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal stands for (any form the resolver accepts), else None."""
    name = host.strip().strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def address_problem(address: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why the connector must not connect to `address`, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_problem(embedded, allow_loopback=allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else "a loopback address (set OUTBOUND_ALLOW_LOOPBACK for a sandbox store)"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if isinstance(address, ipaddress.IPv4Address) and address in CGNAT:
        return "a carrier-grade NAT address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a public address"
    return None


def _valid_host_name(host: str) -> bool:
    """A DNS name: labels of 1-63 characters, 253 in all, that IDNA can encode (`.` or `a..b` cannot)."""
    name = host[:-1] if host.endswith(".") and host != "." else host  # one root dot; "a.." stays invalid
    try:
        encoded = name.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = encoded.split(".")
    return 0 < len(encoded) <= 253 and all(0 < len(label) <= 63 for label in labels) and \
        all(re.fullmatch(r"[A-Za-z0-9_-]+", label) for label in labels)


def is_loopback_name(host: str) -> bool:
    """True for `localhost` and loopback literals (which need no resolver to know)."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    literal = literal_address(name)
    if isinstance(literal, ipaddress.IPv6Address):
        literal = _embedded_ipv4(literal) or literal
    return literal is not None and literal.is_loopback


@dataclass(frozen=True)
class OutboundPolicy:
    """Where the connector may connect: https to public addresses, plus loopback when `allow_loopback`."""

    allow_loopback: bool = False
    resolver: Resolver = system_resolver
    max_redirects: int = 5

    def check_url(self, url: str, *, source: str = "URL") -> SplitResult:
        """The parts of `url` when the connector may call it; OutboundRefused naming `source` otherwise.

        Checks the scheme, the absence of credentials, and a host written as an address; a host name
        is resolved and checked when the connection is made (`vet`). Messages name the host, never
        the path or query, which may hold a token.
        """
        try:
            parts = urlsplit(url.strip())
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            raise OutboundRefused(source, "not a valid URL (bad host or port)") from None
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        if scheme not in ("http", "https"):
            raise OutboundRefused(source, "must be an https:// URL")
        if not host:
            raise OutboundRefused(source, "has no host name")
        if parts.username is not None or parts.password is not None:
            raise OutboundRefused(source, "must not carry a user name or password in the URL")
        if scheme == "http" and not (self.allow_loopback and is_loopback_name(host)):
            raise OutboundRefused(source, "plain http:// is only allowed for a store on this machine, with "
                                          f"OUTBOUND_ALLOW_LOOPBACK set; use https://{host}")
        literal = literal_address(host)
        if literal is None and not _valid_host_name(host):
            raise OutboundRefused(source, "has a host name that is not valid")
        if literal is not None:
            problem = address_problem(literal, allow_loopback=self.allow_loopback)
            if problem:
                raise OutboundRefused(source, f"{host} is {problem}")
        return parts

    def vet(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`: all of them public (or loopback when allowed).

        A name with any refused answer is refused whole: whoever controls its DNS chooses the order.
        """
        literal = literal_address(host)
        answers = [str(literal)] if literal is not None else list(self.resolver(host.rstrip("."), port))
        if not answers:
            raise OutboundRefused(host, "the host name has no address")
        vetted: list[str] = []
        for answer in answers:
            try:
                address = ipaddress.ip_address(answer.split("%", 1)[0])
            except ValueError:
                raise OutboundRefused(host, "the resolver gave an answer that is not an address") from None
            problem = address_problem(address, allow_loopback=self.allow_loopback)
            if problem:
                raise OutboundRefused(host, f"resolves to {problem}")
            vetted.append(str(address))
        return vetted


def display_url(url: str) -> str:
    """`url` fit to show or log: no user name or password, and every query value hidden."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    netloc = (f"[{host}]" if ":" in host else host) + port
    query = "&".join(f"{pair.split('=', 1)[0]}=***" for pair in parts.query.split("&") if pair)
    shown = f"{parts.scheme}://{netloc}{parts.path}"
    return f"{shown}?{query}" if query else shown
