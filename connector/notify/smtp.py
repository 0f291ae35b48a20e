"""Sends notices by SMTP, configured by one SMTP_URL (smtp:// with STARTTLS, smtps:// with implicit TLS).

    smtp://user:pass@host:587               STARTTLS when the server offers it (default port 587)
    smtp://user:pass@host:587?starttls=required   refuse to send unless STARTTLS works
    smtps://user:pass@host:465              TLS from the first byte (default port 465)

User and password are percent-decoded. The password never appears in a repr, an error or a log line,
and is never sent unencrypted to anything but a loopback address.
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from connector.errors import AuthError, ConfigError, ConnectorError, TransportError, UserError
from connector.notify.message import DeliveryReceipt, OutgoingNotice, build_email, envelope_sender

log = logging.getLogger(__name__)

SETTING = "SMTP_URL"
_DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """SMTP_URL, parsed."""

    host: str
    port: int
    implicit_tls: bool
    starttls: Literal["auto", "required"]
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def display(self) -> str:
        """The URL with the password masked, for reprs and messages."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}:***@" if self.username and self.password else (
            f"{self.username}@" if self.username else ""
        )
        query = "?starttls=required" if self.starttls == "required" else ""
        return f"{scheme}://{user}{self.host}:{self.port}{query}"

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_smtp_url(url: str) -> SmtpTarget:
    """SMTP_URL as a SmtpTarget; ConfigError (without echoing the URL, it holds a password) when malformed."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ConfigError(SETTING, "is not a valid URL (expected smtp://user:password@host:port)") from None
    if parts.scheme not in _DEFAULT_PORTS:
        raise ConfigError(SETTING, "must start with smtp:// (STARTTLS) or smtps:// (implicit TLS)")
    if not parts.hostname:
        raise ConfigError(SETTING, "names no host")
    query = parse_qs(parts.query)
    unknown = set(query) - {"starttls"}
    if unknown:
        raise ConfigError(SETTING, f"unknown option(s): {', '.join(sorted(unknown))}")
    starttls = query.get("starttls", ["auto"])[-1]
    if starttls not in ("auto", "required"):
        raise ConfigError(SETTING, "starttls must be 'auto' or 'required'")
    if starttls == "required" and parts.scheme == "smtps":
        raise ConfigError(SETTING, "starttls=required does not apply to smtps:// (already TLS)")
    return SmtpTarget(
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[parts.scheme],
        implicit_tls=parts.scheme == "smtps",
        starttls="required" if starttls == "required" else "auto",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


class SmtpChannel:
    """Delivers notices through an SMTP server; one connection per notice."""

    name = "smtp"

    def __init__(
        self,
        smtp_url: str,
        mail_from: str,
        *,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.target = parse_smtp_url(smtp_url)
        self.mail_from = mail_from
        self.timeout = timeout
        self._ssl_context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:
        return f"SmtpChannel({self.target.display()}, mail_from={self.mail_from!r})"

    def send(self, notice: OutgoingNotice) -> DeliveryReceipt:
        message = build_email(notice, self.mail_from)
        try:
            with self._connect() as client:
                self._secure(client)
                if self.target.username:
                    client.login(self.target.username, self.target.password or "")
                client.send_message(message, from_addr=envelope_sender(self.mail_from), to_addrs=[notice.to_address.strip()])
        except OSError as error:  # smtplib, ssl and socket errors are all OSErrors
            raise self._translate(error, notice) from None
        log.info("notice %s sent by SMTP via %s:%s", notice.ref, self.target.host, self.target.port)
        return DeliveryReceipt(channel=self.name, reference=notice.message_id)

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        if target.implicit_tls:
            return smtplib.SMTP_SSL(target.host, target.port, timeout=self.timeout, context=self._ssl_context)
        return smtplib.SMTP(target.host, target.port, timeout=self.timeout)

    def _secure(self, client: smtplib.SMTP) -> None:
        """STARTTLS where it applies; refuse to send a password in the clear to a remote server."""
        target = self.target
        if target.implicit_tls:
            return
        client.ehlo()
        if client.has_extn("starttls"):
            client.starttls(context=self._ssl_context)
            client.ehlo()
            return
        where = f"{target.host}:{target.port}"
        if target.starttls == "required":
            raise ConfigError(SETTING, f"the server at {where} does not offer STARTTLS, which starttls=required asks for")
        if target.username and not target.is_loopback:
            raise ConfigError(
                SETTING,
                f"the server at {where} does not offer STARTTLS; refusing to send the password unencrypted "
                "(use smtps:// or a server with STARTTLS)",
            )

    def _translate(self, error: OSError, notice: OutgoingNotice) -> ConnectorError:
        """The error tree's view of an SMTP failure: 4xx and network trouble are worth retrying."""
        where = f"SMTP server {self.target.host}:{self.target.port}"

        def clean(text: str) -> str:
            # Error texts go to logs and the outbox table: no password, no customer address.
            if self.target.password:
                text = text.replace(self.target.password, "***")
            return text.replace(notice.to_address, "<recipient>")

        if isinstance(error, smtplib.SMTPAuthenticationError):
            return AuthError(clean(f"{where} refused the login for {self.target.username}: {_reply(error)}"))
        if isinstance(error, smtplib.SMTPNotSupportedError):
            return ConfigError(SETTING, clean(f"{where}: {error}"))
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            replies = list(error.recipients.values())
            text = clean(f"{where} refused the recipient: " + "; ".join(f"{c} {_text(m)}" for c, m in replies))
            if all(400 <= code < 500 for code, _ in replies):
                return TransportError(text)
            return UserError([text], code="SMTP")
        if isinstance(error, smtplib.SMTPResponseException):
            text = clean(f"{where} answered {_reply(error)}")
            if error.smtp_code >= 500:
                return UserError([text], status=error.smtp_code, code="SMTP")
            return TransportError(text, status=error.smtp_code)
        if isinstance(error, ssl.SSLCertVerificationError):
            return ConfigError(SETTING, clean(f"{where} presented a certificate we do not trust: {error.verify_message}"))
        return TransportError(clean(f"{where}: {type(error).__name__}: {error}"))


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else message


def _reply(error: smtplib.SMTPResponseException) -> str:
    return f"{error.smtp_code} {_text(error.smtp_error)}"
