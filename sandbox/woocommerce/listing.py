"""Collection parameters (validation with WordPress's messages), date windows and pagination headers."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

from sandbox.woocommerce.model import parse_naive, shift_hours
from sandbox.woocommerce.php import PhpValue, as_list
from sandbox.woocommerce.rest_errors import invalid_params

class _HasId(Protocol):
    id: int


T = TypeVar("T", bound=_HasId)
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 10
_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$")
# Parameters a Link header must never repeat back: credentials and signatures.
_PRIVATE_PARAMS = re.compile(r"^(oauth_.*|consumer_key|consumer_secret)$")


def wp_list(words: Sequence[str]) -> str:
    """wp_sprintf's %l: "a", "a and b", "a, b, and c"."""
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + ", and " + words[-1]


@dataclass(slots=True)
class ListArgs:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    offset: int | None = None
    order: str = "desc"
    orderby: str = "date"
    include: list[int] = field(default_factory=list)
    dates_are_gmt: bool = False
    after: datetime | None = None
    before: datetime | None = None
    modified_after: datetime | None = None
    modified_before: datetime | None = None


class ParamReader:
    """Reads WordPress-typed parameters, collecting every problem before failing once, as WP does."""

    def __init__(self, params: dict[str, PhpValue]) -> None:
        self.params = params
        self.problems: dict[str, str] = {}

    def integer(self, name: str, default: int | None, minimum: int | None = None, maximum: int | None = None) -> int | None:
        raw = self.params.get(name)
        if raw is None:
            return default
        if not isinstance(raw, str) or not re.fullmatch(r"-?\d+", raw.strip()):
            self.problems[name] = f"{name} is not of type integer."
            return default
        value = int(raw)
        if minimum is not None and maximum is not None and not minimum <= value <= maximum:
            self.problems[name] = f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)"
        elif minimum is not None and value < minimum:
            self.problems[name] = f"{name} must be greater than or equal to {minimum}"
        return value

    def choice(self, name: str, default: str, choices: Sequence[str]) -> str:
        raw = self.params.get(name)
        if raw is None:
            return default
        if raw not in choices:
            self.problems[name] = f"{name} is not one of {wp_list(list(choices))}."
            return default
        return str(raw)

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.params.get(name)
        if raw is None:
            return default
        lowered = raw.lower() if isinstance(raw, str) else ""
        if lowered in {"true", "1"}:
            return True
        if lowered in {"false", "0", ""}:
            return False
        self.problems[name] = f"{name} is not of type boolean."
        return default

    def date(self, name: str) -> datetime | None:
        raw = self.params.get(name)
        if raw is None:
            return None
        match = _RFC3339.match(raw) if isinstance(raw, str) else None
        if match is None:
            self.problems[name] = "Invalid date."
            return None
        moment = parse_naive(f"{match.group(1)}T{match.group(2)}")
        zone = match.group(3)
        if zone and zone not in {"Z", "z"}:
            # An explicit offset is honoured (strtotime), giving the UTC wall time WordPress compares with.
            aware = datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}{_full_offset(zone)}")
            moment = aware.astimezone(UTC).replace(tzinfo=None)
        return moment

    def id_list(self, name: str) -> list[int]:
        values = as_list(self.params.get(name))
        ids = []
        for index, value in enumerate(values):
            if not value.isdigit():
                self.problems[name] = f"{name}[{index}] is not of type integer."
                return []
            ids.append(int(value))
        return ids

    def enum_list(self, name: str, choices: Sequence[str], default: list[str]) -> list[str]:
        raw = self.params.get(name)
        if raw is None:
            return default
        values = [value.lower() for value in as_list(raw)]
        for index, value in enumerate(values):
            if value not in choices:
                self.problems[name] = f"{name}[{index}] is not one of {wp_list(list(choices))}."
                return default
        return values

    def finish(self) -> None:
        if self.problems:
            raise invalid_params(self.problems)


def _full_offset(zone: str) -> str:
    digits = zone[1:].replace(":", "")
    return f"{zone[0]}{digits[:2]}:{digits[2:4] or '00'}"


def read_list_args(reader: ParamReader, orderby_choices: Sequence[str], default_orderby: str = "date") -> ListArgs:
    args = ListArgs()
    args.page = reader.integer("page", 1, minimum=1) or 1
    args.per_page = reader.integer("per_page", DEFAULT_PER_PAGE, minimum=1, maximum=MAX_PER_PAGE) or DEFAULT_PER_PAGE
    args.offset = reader.integer("offset", None)
    args.order = reader.choice("order", "desc", ("asc", "desc"))
    args.orderby = reader.choice("orderby", default_orderby, orderby_choices)
    args.include = reader.id_list("include")
    args.dates_are_gmt = reader.boolean("dates_are_gmt", False)
    args.after = reader.date("after")
    args.before = reader.date("before")
    args.modified_after = reader.date("modified_after")
    args.modified_before = reader.date("modified_before")
    return args


def in_date_window(args: ListArgs, created_gmt: str, modified_gmt: str, gmt_offset_hours: float) -> bool:
    """The after/before filters: against GMT columns with dates_are_gmt, else site-local ones (exclusive bounds)."""
    if args.dates_are_gmt:
        created, modified = parse_naive(created_gmt), parse_naive(modified_gmt)
    else:
        created = parse_naive(shift_hours(created_gmt, gmt_offset_hours))
        modified = parse_naive(shift_hours(modified_gmt, gmt_offset_hours))
    checks = (
        (args.after, lambda bound: created > bound),
        (args.before, lambda bound: created < bound),
        (args.modified_after, lambda bound: modified > bound),
        (args.modified_before, lambda bound: modified < bound),
    )
    return all(bound is None or test(bound) for bound, test in checks)


def sort_records(records: list[T], args: ListArgs, keys: dict[str, Any]) -> list[T]:
    """Order by the chosen column with the id breaking ties in the same direction."""
    if args.orderby == "include" and args.include:
        position = {record_id: index for index, record_id in enumerate(args.include)}
        return sorted(records, key=lambda record: position.get(record.id, len(position)))
    column = keys.get(args.orderby, keys["id"])
    return sorted(records, key=lambda record: (column(record), record.id), reverse=args.order == "desc")


@dataclass(slots=True)
class PageSlice:
    items: list[Any]
    total: int
    total_pages: int


def paginate(records: list[T], args: ListArgs) -> PageSlice:
    total = len(records)
    start = args.offset if args.offset is not None else (args.page - 1) * args.per_page
    return PageSlice(records[start : start + args.per_page], total, math.ceil(total / args.per_page))


def pagination_headers(page: PageSlice, args: ListArgs, collection_url: str, query_pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """X-WP-Total, X-WP-TotalPages and one Link header per neighbour page, as WooCommerce sends them."""
    headers = [("X-WP-Total", str(page.total)), ("X-WP-TotalPages", str(page.total_pages))]
    kept = [(key, value) for key, value in query_pairs if key != "page" and not _PRIVATE_PARAMS.match(key)]

    def link(number: int) -> str:
        return f"{collection_url}?{urlencode(kept + [('page', str(number))])}"

    if args.page > 1:
        headers.append(("Link", f'<{link(min(args.page - 1, max(page.total_pages, 1)))}>; rel="prev"'))
    if page.total_pages > args.page:
        headers.append(("Link", f'<{link(args.page + 1)}>; rel="next"'))
    return headers
