"""Renders a Shopify theme app extension with python-liquid, adding the few Shopify-only tags and filters it uses.

python-liquid is standard Liquid; Shopify's storefront adds tags and filters to it. This module adds
exactly those the backorder ETA block uses, each behaving as Shopify documents it:

- `{% schema %}...{% endschema %}`: outputs nothing; its body must be valid JSON (Shopify refuses the
  block otherwise).
- `t`: looks the key up in the extension's storefront locale file for the request locale (`de-CH` falls
  back to `de`, then to `*.default.json`), interpolates `{{ name }}` from its keyword arguments, and
  answers `Translation missing: <locale>.<key>` for a key no file holds.
- `date`: Ruby `strftime` formats (`%-d`, `%-m`, `%Y`, ...) over dates, date-times, ISO strings, Unix
  seconds and `'now'`/`'today'` (the test's clock); nil gives nil and a string it cannot read comes
  back unchanged, as in Shopify. The locale-aware `format:` form is not used by the block and is refused.

Shopify objects are plain mappings built by `variant_drop` / `product_drop`. A variant's `metafields`
resolve the `$app` reserved prefix the way Shopify does for the app that owns the extension:
`$app:backorder` is the namespace `app--<api client id>--backorder`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from liquid import Environment, FileSystemLoader
from liquid.ast import Node
from liquid.exceptions import LiquidSyntaxError
from liquid.filter import with_environment
from liquid.stream import TokenStream
from liquid.tag import Tag
from liquid.token import TOKEN_EOF, TOKEN_TAG
from liquid.undefined import is_undefined

EXTENSION_DIR = Path(__file__).resolve().parents[2] / "extensions" / "backorder-eta"
APP_CLIENT_ID = "8732614"  # any number: the api client id Shopify would substitute for `$app`
INTERPOLATION = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class SchemaNode(Node):
    __slots__ = ()

    def render_to_output(self, context: Any, buffer: Any) -> int:
        return 0


class SchemaTag(Tag):
    """`{% schema %}` JSON `{% endschema %}`: checked, never rendered."""

    name = "schema"
    end = "endschema"

    def parse(self, stream: TokenStream) -> Node:
        token = stream.eat(TOKEN_TAG)
        body: list[str] = []
        while not (stream.current.kind == TOKEN_TAG and stream.current.value == self.end):
            if stream.current.kind == TOKEN_EOF:
                raise LiquidSyntaxError("schema tag was never closed", token=token)
            body.append(stream.current.value)
            next(stream)
        try:
            json.loads("".join(body))
        except json.JSONDecodeError as error:
            raise LiquidSyntaxError(f"schema is not valid JSON: {error}", token=token) from None
        return SchemaNode(token)


def block_schema(block_file: Path) -> dict[str, Any]:
    """The parsed `{% schema %}` of a block file."""
    match = re.search(r"\{%-?\s*schema\s*-?%\}(.*?)\{%-?\s*endschema\s*-?%\}", block_file.read_text(), re.DOTALL)
    assert match, f"{block_file} has no schema"
    schema: dict[str, Any] = json.loads(match.group(1))
    return schema


class ShopifyEnvironment(Environment):
    """A python-liquid environment for one storefront request: its locale and its clock."""

    def __init__(self, extension_dir: Path, *, locale: str, primary_locale: str, now: datetime,
                 design_mode: bool = False) -> None:
        super().__init__(loader=FileSystemLoader(extension_dir / "snippets", ext=".liquid"))
        self.extension_dir = extension_dir
        self.locale = locale
        self.now = now
        self.translations = load_translations(extension_dir / "locales", locale)
        self.add_tag(SchemaTag)
        self.add_filter("t", translate)
        self.add_filter("date", shopify_date)
        self.globals = {
            "request": {
                "locale": {"iso_code": locale, "primary": locale == primary_locale},
                "design_mode": design_mode,
                "page_type": "product",
            }
        }

    def render_block(self, name: str, **variables: object) -> str:
        source = (self.extension_dir / "blocks" / f"{name}.liquid").read_text(encoding="utf-8")
        return self.from_string(source).render(**variables)


def load_translations(locales_dir: Path, locale: str) -> list[dict[str, Any]]:
    """The storefront locale files to consult, most specific first, ending with the default one."""
    defaults = [p for p in locales_dir.glob("*.default.json") if not p.name.endswith(".schema.json")]
    assert len(defaults) == 1, f"{locales_dir} needs exactly one *.default.json"
    chain: list[Path] = []
    for candidate in (locale, locale.split("-")[0]):
        path = locales_dir / f"{candidate}.json"
        if path.exists() and path not in chain:
            chain.append(path)
    chain.append(defaults[0])
    return [json.loads(path.read_text(encoding="utf-8")) for path in chain]


@with_environment
def translate(key: object, *, environment: ShopifyEnvironment, **variables: object) -> str:
    for translations in environment.translations:
        value: Any = translations
        for part in str(key).split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str):
            return INTERPOLATION.sub(lambda m: _liquid_text(variables.get(m.group(1), "")), value)
    return f"Translation missing: {environment.locale}.{key}"


def _liquid_text(value: object) -> str:
    return "" if value is None or is_undefined(value) else str(value)


@with_environment
def shopify_date(value: object, fmt: object = None, *, environment: ShopifyEnvironment, **options: object) -> object:
    if options:
        raise NotImplementedError(f"date filter options {sorted(options)} are not implemented in the test environment")
    if value is None or is_undefined(value):
        return None
    moment = _to_datetime(value, environment.now)
    if moment is None or fmt is None or is_undefined(fmt) or str(fmt) == "":
        return value
    return moment.strftime(str(fmt))


def _to_datetime(value: object, now: datetime) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=now.tzinfo)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=now.tzinfo or UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("now", "today"):
            return now
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None
    return None


class Metafields(Mapping[str, Mapping[str, object]]):
    """A resource's metafields by namespace; `$app` and `$app:<name>` resolve to the app's reserved namespace."""

    def __init__(self, by_namespace: Mapping[str, Mapping[str, object]]) -> None:
        self._by_namespace = {resolve_namespace(ns): fields for ns, fields in by_namespace.items()}

    def __getitem__(self, namespace: str) -> Mapping[str, object]:
        return self._by_namespace[resolve_namespace(namespace)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_namespace)

    def __len__(self) -> int:
        return len(self._by_namespace)


def resolve_namespace(namespace: str) -> str:
    if namespace == "$app":
        return f"app--{APP_CLIENT_ID}"
    if namespace.startswith("$app:"):
        return f"app--{APP_CLIENT_ID}--{namespace.removeprefix('$app:')}"
    return namespace


def metafield(value: object, type_: str) -> dict[str, object]:
    """A Liquid metafield object: `value` typed as Shopify serves it, `type` the definition's type."""
    return {"value": value, "type": type_}


@dataclass(frozen=True, slots=True)
class VariantStock:
    """What the storefront knows about a variant's stock (Liquid's variant fields)."""

    tracked: bool
    quantity: int
    policy: str  # "CONTINUE" | "DENY", as the Admin API spells it

    @property
    def available(self) -> bool:
        """Shopify's `variant.available`: in stock, or not tracked, or sold when out of stock."""
        return not self.tracked or self.quantity > 0 or self.policy == "CONTINUE"


def variant_drop(variant_id: int, title: str, sku: str | None, stock: VariantStock,
                 backorder_fields: Mapping[str, object] | None = None) -> dict[str, object]:
    """A Liquid `variant`; `backorder_fields` are the connector's metafields in `$app:backorder`."""
    namespaces = {"$app:backorder": dict(backorder_fields)} if backorder_fields else {}
    return {
        "id": variant_id,
        "title": title,
        "sku": sku,
        "available": stock.available,
        "inventory_management": "shopify" if stock.tracked else None,
        "inventory_quantity": stock.quantity,
        "inventory_policy": stock.policy.lower(),
        "metafields": Metafields(namespaces),
    }


def product_drop(product_id: int, title: str, variants: list[dict[str, object]],
                 selected_variant_id: int | None = None) -> dict[str, object]:
    """A Liquid `product`; the selected variant is `selected_variant_id`, else the first available one."""
    selected = next((v for v in variants if v["id"] == selected_variant_id), None)
    first_available = next((v for v in variants if v["available"]), variants[0] if variants else None)
    return {
        "id": product_id,
        "title": title,
        "variants": variants,
        "selected_variant": selected,
        "selected_or_first_available_variant": selected or first_available,
        "metafields": Metafields({}),
    }
