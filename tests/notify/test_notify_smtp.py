"""SmtpChannel against a real SMTP server on 127.0.0.1 (aiosmtpd): plain, login, STARTTLS, implicit TLS, refusals."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from notify_smtp_server import Collector, PasswordCheck, ServerCertificate, free_port, make_certificate, smtp_server

from connector.errors import AuthError, ConfigError, TransportError, UserError
from connector.notify.message import OutgoingNotice, message_id_for
from connector.notify.smtp import SmtpChannel, parse_smtp_url

MAIL_FROM = "Mugs & More <orders@mugs.example>"
PASSWORD = "pa:ss/w@rd%secret"
PASSWORD_IN_URL = "pa%3Ass%2Fw%40rd%25secret"
# aiosmtpd warns about AUTH without TLS; on 127.0.0.1 that is what these tests mean to do.
LOOPBACK_AUTH = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def notice(ref: str = "backordered:0123abcd") -> OutgoingNotice:
    return OutgoingNotice(
        to_address="ann@customer.example",
        to_name="Ann Müller",
        subject="Ihre Bestellung #1001: einige Artikel sind nicht vorrätig",
        text="Hallo Ann,\n\nPlain part ü.\n",
        html="<p>Hallo Ann, <b>HTML part</b> ü</p>\n",
        message_id=message_id_for(ref, MAIL_FROM),
        ref=ref,
        order_platform_id="5001",
    )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> ServerCertificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


def test_plain_delivery_has_both_parts_headers_and_recipient() -> None:
    collector = Collector()
    with smtp_server(collector) as server:
        outgoing = notice()
        receipt = SmtpChannel(f"smtp://127.0.0.1:{server.port}", MAIL_FROM).send(outgoing)
    assert receipt.channel == "smtp" and receipt.reference == outgoing.message_id
    [received] = collector.received
    assert received.mail_from == "orders@mugs.example"
    assert received.rcpt_tos == ["ann@customer.example"]
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == outgoing.subject
    assert message["Message-ID"] == outgoing.message_id
    assert message["To"].addresses[0].addr_spec == "ann@customer.example"
    assert message["To"].addresses[0].display_name == "Ann Müller"
    assert message["From"].addresses[0].addr_spec == "orders@mugs.example"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Backorder-Notice"] == outgoing.ref
    assert message["Date"] is not None
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == outgoing.text
    assert html is not None and html.get_content().replace("\r\n", "\n") == outgoing.html


@LOOPBACK_AUTH
def test_login_over_loopback_with_percent_encoded_password() -> None:
    collector, check = Collector(), PasswordCheck("shop@mugs.example", PASSWORD)
    with smtp_server(collector, authenticator=check, auth_require_tls=False, auth_required=True) as server:
        url = f"smtp://shop%40mugs.example:{PASSWORD_IN_URL}@127.0.0.1:{server.port}"
        SmtpChannel(url, MAIL_FROM).send(notice())
    assert check.attempts == ["shop@mugs.example"]
    assert len(collector.received) == 1


@LOOPBACK_AUTH
def test_wrong_password_is_an_auth_error_that_never_shows_the_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    collector, check = Collector(), PasswordCheck("shop", "the right one")
    with smtp_server(collector, authenticator=check, auth_require_tls=False, auth_required=True) as server:
        channel = SmtpChannel(f"smtp://shop:{PASSWORD_IN_URL}@127.0.0.1:{server.port}", MAIL_FROM)
        with pytest.raises(AuthError) as caught:
            channel.send(notice())
    assert collector.received == []
    assert "535" in str(caught.value)
    for shown in (str(caught.value), repr(caught.value), repr(channel), repr(channel.target), caplog.text):
        assert PASSWORD not in shown and PASSWORD_IN_URL not in shown
    assert "***" in repr(channel)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_starttls_with_a_trusted_certificate(certificate: ServerCertificate) -> None:
    collector, check = Collector(), PasswordCheck("shop", PASSWORD)
    with smtp_server(
        collector, tls_context=certificate.server_context(), require_starttls=True, authenticator=check, auth_required=True
    ) as server:
        url = f"smtp://shop:{PASSWORD_IN_URL}@127.0.0.1:{server.port}?starttls=required"
        SmtpChannel(url, MAIL_FROM, ssl_context=certificate.client_context()).send(notice())
    [received] = collector.received
    assert received.over_tls and check.attempts == ["shop"]
    assert received.message.get_body(("html",)) is not None


def test_starttls_with_an_untrusted_certificate_is_a_config_error(certificate: ServerCertificate) -> None:
    collector = Collector()
    with smtp_server(collector, tls_context=certificate.server_context(), require_starttls=True) as server:
        with pytest.raises(ConfigError, match="certificate"):
            SmtpChannel(f"smtp://127.0.0.1:{server.port}", MAIL_FROM).send(notice())
    assert collector.received == []


def test_implicit_tls(certificate: ServerCertificate) -> None:
    collector = Collector()
    with smtp_server(collector, ssl_context=certificate.server_context()) as server:
        channel = SmtpChannel(f"smtps://127.0.0.1:{server.port}", MAIL_FROM, ssl_context=certificate.client_context())
        channel.send(notice())
    [received] = collector.received
    assert received.over_tls


def test_starttls_required_but_not_offered() -> None:
    collector = Collector()
    with smtp_server(collector) as server:
        with pytest.raises(ConfigError, match="STARTTLS"):
            SmtpChannel(f"smtp://127.0.0.1:{server.port}?starttls=required", MAIL_FROM).send(notice())
    assert collector.received == []


def test_no_password_in_the_clear_to_a_remote_server() -> None:
    channel = SmtpChannel(f"smtp://shop:{PASSWORD_IN_URL}@127.0.0.1:25", MAIL_FROM)
    channel.target = dataclasses.replace(channel.target, host="mail.example.com")

    class NoStartTls:
        def ehlo(self) -> None: ...

        def has_extn(self, name: str) -> bool:
            return False

    with pytest.raises(ConfigError, match="unencrypted") as caught:
        channel._secure(NoStartTls())  # type: ignore[arg-type]
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    ("reply", "error"),
    [("550 5.1.1 {address}: no such user", UserError), ("451 4.3.0 {address}: try again later", TransportError)],
)
def test_refused_recipient(reply: str, error: type[Exception]) -> None:
    collector = Collector(refuse_rcpt=reply)
    with smtp_server(collector) as server:
        with pytest.raises(error) as caught:
            SmtpChannel(f"smtp://127.0.0.1:{server.port}", MAIL_FROM).send(notice())
    assert reply[:3] in str(caught.value)
    assert "ann@customer.example" not in str(caught.value) and "<recipient>" in str(caught.value)


def test_nobody_listening_is_worth_retrying() -> None:
    port = free_port()
    with pytest.raises(TransportError) as caught:
        SmtpChannel(f"smtp://shop:{PASSWORD_IN_URL}@127.0.0.1:{port}", MAIL_FROM, timeout=5).send(notice())
    assert f"127.0.0.1:{port}" in str(caught.value) and PASSWORD not in str(caught.value)


def test_parse_smtp_url() -> None:
    target = parse_smtp_url(f"smtp://user%40x:{PASSWORD_IN_URL}@mail.example.com")
    assert (target.host, target.port, target.implicit_tls, target.starttls) == ("mail.example.com", 587, False, "auto")
    assert (target.username, target.password) == ("user@x", PASSWORD)
    assert target.display() == "smtp://user@x:***@mail.example.com:587"
    tls = parse_smtp_url("smtps://mail.example.com")
    assert (tls.port, tls.implicit_tls, tls.username) == (465, True, None)
    assert parse_smtp_url("smtp://h:2525?starttls=required").starttls == "required"
    assert parse_smtp_url("smtp://localhost").is_loopback and parse_smtp_url("smtp://[::1]").is_loopback
    assert not parse_smtp_url("smtp://mail.example.com").is_loopback


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (f"http://u:{PASSWORD_IN_URL}@h", "smtp://"),
        (f"smtp://u:{PASSWORD_IN_URL}@", "no host"),
        (f"smtp://u:{PASSWORD_IN_URL}@h:notaport", "not a valid URL"),
        (f"smtp://u:{PASSWORD_IN_URL}@h?starttls=maybe", "starttls"),
        (f"smtp://u:{PASSWORD_IN_URL}@h?verify=no", "unknown option"),
        (f"smtps://u:{PASSWORD_IN_URL}@h?starttls=required", "smtps"),
    ],
)
def test_bad_smtp_urls_name_the_setting_and_hide_the_password(url: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_smtp_url(url)
    assert caught.value.setting == "SMTP_URL" and problem in str(caught.value)
    assert PASSWORD_IN_URL not in str(caught.value) and PASSWORD not in str(caught.value)


def test_message_id_survives_the_trip_unchanged() -> None:
    collector = Collector()
    with smtp_server(collector) as server:
        channel = SmtpChannel(f"smtp://127.0.0.1:{server.port}", MAIL_FROM)
        channel.send(notice("eta_changed:ffff"))
        channel.send(notice("eta_changed:ffff"))
    ids = {received.message["Message-ID"] for received in collector.received}
    assert ids == {message_id_for("eta_changed:ffff", MAIL_FROM)}
