"""`connector stock advice`: safety stock, reorder points and what to order by when, per SKU (advice only)."""

from __future__ import annotations

from dataclasses import replace

import click
from rich.table import Table
from sqlalchemy import select

from connector.commands.output import console, print_json
from connector.commands.stores import parse_as_of
from connector.errors import InputError
from connector.notify.reasons import ANY_LANGUAGE, REASON_SETTING, override_key, with_text
from connector.engine.reorder import MAX_SERVICE_LEVEL, MIN_SERVICE_LEVEL, Advice, purchase_suggestions
from connector.pipeline.advice import ShopAdvice, advice_settings, advice_to_dict, shop_advice
from connector.services import Services
from connector.store.models import Shop
from connector.store.repo import get_shop


@click.group("stock")
def stock_group() -> None:
    """Stock advice: the connector advises what to reorder; it never places purchase orders."""


def status_text(item: Advice) -> str:
    """The status as the table and the dashboard word it."""
    if item.status == "likely" and item.likely_on is not None:
        return f"backorder likely by {item.likely_on.isoformat()}"
    return "backordered now" if item.status == "backordered" else "ok"


def _table(result: ShopAdvice, shop_name: str) -> Table:
    level = f"{result.settings.service_level:.1%}".replace(".0%", "%")
    table = Table(title=f"{shop_name}: reorder advice at {level} service level, {result.as_of.isoformat()}")
    for column in ("SKU", "status", "supplier", "on hand", "incoming", "open", "demand/day", "safety stock",
                   "reorder point", "suggested", "order by"):
        table.add_column(column, justify="left" if column in ("SKU", "status", "supplier") else "right")
    for item in result.items:
        incoming = f"{item.incoming}+" if item.incoming_unbounded else str(item.incoming)
        table.add_row(item.sku, status_text(item), item.supplier or "-", str(item.on_hand), incoming,
                      str(item.open_demand), f"{item.rate:.2f}", str(item.safety_stock), str(item.reorder_point),
                      str(item.suggested), item.order_by.isoformat() if item.order_by else "-")
    return table


@stock_group.command("advice")
@click.option("--shop", "shop_ref", help="Shop id or domain (default: every active shop).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: per shop, the SKUs and the per-supplier suggestion.")
@click.option("--service-level", type=click.FloatRange(MIN_SERVICE_LEVEL, MAX_SERVICE_LEVEL),
              help="Chance stock lasts until the next order arrives (default SERVICE_LEVEL, 0.95).")
@click.option("--supplier", help="Only the SKUs reordered from this supplier.")
@click.option("--as-of", help="Advice date YYYY-MM-DD (default: today, UTC).")
@click.pass_obj
def advice_command(services: Services, shop_ref: str | None, as_json: bool, service_level: float | None,
                   supplier: str | None, as_of: str | None) -> None:
    """Per SKU: on hand, incoming, demand/day, safety stock, reorder point, suggested quantity and the
    date to order by; SKUs where a backorder is likely come first."""
    day = parse_as_of(as_of)
    settings = services.settings
    documents: list[dict[str, object]] = []
    with services.db.session() as session:
        if shop_ref:
            shops = [get_shop(session, shop_ref)]
        else:
            shops = list(session.scalars(
                select(Shop).where(Shop.active.is_(True), Shop.disabled_at.is_(None)).order_by(Shop.id)))
        for shop in shops:
            chosen = advice_settings(shop, settings.service_level, settings.reorder_cover_days)
            if service_level is not None:
                chosen = replace(chosen, service_level=service_level)
            result = shop_advice(session, shop, day, services.policy, chosen, supplier=supplier)
            if as_json:
                documents.append({
                    "shop_id": shop.id, "shop": shop.name or shop.domain, "as_of": day.isoformat(),
                    "service_level": chosen.service_level, "cover_days": chosen.cover_days,
                    "skus": [advice_to_dict(item) for item in result.items],
                    "purchase": [
                        {"supplier": group.supplier, "skus": group.skus, "units": group.units,
                         "order_by": group.order_by.isoformat() if group.order_by else None,
                         "backorder_likely": group.likely,
                         "lines": [{"sku": line.sku, "suggested_qty": line.suggested} for line in group.lines]}
                        for group in purchase_suggestions(result.items)
                    ],
                })
                continue
            out = console()
            if not result.items:
                click.echo(f"{shop.name or shop.domain}: no SKU sold in the last 90 days or is waited for")
                continue
            out.print(_table(result, shop.name or shop.domain))
            for group in purchase_suggestions(result.items):
                by = group.order_by.isoformat() if group.order_by else "-"
                click.echo(f"  order from {group.supplier or '(no supplier in any feed)'}: {group.units} units "
                           f"of {group.skus} SKUs by {by}")
    if as_json:
        print_json(documents)
    elif not documents and not shops:
        click.echo("no active shop")


@stock_group.command("reason-text")
@click.option("--shop", "shop_ref", required=True, help="Shop id or domain.")
@click.option("--sku", help="The SKU whose notices say TEXT.")
@click.option("--supplier", help="The supplier whose SKUs' notices say TEXT (a SKU's own text wins).")
@click.option("--language", default=ANY_LANGUAGE, show_default=True,
              help="The notice language TEXT is for (en, de), or * for every language.")
@click.option("--clear", is_flag=True, help="Remove the text (for --language) instead of setting one.")
@click.option("--list", "show", is_flag=True, help="Print the shop's texts as JSON.")
@click.argument("text", required=False)
@click.pass_obj
def reason_text_command(services: Services, shop_ref: str, sku: str | None, supplier: str | None, language: str,
                        clear: bool, show: bool, text: str | None) -> None:
    """Say why in your own words: the sentence the notices give for a SKU's or a supplier's backordered
    lines, in place of the built-in reason (see README, Reasons)."""
    with services.db.session() as session:
        shop = get_shop(session, shop_ref)
        texts = shop.setting(REASON_SETTING, None) or {}
        if show:
            print_json(texts)
            return
        if (sku is None) == (supplier is None):
            raise InputError("reason-text", "give exactly one of --sku and --supplier")
        if clear == (text is not None):
            raise InputError("reason-text", "give the TEXT, or --clear to remove it")
        key = override_key("sku", sku) if sku is not None else override_key("supplier", supplier or "")
        try:
            updated = with_text(texts, key, language.strip().lower() or ANY_LANGUAGE, None if clear else text)
        except ValueError as error:
            raise InputError("TEXT", str(error)) from None
        shop.set_setting(REASON_SETTING, updated or None)
    if clear:
        click.echo(f"{key}: the {language} text is removed; notices give the built-in reason")
    else:
        click.echo(f"{key}: new notices for its backordered lines say {text!r} ({language})")
