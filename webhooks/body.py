"""Reading a webhook body in chunks while its HMACs are computed, so a big delivery is verified without being kept.

A body whose declared length is within the limit (nearly every delivery) is read whole instead and
given to `signed_body`: one read and one HMAC call per secret.

Up to `limit` bytes the body is kept; past it only the HMACs go on (memory stays at one chunk), so an
oversized delivery can still be proven genuine and recorded without its body. Past `hard_cap` reading
stops: such a body cannot be verified and is refused outright.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

CHUNK_BYTES = 64 * 1024
HARD_CAP_FACTOR = 4  # read at most this many times the limit before giving up on a body


@dataclass(frozen=True, slots=True)
class SignedBody:
    """A body as read: kept when within the limit (else None), its size, and its HMAC-SHA256 per secret."""

    body: bytes | None
    size: int
    digests: tuple[bytes, ...]
    cut_off: bool = False  # reading stopped at the hard cap: size and digests are not the body's

    @property
    def over_limit(self) -> bool:
        return self.body is None


def signed_body(body: bytes, *, secrets: Sequence[str]) -> SignedBody:
    """A body read whole (within the limit) and its HMACs, each computed in one call."""
    return SignedBody(body, len(body), tuple(hmac.digest(secret.encode(), body, hashlib.sha256) for secret in secrets if secret))


def read_signed_body(stream: IO[bytes], *, limit: int, secrets: Sequence[str],
                     hard_cap: int | None = None) -> SignedBody:
    cap = hard_cap if hard_cap is not None else HARD_CAP_FACTOR * limit
    macs = [hmac.new(secret.encode(), digestmod=hashlib.sha256) for secret in secrets if secret]
    kept = bytearray()
    size = 0
    while True:
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            break
        size += len(chunk)
        if size > cap:
            return SignedBody(None, size, (), cut_off=True)
        for mac in macs:
            mac.update(chunk)
        if size <= limit:
            kept += chunk
        elif kept:
            kept = bytearray()  # over the limit: nothing of it is kept
    body = bytes(kept) if size <= limit else None
    return SignedBody(body, size, tuple(mac.digest() for mac in macs))
