"""The notice as it leaves the connector (OutgoingNotice), what a channel reports back, and the MIME email built from it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from connector.errors import ConfigError, InputError


@dataclass(frozen=True, slots=True)
class OutgoingNotice:
    """One rendered notice addressed to one customer.

    `message_id` stays the same for every attempt to send this notice, so a re-send is recognisable
    (by mail clients, and by EmlDirChannel, which overwrites its file). `ref` is the outbox's own
    reference; platforms use it to refuse a duplicate customer note.
    """

    to_address: str
    to_name: str | None
    subject: str
    text: str = field(repr=False)
    html: str = field(repr=False)
    message_id: str
    ref: str
    order_platform_id: str | None = None  # needed by PlatformNoteChannel
    from_name: str | None = None  # the store's display name: the sender customers see (else MAIL_FROM's name)


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """Where a notice went: the channel's name and its reference (message id, file, note)."""

    channel: str
    reference: str
    duplicate: bool = False  # the channel recognised this notice as already delivered


def _mail_domain(mail_from: str) -> str:
    address = parseaddr(mail_from)[1]
    return address.rpartition("@")[2] or "localhost"


def message_id_for(ref: str, mail_from: str | None) -> str:
    """A stable RFC 5322 Message-ID for the notice `ref`, in the sender's domain."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", ref).strip("-.")[:64] or "notice"
    digest = hashlib.sha256(ref.encode()).hexdigest()[:12]  # keeps refs that read alike apart
    return f"<notice.{readable}.{digest}@{_mail_domain(mail_from or '')}>"


def _one_line(value: str) -> str:
    return " ".join(value.split())


def build_email(notice: OutgoingNotice, mail_from: str, *, now: datetime | None = None) -> EmailMessage:
    """A multipart/alternative email (plain text first, then HTML) for `notice`."""
    sender_name, sender_address = parseaddr(mail_from)
    if "@" not in sender_address:
        raise ConfigError("MAIL_FROM", "must be an email address such as 'Shop <orders@shop.example>'")
    try:
        recipient = Address(display_name=_one_line(notice.to_name or ""), addr_spec=notice.to_address.strip())
        sender = Address(display_name=_one_line(notice.from_name or sender_name), addr_spec=sender_address)
    except (ValueError, IndexError):
        # The address itself stays out of the message: error texts end up in logs.
        raise InputError(f"notice {notice.ref}", "the recipient's email address is not valid") from None
    if not recipient.domain:
        raise InputError(f"notice {notice.ref}", "the recipient's email address has no domain")

    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = _one_line(notice.subject)
    message["Date"] = format_datetime(now or datetime.now(timezone.utc))
    message["Message-ID"] = notice.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    message["X-Backorder-Notice"] = _one_line(notice.ref)
    message.set_content(notice.text)
    message.add_alternative(notice.html, subtype="html")
    return message


def envelope_sender(mail_from: str) -> str:
    """The bare address of MAIL_FROM, for the SMTP envelope."""
    return parseaddr(mail_from)[1]
