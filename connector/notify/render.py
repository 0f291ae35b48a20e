"""Renders a customer notice (subject, plain text, HTML) from Jinja2 templates, per language and per shop.

Templates live in ``templates/<lang>/<kind>.<part>.j2`` with part one of ``subject``, ``txt`` and
``html``; the customer's choice page (``choice_page.html.j2``, ``choice_done.html.j2``) is rendered
from the same pieces as the delay notices, so it says what the email said. A shop may supply its own folder with the same layout; its files win over the built-in ones
(for whole notices and for the ``_*.j2`` pieces they include). HTML parts are autoescaped, and every
template runs sandboxed because an override folder is merchant-supplied content.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from connector.errors import InputError
from connector.notify.locales import DEFAULT_LANGUAGE, MONTH_NAMES, format_long_date, language_code
from connector.notify.policy import DELAY_KINDS, NOTICE_KINDS, RANGE_MIN_DAYS, NoticeKind, NoticeLine
from connector.notify.reasons import reason_sentence

TEMPLATE_DIR = Path(__file__).parent / "templates"
PARTS = ("subject", "txt", "html")


@dataclass(frozen=True, slots=True)
class NoticeContext:
    """Everything a notice template may show."""

    order_name: str
    store_name: str
    lines: Sequence[NoticeLine]
    order_eta: date | None = None  # None: not known yet
    order_eta_earliest: date | None = None  # the order's range (see NoticeLine); None: one date
    order_eta_latest: date | None = None
    customer_first_name: str | None = None  # None or blank: a greeting without a name
    choice_url: str | None = None  # keep-waiting-or-cancel link; required for delay notices
    previous_eta: date | None = None  # eta_changed: the ETA the customer was told before
    # A renewed delay notice (mail-order rule): the customer must choose "keep waiting" by this day, or
    # the backordered items are cancelled and refunded.
    answer_by: date | None = None
    refund: Refund | None = None  # cancelled: what was refunded
    ships_now: Sequence[NoticeLine] = ()  # ship what's ready: the in-stock units that go out now


@dataclass(frozen=True, slots=True)
class Refund:
    """What a cancel refunded, for the customer's confirmation."""

    amount: str
    currency: str
    arrives_by: date | None  # the latest day the money reaches the customer
    whole_order: bool = False


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    subject: str
    text: str
    html: str
    language: str


@pass_context
def _long_date(context: Context, value: date | None) -> str:
    if value is None:
        return ""
    return format_long_date(value, context.get("lang", DEFAULT_LANGUAGE))


def shown_range(eta: date | None, earliest: date | None, latest: date | None) -> tuple[date, date] | None:
    """The range a customer is told instead of `eta`, or None when one date is told."""
    if eta is None or earliest is None or latest is None or (latest - earliest).days < RANGE_MIN_DAYS:
        return None
    return min(earliest, eta), max(latest, eta)


def ship_words(eta: date, earliest: date | None, latest: date | None, language: str, *, on: bool = True) -> str:
    """When: "on Monday, 14 March 2027" / "between 12 and 16 March 2027", or in German "am Montag, 14. März 2027" /
    "zwischen dem 12. und 16. März 2027" (months and years only where the two ends differ)."""
    found = shown_range(eta, earliest, latest)
    german = language == "de"
    if found is None:
        day = format_long_date(eta, language)
        return f"{'am' if german else 'on'} {day}" if on else day
    low, high = found
    months = MONTH_NAMES.get(language, MONTH_NAMES["en"])
    dot = "." if german else ""
    end = f"{high.day}{dot} {months[high.month - 1]} {high.year}"
    if (low.year, low.month) == (high.year, high.month):
        start = f"{low.day}{dot}"
    elif low.year == high.year:
        start = f"{low.day}{dot} {months[low.month - 1]}"
    else:
        start = f"{low.day}{dot} {months[low.month - 1]} {low.year}"
    return f"zwischen dem {start} und {end}" if german else f"between {start} and {end}"


@pass_context
def _when(context: Context, eta: date | None, earliest: date | None = None, latest: date | None = None) -> str:
    if eta is None:
        return ""
    return ship_words(eta, earliest, latest, context.get("lang", DEFAULT_LANGUAGE))


@pass_context
def _eta_words(context: Context, eta: date | None, earliest: date | None = None, latest: date | None = None) -> str:
    if eta is None:
        return ""
    return ship_words(eta, earliest, latest, context.get("lang", DEFAULT_LANGUAGE), on=False)


@pass_context
def _money(context: Context, amount: str, currency: str) -> str:
    """An amount as the store stated it, in the reader's way: "USD 49.90" or "49,90 EUR"."""
    if context.get("lang", DEFAULT_LANGUAGE) == "de":
        return f"{amount.replace('.', ',')} {currency}".strip()
    return f"{currency} {amount}".strip()


@pass_context
def _reason(context: Context, line: NoticeLine) -> str:
    """Why `line` waits, in the notice's language (the merchant's own text where there is one)."""
    return reason_sentence(getattr(line, "reason", None), context.get("lang", DEFAULT_LANGUAGE),
                           getattr(line, "reason_note", None))


@lru_cache(maxsize=64)
def _environment(override_dir: str | None) -> SandboxedEnvironment:
    loaders = [FileSystemLoader(override_dir)] if override_dir else []
    loaders.append(FileSystemLoader(str(TEMPLATE_DIR)))
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,  # included pieces end with their newline
    )
    env.filters["longdate"] = _long_date
    env.filters["money"] = _money
    env.globals["shipdate"] = _when
    env.globals["etawords"] = _eta_words
    env.filters["reason"] = _reason
    return env


def _template_names(language: str, kind: str) -> dict[str, str]:
    return {part: f"{language}/{kind}.{part}.j2" for part in PARTS}


def _has_language(env: SandboxedEnvironment, language: str, kind: str) -> bool:
    assert env.loader is not None
    for name in _template_names(language, kind).values():
        try:
            env.loader.get_source(env, name)
        except TemplateNotFound:
            return False
    return True


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _render(env: SandboxedEnvironment, name: str, variables: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(variables)
    except TemplateSyntaxError as error:
        raise InputError(error.filename or name, f"template syntax error: {error.message}", error.lineno) from None
    except TemplateNotFound as error:
        raise InputError(name, f"template not found: {error.name}") from None
    except TemplateError as error:  # undefined variable, sandbox refusal
        raise InputError(f"template {name}", str(error)) from None


def render_notice(
    kind: NoticeKind,
    context: NoticeContext,
    *,
    locale: str | None = None,
    override_dir: Path | None = None,
) -> RenderedNotice:
    """The notice `kind` for `context`, in the language of `locale` (English when we have none for it).

    Template problems (syntax, unknown variables; typically in a shop's override folder) raise
    InputError naming the template.
    """
    if kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    if kind in DELAY_KINDS and not context.choice_url:
        raise ValueError(f"a {kind} notice must offer the keep-waiting-or-cancel choice (choice_url)")
    env = _environment(str(override_dir) if override_dir else None)
    wanted = language_code(locale)
    language = wanted if wanted and _has_language(env, wanted, kind) else DEFAULT_LANGUAGE

    first_name = (context.customer_first_name or "").strip() or None
    variables: dict[str, Any] = {
        "kind": kind,
        "lang": language,
        "order_name": context.order_name,
        "store_name": context.store_name,
        "first_name": first_name,
        "lines": list(context.lines),
        "order_eta": context.order_eta,
        "order_eta_earliest": context.order_eta_earliest,
        "order_eta_latest": context.order_eta_latest,
        "previous_eta": context.previous_eta,
        "choice_url": context.choice_url,
        "answer_by": context.answer_by,
        "refund": context.refund,
        "ships_now": list(context.ships_now),
    }
    names = _template_names(language, kind)
    subject = " ".join(_render(env, names["subject"], variables).split())
    if not subject:
        raise InputError(names["subject"], "the subject rendered empty")
    text = _tidy_text(_render(env, names["txt"], variables))
    html = _render(env, names["html"], variables).strip() + "\n"
    return RenderedNotice(subject=subject, text=text, html=html, language=language)



@dataclass(frozen=True, slots=True)
class ChoicePage:
    """The customer's choice page (or its thank-you page), in the order's language, in the emails' words."""

    language: str
    body: str  # HTML: the order, its items and ETA, and the offer exactly as the delay notices word it
    wait_label: str
    cancel_label: str
    settled: bool = False  # the items are cancelled and refunded: nothing is left to choose


def render_choice_page(
    context: NoticeContext,
    *,
    locale: str | None = None,
    override_dir: Path | None = None,
    previous: str | None = None,
    picked: str | None = None,
    cancel_state: Refund | None | bool = None,
) -> ChoicePage:
    """The choice page for `context` (or, with `picked` "wait" or "cancel", the page thanking for it).

    The item lines, the ETA sentence and the offer come from the same template pieces as the
    delay notices, so the page says exactly what the email said. `cancel_state`: the order's cancel, if one
    was asked for (a Refund once refunded, True while it is being processed)."""
    env = _environment(str(override_dir) if override_dir else None)
    wanted = language_code(locale)
    language = wanted if wanted and _has_page(env, wanted) else DEFAULT_LANGUAGE
    labels = {
        choice: " ".join(_render(env, f"{language}/_choice_{choice}.txt.j2", {"lang": language}).split())
        for choice in ("wait", "cancel")
    }
    variables: dict[str, Any] = {
        "lang": language,
        "order_name": context.order_name,
        "store_name": context.store_name,
        "lines": list(context.lines),
        "order_eta": context.order_eta,
        "order_eta_earliest": context.order_eta_earliest,
        "order_eta_latest": context.order_eta_latest,
        "previous": labels.get(previous or "", None),
        "picked": picked,
        "picked_label": labels.get(picked or "", ""),
        "cancel_state": None if not cancel_state else {
            "refund": cancel_state if isinstance(cancel_state, Refund) else None},
    }
    name = f"{language}/choice_done.html.j2" if picked else f"{language}/choice_page.html.j2"
    body = _render(env, name, variables).strip() + "\n"
    return ChoicePage(language=language, body=body, wait_label=labels["wait"], cancel_label=labels["cancel"],
                      settled=isinstance(cancel_state, Refund))


def available_languages(override_dir: Path | None = None) -> list[str]:
    """The languages notices can be written in: the shipped ones and any a shop's folder adds, English first."""
    folders = [TEMPLATE_DIR] + ([Path(override_dir)] if override_dir else [])
    found = {path.name for folder in folders if folder.is_dir() for path in folder.iterdir()
             if path.is_dir() and re.fullmatch(r"[a-z]{2,3}", path.name)}
    return sorted(found, key=lambda code: (code != DEFAULT_LANGUAGE, code))


def _has_page(env: SandboxedEnvironment, language: str) -> bool:
    assert env.loader is not None
    for name in (f"{language}/choice_page.html.j2", f"{language}/choice_done.html.j2", f"{language}/_choice_wait.txt.j2",
                 f"{language}/_choice_cancel.txt.j2"):
        try:
            env.loader.get_source(env, name)
        except TemplateNotFound:
            return False
    return True
