"""The reason a line is backordered, in the customer's words: built-in sentences (English, German) and the merchant's own.

A merchant may replace the sentence for a SKU or for a supplier (shop setting `reason_texts`, set with
`connector stock reason-text`): keys `sku:<SKU>` and `supplier:<NAME>`, each holding the text per
language (`*` for every language). A SKU's text wins over its supplier's; either wins over the built-in
sentence, whatever the reason code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.notify.locales import DEFAULT_LANGUAGE

REASON_SETTING = "reason_texts"
ANY_LANGUAGE = "*"

REASON_SENTENCES: dict[str, dict[str, str]] = {
    "en": {
        "supplier_delay": "Our supplier's shipment is running late.",
        "demand_surge": "Demand for this item was much higher than expected.",
        "awaiting_restock": "We are waiting for a restock from our supplier.",
        "no_supplier_date": "Our supplier has not given us a date yet.",
    },
    "de": {
        "supplier_delay": "Die Lieferung unseres Lieferanten verspätet sich.",
        "demand_surge": "Dieser Artikel war viel stärker gefragt als erwartet.",
        "awaiting_restock": "Wir warten auf Nachschub von unserem Lieferanten.",
        "no_supplier_date": "Unser Lieferant hat uns noch keinen Termin genannt.",
    },
}

MAX_TEXT = 300


def reason_sentence(code: str | None, language: str, note: Mapping[str, str] | None = None) -> str:
    """The sentence for `code` in `language`: the merchant's note for that language (or for every
    language) when there is one, else the built-in sentence (English for other languages); "" for no code."""
    if note:
        text = note.get(language) or note.get(ANY_LANGUAGE)
        if text:
            return text
    if not code:
        return ""
    sentences = REASON_SENTENCES.get(language) or REASON_SENTENCES[DEFAULT_LANGUAGE]
    return sentences.get(code, "")


def override_key(kind: str, name: str) -> str:
    """The settings key of a SKU's (`kind` "sku") or supplier's (`kind` "supplier") text."""
    if kind not in ("sku", "supplier"):
        raise ValueError(f"a reason text belongs to a sku or a supplier, not {kind!r}")
    return f"{kind}:{name}"


def reason_note(texts: Mapping[str, Any] | None, sku: str | None, supplier: str | None) -> dict[str, str] | None:
    """The merchant's text for a line (per language), from the shop's `reason_texts`: its SKU's, else its supplier's."""
    if not texts:
        return None
    for key in ((f"sku:{sku}" if sku else None), (f"supplier:{supplier}" if supplier else None)):
        found = texts.get(key) if key else None
        if isinstance(found, dict) and found:
            return {str(language): str(text) for language, text in found.items()}
    return None


def with_text(texts: Mapping[str, Any] | None, key: str, language: str, text: str | None) -> dict[str, Any]:
    """`texts` with `key`'s text in `language` set (None removes it; a key left with no text goes)."""
    if text is not None:
        text = " ".join(text.split())
        if not text:
            raise ValueError("the text is empty")
        if len(text) > MAX_TEXT:
            raise ValueError(f"the text is {len(text)} characters; at most {MAX_TEXT}")
    updated = {name: dict(value) for name, value in (texts or {}).items() if isinstance(value, dict)}
    entry = updated.setdefault(key, {})
    if text is None:
        entry.pop(language, None)
    else:
        entry[language] = text
    if not entry:
        updated.pop(key)
    return updated
