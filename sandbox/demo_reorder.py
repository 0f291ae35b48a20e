"""The demo's explain-and-prevent steps: why each line waits (as the notices said it), and the reorder advice.

"Reasons" counts the reason of every backordered line and quotes a reason sentence from a notice as it
was sent (the .eml file the Shopify store's customer got). "Reorder advice" runs the same advice as
`connector stock advice` for each store and keeps its table for the summary, likely backorders first.
"""

from __future__ import annotations

from collections import Counter
from email import message_from_bytes
from email.message import Message
from typing import TYPE_CHECKING

from rich.table import Table
from sqlalchemy import select

from connector.commands.stock import status_text
from connector.notify.reasons import REASON_SENTENCES
from connector.pipeline.advice import advice_settings, shop_advice
from connector.store.models import LineDecision, Shop, utcnow

if TYPE_CHECKING:
    from sandbox.demo import DemoRun

TABLE_ROWS = 8


def _text_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def _quoted_sentence(run: DemoRun) -> str:
    """One item line of a sent notice with the reason sentence under it, from the newest .eml that has one."""
    sentences = {text for language in REASON_SENTENCES.values() for text in language.values()}
    files = sorted(run.services.settings.outbox_dir.glob("**/*.eml"), key=lambda path: path.stat().st_mtime,
                   reverse=True)
    for path in files:
        message = message_from_bytes(path.read_bytes())
        lines = _text_part(message).splitlines()
        for index, line in enumerate(lines):
            if index and line.strip() in sentences and lines[index - 1].startswith("- "):
                return f"{message.get('Subject', '')!s} says \"{lines[index - 1][2:]}\" and \"{line.strip()}\""
    return "no notice with a reason was sent"


def explain_reasons(run: DemoRun) -> None:
    with run.services.db.session() as session:
        reasons = Counter(session.scalars(select(LineDecision.reason).where(LineDecision.backordered > 0)))
    counts = ", ".join(f"{code} {count}" for code, count in sorted(reasons.items(), key=lambda item: -item[1]) if code)
    run.step("Reasons", f"backordered lines by reason: {counts or 'none'}; {_quoted_sentence(run)}")


def advise_reorder(run: DemoRun) -> None:
    services = run.services
    parts = []
    today = utcnow().date()
    with services.db.session() as session:
        for shop in session.scalars(select(Shop).order_by(Shop.id)):
            settings = advice_settings(shop, services.settings.service_level, services.settings.reorder_cover_days)
            result = shop_advice(session, shop, today, services.policy, settings)
            likely = [item for item in result.items if item.status == "likely"]
            table = Table(title=f"Reorder advice, {shop.platform} ({len(result.items)} SKUs, "
                                f"first {min(TABLE_ROWS, len(result.items))}; `connector stock advice`)")
            for column in ("SKU", "status", "supplier", "on hand", "incoming", "demand/day", "safety stock",
                           "reorder point", "suggested", "order by"):
                table.add_column(column)
            for item in result.items[:TABLE_ROWS]:
                table.add_row(item.sku, status_text(item), item.supplier or "-", str(item.on_hand), str(item.incoming),
                              f"{item.rate:.2f}", str(item.safety_stock), str(item.reorder_point),
                              str(item.suggested), item.order_by.isoformat() if item.order_by else "-")
            run.tables.append(table)
            parts.append(f"{shop.platform}: {len(likely)} SKU(s) backorder likely "
                         f"({', '.join(f'{item.sku} by {item.likely_on}' for item in likely[:3]) or 'none'})")
    run.step("Reorder advice", "; ".join(parts))
