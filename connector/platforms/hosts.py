"""Which hosts may be reached over plain http: loopback only, since credentials would cross in clear."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str | None) -> bool:
    """True for `localhost`, 127.0.0.0/8 and ::1 (with or without brackets or a trailing dot)."""
    if not host:
        return False
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
