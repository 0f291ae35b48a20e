"""The .eml folder channel, the platform customer-note channel, channel choice and the email built for a notice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from connector.errors import ConfigError, InputError
from connector.notify.channels import Channel, EmlDirChannel, PlatformNoteChannel, SmtpChannel, choose_channel
from connector.notify.message import OutgoingNotice, build_email, message_id_for
from connector.platforms.base import Capabilities

MAIL_FROM = "Mugs & More <orders@mugs.example>"


def notice(ref: str = "ready:00ff", to: str = "ann@customer.example", **changes: str) -> OutgoingNotice:
    values = {
        "to_address": to,
        "to_name": "Ann",
        "subject": "Your order #1001 is ready to ship",
        "text": "Hello Ann,\n\nGood news.\n",
        "html": "<p>Hello Ann, good news.</p>\n",
        "message_id": message_id_for(ref, MAIL_FROM),
        "ref": ref,
        "order_platform_id": "5001",
    }
    values.update(changes)
    return OutgoingNotice(**values)  # type: ignore[arg-type]


def parse(path: Path):
    with path.open("rb") as stream:
        return BytesParser(policy=policy.default).parse(stream)


# --- email building -------------------------------------------------------------------------------


def test_message_ids_are_stable_valid_and_distinct() -> None:
    first = message_id_for("backordered:ab12", MAIL_FROM)
    assert first == message_id_for("backordered:ab12", MAIL_FROM)
    assert first.startswith("<notice.backordered-ab12.") and first.endswith("@mugs.example>")
    assert message_id_for("backordered-ab12", MAIL_FROM) != first  # refs that read alike stay apart
    assert message_id_for("x y/../z", None).endswith("@localhost>")
    assert " " not in message_id_for("x y/../z", None)


def test_header_injection_is_flattened() -> None:
    message = build_email(notice(subject="Hi\r\nBcc: evil@example.com", to_name="Ann\nBcc: evil@example.com"), MAIL_FROM)
    assert message["Bcc"] is None
    assert message["Subject"] == "Hi Bcc: evil@example.com"


@pytest.mark.parametrize("address", ["not an address", "ann@", "ann", "a b@c.example"])
def test_a_bad_recipient_is_an_input_error_without_the_address(address: str) -> None:
    with pytest.raises(InputError) as caught:
        build_email(notice(to=address), MAIL_FROM)
    assert "ready:00ff" in str(caught.value) and address not in str(caught.value)


def test_a_bad_sender_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        build_email(notice(), "orders at mugs")


# --- .eml folder ----------------------------------------------------------------------------------


def test_eml_file_is_a_parseable_two_part_email(tmp_path: Path) -> None:
    channel = EmlDirChannel(tmp_path / "outbox", MAIL_FROM)
    receipt = channel.send(notice())
    path = Path(receipt.reference)
    assert receipt.channel == "eml" and not receipt.duplicate
    assert path.parent == tmp_path / "outbox" and path.suffix == ".eml"
    message = parse(path)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Message-ID"] == notice().message_id
    assert message["To"].addresses[0].addr_spec == "ann@customer.example"
    assert message["Subject"] == "Your order #1001 is ready to ship"
    assert message.get_body(("plain",)).get_content() == "Hello Ann,\n\nGood news.\n"
    assert message.get_body(("html",)).get_content() == "<p>Hello Ann, good news.</p>\n"


def test_eml_resend_replaces_the_same_file(tmp_path: Path) -> None:
    channel = EmlDirChannel(tmp_path)
    first = channel.send(notice())
    second = channel.send(notice(text="Hello Ann,\n\nSecond attempt.\n"))
    other = channel.send(notice(ref="ready:0100"))
    assert first.reference == second.reference and second.duplicate
    assert other.reference != first.reference and not other.duplicate
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([Path(first.reference).name, Path(other.reference).name])
    assert "Second attempt." in parse(Path(first.reference)).get_body(("plain",)).get_content()
    assert parse(Path(first.reference))["From"].addresses[0].addr_spec == "notifications@localhost"


def test_eml_file_names_stay_inside_the_folder(tmp_path: Path) -> None:
    channel = EmlDirChannel(tmp_path / "outbox")
    receipt = channel.send(notice(message_id="<../../etc/passwd@x>"))
    assert Path(receipt.reference).parent == tmp_path / "outbox"
    assert list(tmp_path.iterdir()) == [tmp_path / "outbox"]


def test_eml_erase_removes_only_that_customers_notices(tmp_path: Path) -> None:
    channel = EmlDirChannel(tmp_path)
    channel.send(notice(ref="a"))
    channel.send(notice(ref="b"))
    kept = channel.send(notice(ref="c", to="bob@customer.example"))
    assert channel.erase_recipient("ANN@customer.example") == 2
    assert [p.name for p in tmp_path.iterdir()] == [Path(kept.reference).name]


# --- platform notes -------------------------------------------------------------------------------


@dataclass
class NotePlatform:
    """Just enough of a Platform to take customer notes; remembers refs like the stores do."""

    capabilities: Capabilities = field(default_factory=lambda: Capabilities(tags=False, holds=False, customer_notes=True))
    name: str = "woocommerce"
    notes: list[tuple[str, str, str]] = field(default_factory=list)

    def send_customer_note(self, order_id: str, text: str, ref: str) -> bool:
        if any(existing_ref == ref for _, _, existing_ref in self.notes):
            return False
        self.notes.append((order_id, text, ref))
        return True


def test_platform_note_carries_subject_text_and_ref() -> None:
    platform = NotePlatform()
    channel = PlatformNoteChannel(platform)  # type: ignore[arg-type]
    receipt = channel.send(notice())
    assert platform.notes == [("5001", "Your order #1001 is ready to ship\n\nHello Ann,\n\nGood news.\n", "ready:00ff")]
    assert receipt.channel == "platform_note" and receipt.reference == "5001:ready:00ff" and not receipt.duplicate
    assert channel.send(notice()).duplicate and len(platform.notes) == 1


def test_platform_note_needs_the_order_and_the_capability() -> None:
    with pytest.raises(ValueError, match="order_platform_id"):
        PlatformNoteChannel(NotePlatform()).send(notice(order_platform_id=""))  # type: ignore[arg-type]
    no_notes = NotePlatform(capabilities=Capabilities(tags=True, holds=True, customer_notes=False), name="shopify")
    with pytest.raises(ConfigError, match="shopify"):
        PlatformNoteChannel(no_notes)  # type: ignore[arg-type]


# --- choosing -------------------------------------------------------------------------------------

SHOPIFY_LIKE = Capabilities(tags=True, holds=True, customer_notes=False)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data" / "outbox"


def test_woocommerce_uses_customer_notes_unless_the_shop_prefers_smtp(outbox: Path) -> None:
    woo = NotePlatform()
    assert isinstance(choose_channel(woo, smtp_url="smtp://h", mail_from=MAIL_FROM, outbox_dir=outbox), PlatformNoteChannel)  # type: ignore[arg-type]
    chosen = choose_channel(woo, smtp_url="smtp://h", mail_from=MAIL_FROM, outbox_dir=outbox, prefer_smtp=True)  # type: ignore[arg-type]
    assert isinstance(chosen, SmtpChannel) and isinstance(chosen, Channel)
    with pytest.raises(ConfigError, match="SMTP_URL"):
        choose_channel(woo, smtp_url=None, mail_from=MAIL_FROM, outbox_dir=outbox, prefer_smtp=True)  # type: ignore[arg-type]


def test_shopify_uses_smtp_when_configured_else_eml_files(outbox: Path) -> None:
    shopify = NotePlatform(capabilities=SHOPIFY_LIKE, name="shopify")
    assert isinstance(choose_channel(shopify, smtp_url="smtps://h", mail_from=MAIL_FROM, outbox_dir=outbox), SmtpChannel)  # type: ignore[arg-type]
    eml = choose_channel(shopify, smtp_url=None, mail_from=None, outbox_dir=outbox)  # type: ignore[arg-type]
    assert isinstance(eml, EmlDirChannel) and eml.directory == outbox
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        choose_channel(shopify, smtp_url="smtp://h", mail_from=None, outbox_dir=outbox)  # type: ignore[arg-type]
