"""Notice templates: both languages with every variable, escaping, per-shop overrides and template errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from connector.errors import InputError
from connector.notify.locales import format_long_date, language_code
from connector.notify.policy import NoticeLine
from connector.notify.render import NoticeContext, render_notice

CHOICE = "https://connector.example/choice/abc.def?x=1&y=2"
LINES = (
    NoticeLine("11", "MUG-1", "Blue mug", 2, date(2026, 12, 9)),
    NoticeLine("12", "TEE-2", "", 1, None),
)


def context(**changes: object) -> NoticeContext:
    values: dict[str, object] = {
        "order_name": "#1001",
        "store_name": "Mugs & More",
        "lines": LINES,
        "order_eta": date(2026, 12, 9),
        "customer_first_name": "Ann",
        "choice_url": CHOICE,
        "previous_eta": date(2026, 12, 1),
    }
    values.update(changes)
    return NoticeContext(**values)  # type: ignore[arg-type]


def test_long_dates_per_language() -> None:
    assert format_long_date(date(2026, 12, 9), "en") == "Wednesday, 9 December 2026"
    assert format_long_date(date(2026, 3, 1), "de") == "Sonntag, 1. März 2026"
    assert format_long_date(date(2026, 3, 1), "fr") == "2026-03-01"


@pytest.mark.parametrize(
    ("locale", "code"),
    [("de-DE", "de"), ("de_AT", "de"), ("DE", "de"), ("en-US", "en"), ("fr", "fr"), (None, None), ("", None), ("../x", None)],
)
def test_language_code_reads_the_locale_prefix(locale: str | None, code: str | None) -> None:
    assert language_code(locale) == code


def test_backordered_in_english_shows_every_variable() -> None:
    notice = render_notice("backordered", context(), locale="en-GB")
    assert notice.language == "en"
    assert notice.subject == "Your order #1001 at Mugs & More: some items are on backorder"
    for part in (notice.text, notice.html):
        assert "Ann" in part
        assert "Blue mug" in part and "MUG-1" in part and "TEE-2" in part
        assert "Wednesday, 9 December 2026" in part
        assert "Mugs &" in part
    assert "- 2 × Blue mug (MUG-1): expected Wednesday, 9 December 2026" in notice.text
    assert "- 1 × TEE-2: date not known yet" in notice.text
    assert CHOICE in notice.text
    assert 'href="https://connector.example/choice/abc.def?x=1&amp;y=2"' in notice.html
    assert notice.html.startswith("<!DOCTYPE html>") and '<html lang="en">' in notice.html


def test_backordered_in_german_by_locale_prefix() -> None:
    notice = render_notice("backordered", context(), locale="de-DE")
    assert notice.language == "de"
    assert notice.subject == "Ihre Bestellung #1001 bei Mugs & More: einige Artikel sind nicht vorrätig"
    assert notice.text.startswith("Hallo Ann,\n\nvielen Dank")
    assert "- 2 × Blue mug (MUG-1): voraussichtlich Mittwoch, 9. Dezember 2026" in notice.text
    assert "Termin noch unbekannt" in notice.text
    assert "am Mittwoch, 9. Dezember 2026 zu versenden" in notice.text
    assert CHOICE in notice.text and '<html lang="de">' in notice.html


@pytest.mark.parametrize("locale", [None, "", "fr-FR", "xx"])
def test_unknown_locales_fall_back_to_english(locale: str | None) -> None:
    assert render_notice("ready", context(), locale=locale).language == "en"


def test_unknown_eta_promises_to_tell_the_customer() -> None:
    english = render_notice("backordered", context(order_eta=None), locale="en").text
    german = render_notice("backordered", context(order_eta=None), locale="de").text
    assert "We will tell you as soon as we know." in english
    assert "Wir melden uns, sobald wir es wissen." in german


def test_eta_changed_tells_old_and_new_date() -> None:
    notice = render_notice("eta_changed", context(), locale="en")
    assert notice.subject == "Your order #1001 at Mugs & More: new delivery estimate"
    assert "Before, we expected to ship it on Tuesday, 1 December 2026." in notice.text
    assert "We now expect to ship your order on Wednesday, 9 December 2026." in notice.text
    assert CHOICE in notice.text and CHOICE.replace("&", "&amp;") in notice.html
    unknown = render_notice("eta_changed", context(order_eta=None), locale="de")
    assert unknown.subject == "Ihre Bestellung #1001 bei Mugs & More: Liefertermin noch unbekannt"
    assert "keinen verlässlichen Termin" in unknown.text


@pytest.mark.parametrize("locale", ["en", "de"])
def test_ready_offers_no_choice(locale: str) -> None:
    notice = render_notice("ready", context(choice_url=None), locale=locale)
    assert "#1001" in notice.subject
    assert "choice" not in notice.text and "choice" not in notice.html
    assert "- 2 × Blue mug" in notice.text


@pytest.mark.parametrize("kind", ["backordered", "eta_changed"])
def test_every_delay_notice_must_offer_the_choice(kind: str) -> None:
    with pytest.raises(ValueError, match="choice"):
        render_notice(kind, context(choice_url=None))  # type: ignore[arg-type]


@pytest.mark.parametrize(("locale", "greeting"), [("en", "Hello,"), ("de", "Guten Tag,")])
@pytest.mark.parametrize("name", [None, "", "   "])
def test_a_missing_first_name_gets_a_plain_greeting(locale: str, greeting: str, name: str | None) -> None:
    notice = render_notice("backordered", context(customer_first_name=name), locale=locale)
    assert notice.text.startswith(greeting + "\n")
    assert f"<p>{greeting}</p>" in notice.html


def test_html_escapes_customer_and_shop_data_but_text_stays_literal() -> None:
    evil = '<script>alert("x")</script>'
    notice = render_notice(
        "backordered",
        context(customer_first_name=evil, store_name="A&B <b>", lines=(NoticeLine("1", None, "<img src=x>", 1, None),)),
        locale="en",
    )
    assert "<script>" not in notice.html and "<img" not in notice.html and "<b>" not in notice.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in notice.html
    assert "A&amp;B &lt;b&gt;" in notice.html
    assert f"Hello {evil}," in notice.text


def test_subject_is_one_line_whatever_the_order_name() -> None:
    notice = render_notice("ready", context(order_name="#1\r\nBcc: x@example.com"), locale="en")
    assert "\n" not in notice.subject and "\r" not in notice.subject


def test_shop_override_wins_for_the_files_it_has(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "backordered.subject.j2").write_text("Heads up about {{ order_name }} from {{ store_name }}\n")
    (tmp_path / "en" / "_choice.txt.j2").write_text("Decide here: {{ choice_url }}\n")
    notice = render_notice("backordered", context(), locale="en", override_dir=tmp_path)
    assert notice.subject == "Heads up about #1001 from Mugs & More"
    assert f"Decide here: {CHOICE}" in notice.text
    assert "Thank you for your order #1001" in notice.text  # the built-in body still applies
    assert render_notice("backordered", context(), locale="en").subject.startswith("Your order")


def test_override_can_add_a_language(tmp_path: Path) -> None:
    french = tmp_path / "fr"
    french.mkdir()
    (french / "ready.subject.j2").write_text("Votre commande {{ order_name }} est prête")
    (french / "ready.txt.j2").write_text("Bonjour {{ first_name }}, le {{ order_eta|longdate }}")
    (french / "ready.html.j2").write_text("<p>Bonjour {{ first_name }}</p>")
    notice = render_notice("ready", context(customer_first_name="<Zoé>"), locale="fr-CA", override_dir=tmp_path)
    assert notice.language == "fr"
    assert notice.subject == "Votre commande #1001 est prête"
    assert notice.text == "Bonjour <Zoé>, le 2026-12-09\n"
    assert notice.html == "<p>Bonjour &lt;Zoé&gt;</p>\n"
    # A language with only some parts is not used.
    assert render_notice("backordered", context(), locale="fr", override_dir=tmp_path).language == "en"


def test_broken_override_names_the_template_and_line(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "ready.txt.j2").write_text("Hello\n{% if first_name %}\nno end\n")
    with pytest.raises(InputError) as caught:
        render_notice("ready", context(), locale="en", override_dir=tmp_path)
    assert "ready.txt.j2" in str(caught.value) and caught.value.line is not None


def test_override_using_an_unknown_variable_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "ready.txt.j2").write_text("Hello {{ customer_nickname }}\n")
    with pytest.raises(InputError, match="ready.txt.j2.*customer_nickname"):
        render_notice("ready", context(), locale="en", override_dir=tmp_path)


def test_override_templates_are_sandboxed(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "ready.txt.j2").write_text("{{ lines[0].__class__.__init__.__globals__ }}\n")
    with pytest.raises(InputError):
        render_notice("ready", context(), locale="en", override_dir=tmp_path)
