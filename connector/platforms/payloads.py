"""What both platforms' payload parsers share: ids kept as text, UTC times, SKU cleaning, error wording."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ConfigDict, ValidationError

# Platform ids arrive as JSON integers that can exceed 2**53; they are kept as exact strings.
IDS_AS_TEXT = ConfigDict(coerce_numbers_to_str=True)


def describe_validation_error(error: ValidationError, skip: int = 0) -> str:
    """The first problem pydantic found, as `field.path: message` (dropping `skip` leading path parts)."""
    first = error.errors(include_url=False)[0]
    path = ""
    for part in first["loc"][skip:]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = first["msg"]
    return f"{path}: {message}" if path else message


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already (WooCommerce's *_gmt fields)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def clean_sku(sku: str | None) -> str | None:
    """SKUs with surrounding blanks trimmed; an empty SKU is no SKU."""
    if not sku:
        return None
    return sku.strip() or None


def price_of(value: object) -> float | None:
    """A unit price as the store sends it (text or number); None when missing, unreadable or negative."""
    if value is None or isinstance(value, bool):
        return None
    try:
        price = float(str(value).strip())
    except ValueError:
        return None
    return price if price >= 0 and price == price and price != float("inf") else None
