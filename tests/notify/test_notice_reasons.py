"""Reasons in notices: plain words in English and German, the merchant's own text per SKU or supplier, escaping."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli import cli
from connector.notify.policy import NoticeLine
from connector.notify.reasons import REASON_SENTENCES, reason_note, reason_sentence, with_text
from connector.notify.render import NoticeContext, render_notice
from connector.notify.compose import notice_lines_from_payload, notice_lines_to_payload
from connector.services import Services
from connector.store.models import Shop
from tests.conftest import TEST_SECRET_KEY

LINES = (
    NoticeLine("11", "MUG-1", "Blue mug", 2, date(2026, 12, 9), "supplier_delay"),
    NoticeLine("12", "TEE-2", "Tee", 1, None, "demand_surge", {"*": "Our <b>printer</b> is on holiday."}),
    NoticeLine("13", "CAP-3", "Cap", 1, date(2026, 12, 2)),  # no reason worked out: nothing is said
)


def context() -> NoticeContext:
    return NoticeContext(order_name="#1001", store_name="Mugs & More", lines=LINES, order_eta=date(2026, 12, 9),
                         customer_first_name="Ann", choice_url="https://connector.example/choice/abc")


def test_every_code_has_a_sentence_in_both_languages() -> None:
    codes = {"supplier_delay", "demand_surge", "awaiting_restock", "no_supplier_date"}
    assert set(REASON_SENTENCES["en"]) == set(REASON_SENTENCES["de"]) == codes
    assert reason_sentence("supplier_delay", "fr") == REASON_SENTENCES["en"]["supplier_delay"]
    assert reason_sentence(None, "en") == ""
    assert reason_sentence("demand_surge", "de", {"en": "English only"}) == REASON_SENTENCES["de"]["demand_surge"]


def test_english_notice_says_why_per_line() -> None:
    notice = render_notice("backordered", context(), locale="en")
    assert "- 2 × Blue mug (MUG-1): expected Wednesday, 9 December 2026\n  Our supplier's shipment is running late.\n" \
        in notice.text
    assert "  Our <b>printer</b> is on holiday.\n" in notice.text  # the merchant's text replaces the built-in one
    assert "much higher than expected" not in notice.text
    assert "Our supplier&#39;s shipment is running late." in notice.html or \
        "Our supplier's shipment is running late." in notice.html
    assert "Our &lt;b&gt;printer&lt;/b&gt; is on holiday." in notice.html  # escaped in HTML
    cap = notice.text.split("Cap (CAP-3)")[1].splitlines()[1]
    assert not cap.startswith("  ")  # the line without a reason gets no sentence


def test_german_notice_says_why_per_line() -> None:
    notice = render_notice("eta_changed", context(), locale="de-DE")
    assert notice.language == "de"
    assert "  Die Lieferung unseres Lieferanten verspätet sich.\n" in notice.text
    assert "Die Lieferung unseres Lieferanten verspätet sich." in notice.html


def test_reason_and_note_survive_the_outbox_payload() -> None:
    payload = notice_lines_to_payload(LINES)
    assert payload[0]["reason"] == "supplier_delay" and "reason_note" not in payload[0]
    assert "reason" not in payload[2]
    assert notice_lines_from_payload(payload) == list(LINES)


def test_sku_text_wins_over_supplier_text() -> None:
    texts = with_text(None, "supplier:Acme", "*", "Acme's factory is closed in August.")
    texts = with_text(texts, "sku:MUG-1", "de", "Die Glasur braucht länger.")
    assert reason_note(texts, "MUG-1", "Acme") == {"de": "Die Glasur braucht länger."}
    assert reason_note(texts, "TEE-2", "Acme") == {"*": "Acme's factory is closed in August."}
    assert reason_note(texts, "TEE-2", None) is None
    assert with_text(texts, "sku:MUG-1", "de", None) == {"supplier:Acme": {"*": "Acme's factory is closed in August."}}
    with pytest.raises(ValueError, match="at most 300"):
        with_text(None, "sku:X", "*", "x" * 301)


def test_reason_text_command(services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with services.db.session() as session:
        shop = Shop(platform="woocommerce", domain="https://shop.example", name="Shop")
        session.add(shop)
        session.flush()
        shop_id = shop.id
    env = {"DATABASE_URL": services.settings.database_url, "CONNECTOR_SECRET_KEY": TEST_SECRET_KEY,
           "DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()
    done = runner.invoke(cli, ["stock", "reason-text", "--shop", str(shop_id), "--supplier", "Acme",
                               "Our supplier's ship is stuck in port."], env=env, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    runner.invoke(cli, ["stock", "reason-text", "--shop", str(shop_id), "--sku", "MUG", "--language", "de",
                        "Die Glasur trocknet noch."], env=env, catch_exceptions=False)
    with services.db.session() as session:
        stored = session.get(Shop, shop_id).setting("reason_texts", None)  # type: ignore[union-attr]
    assert stored == {"supplier:Acme": {"*": "Our supplier's ship is stuck in port."},
                      "sku:MUG": {"de": "Die Glasur trocknet noch."}}
    bad = runner.invoke(cli, ["stock", "reason-text", "--shop", str(shop_id), "--sku", "A", "--supplier", "B", "x"],
                        env=env)
    assert bad.exit_code == 2 and "exactly one of --sku and --supplier" in bad.output
    cleared = runner.invoke(cli, ["stock", "reason-text", "--shop", str(shop_id), "--sku", "MUG", "--language", "de",
                                  "--clear"], env=env)
    assert cleared.exit_code == 0
    listed = runner.invoke(cli, ["stock", "reason-text", "--shop", str(shop_id), "--list"], env=env)
    assert '"sku:MUG"' not in listed.output and '"supplier:Acme"' in listed.output
