"""Picks a notice language from an order's locale and writes dates the way that language does."""

from __future__ import annotations

import re
from datetime import date

DEFAULT_LANGUAGE = "en"

_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
}
_MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "de": (
        "Januar", "Februar", "März", "April", "Mai", "Juni",
        "Juli", "August", "September", "Oktober", "November", "Dezember",
    ),
}
_LONG_DATE = {
    "en": "{weekday}, {day} {month} {year}",
    "de": "{weekday}, {day}. {month} {year}",
}

_LANGUAGE_PREFIX = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_]|\s*$)")


def language_code(locale: str | None) -> str | None:
    """The bare language code a locale starts with: "de-DE", "de_AT", "DE" -> "de"; None if unreadable."""
    match = _LANGUAGE_PREFIX.match(locale or "")
    return match.group(1).lower() if match else None


def format_long_date(value: date, language: str) -> str:
    """"Wednesday, 9 December 2026" / "Mittwoch, 9. Dezember 2026"; ISO for languages we have no names for."""
    if language not in _LONG_DATE:
        return value.isoformat()
    return _LONG_DATE[language].format(
        weekday=_WEEKDAYS[language][value.weekday()],
        day=value.day,
        month=_MONTHS[language][value.month - 1],
        year=value.year,
    )


MONTH_NAMES = _MONTHS  # month names per language, January first
