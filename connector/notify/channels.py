"""The ways a notice reaches a customer (platform note, SMTP, .eml files) and the rule that picks one per shop."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol, runtime_checkable

from connector.errors import ConfigError
from connector.notify.message import DeliveryReceipt, OutgoingNotice, build_email
from connector.notify.smtp import SmtpChannel
from connector.platforms.base import Platform

__all__ = [
    "Channel",
    "DeliveryReceipt",
    "EmlDirChannel",
    "OutgoingNotice",
    "PlatformNoteChannel",
    "SmtpChannel",
    "choose_channel",
    "email_channel",
]

log = logging.getLogger(__name__)

DEFAULT_EML_SENDER = "notifications@localhost"


@runtime_checkable
class Channel(Protocol):
    """Delivers one notice. Raises a ConnectorError on failure (TransportError when worth retrying)."""

    name: str

    def send(self, notice: OutgoingNotice) -> DeliveryReceipt: ...


class EmlDirChannel:
    """Writes each notice as `<message id>.eml` into a folder, for a merchant without a mail setup to read.

    Files appear atomically (temp file + rename); the same message id always maps to the same file,
    so sending a notice again replaces it instead of adding a second copy.
    """

    name = "eml"

    def __init__(self, directory: Path, mail_from: str | None = None) -> None:
        self.directory = Path(directory)
        self.mail_from = mail_from or DEFAULT_EML_SENDER

    def __repr__(self) -> str:
        return f"EmlDirChannel({str(self.directory)!r})"

    def path_for(self, message_id: str) -> Path:
        readable = re.sub(r"[^A-Za-z0-9._@-]+", "_", message_id.strip("<> ")).strip("._")[:80]
        digest = hashlib.sha256(message_id.encode()).hexdigest()[:10]
        return self.directory / f"{readable or 'notice'}-{digest}.eml"

    def send(self, notice: OutgoingNotice) -> DeliveryReceipt:
        data = build_email(notice, self.mail_from).as_bytes()
        target = self.path_for(notice.message_id)
        duplicate = target.exists()
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=self.directory, prefix=".writing-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        log.info("notice %s written to %s", notice.ref, target)
        return DeliveryReceipt(channel=self.name, reference=str(target), duplicate=duplicate)

    def erase_recipient(self, address: str) -> int:
        """Delete every notice addressed to `address` (GDPR erasure); returns how many files went."""
        wanted = address.strip().lower()
        removed = 0
        for path in sorted(self.directory.glob("*.eml")):
            with path.open("rb") as stream:
                headers = BytesParser(policy=policy.default).parse(stream, headersonly=True)
            recipients = {addr.lower() for _, addr in getaddresses(headers.get_all("To", []))}
            if wanted in recipients:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


class PlatformNoteChannel:
    """Has the store itself email the customer, as a customer note on the order (WooCommerce)."""

    name = "platform_note"

    def __init__(self, platform: Platform) -> None:
        if not platform.capabilities.customer_notes:
            raise ConfigError("notification channel", f"{platform.name} cannot email customers a note")
        self.platform = platform

    def __repr__(self) -> str:
        return f"PlatformNoteChannel({self.platform.name})"

    def send(self, notice: OutgoingNotice) -> DeliveryReceipt:
        if not notice.order_platform_id:
            raise ValueError(f"notice {notice.ref} has no order_platform_id; a platform note needs the order")
        # The store's own email has a generic subject, so ours leads the note.
        text = f"{notice.subject}\n\n{notice.text}"
        written = self.platform.send_customer_note(notice.order_platform_id, text, notice.ref)
        return DeliveryReceipt(
            channel=self.name, reference=f"{notice.order_platform_id}:{notice.ref}", duplicate=not written
        )


def email_channel(*, smtp_url: str | None, mail_from: str | None, outbox_dir: Path) -> Channel:
    """Email that does not go through a store: SMTP when SMTP_URL is set, else .eml files in `outbox_dir`."""
    if smtp_url:
        if not mail_from:
            raise ConfigError("MAIL_FROM", "is needed when SMTP_URL is set")
        return SmtpChannel(smtp_url, mail_from)
    return EmlDirChannel(outbox_dir, mail_from)


def choose_channel(
    platform: Platform,
    *,
    smtp_url: str | None,
    mail_from: str | None,
    outbox_dir: Path,
    prefer_smtp: bool = False,
) -> Channel:
    """The channel for one shop: the store's customer notes where it has them (unless the shop prefers
    SMTP), else SMTP when SMTP_URL is set, else .eml files in `outbox_dir` for the merchant to read."""
    if platform.capabilities.customer_notes and not prefer_smtp:
        return PlatformNoteChannel(platform)
    if prefer_smtp and not smtp_url:
        raise ConfigError("SMTP_URL", "the shop prefers email by SMTP but SMTP_URL is not set")
    return email_channel(smtp_url=smtp_url, mail_from=mail_from, outbox_dir=outbox_dir)
