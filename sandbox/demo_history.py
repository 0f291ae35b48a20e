"""The demo's supplier history: past promises and late receipts, so the model learns and notices give a range.

Before the first feed import each store's supplier gets six past deliveries of its restocked SKUs,
promised 90 days ago and received 0 to 14 days late, through the real feed import and
`connector supplies receive` code. The learned lateness then shifts the ETAs and spreads p50 to p90
wide enough for "expected between ... and ..." in the notices. The scorecard is printed at the end.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from rich.table import Table

from connector.feeds.importer import import_feed
from connector.feeds.promises import receive
from connector.feeds.receipts import parse_receipts
from connector.pipeline.suppliers import scorecards
from connector.store.models import utcnow

if TYPE_CHECKING:
    from sandbox.demo import DemoRun

LATE_DAYS = (0, 3, 6, 9, 12, 14)


def seed_history(run: DemoRun) -> str:
    """Past deliveries for each store's supplier; returns the step's detail."""
    from sandbox.demo import EXAMPLES

    now = datetime.now(UTC)
    promised = (now - timedelta(days=90)).date()
    told = []
    for platform, shop_id in sorted(run.shop_ids.items()):
        with (EXAMPLES / "feeds" / f"{platform}_supplier.csv").open(newline="") as handle:
            skus = [row["sku"] for row in csv.DictReader(handle) if row.get("restock_date")][:len(LATE_DAYS)]
        name = f"{platform}-supplier"
        past = run.services.settings.data_dir / "feeds" / f"{platform}_history.csv"
        past.write_text("sku,restock_date,restock_qty,lead_time_days,reference\n"
                        + "".join(f"{sku},{promised},5,0,PO-{n}\n" for n, sku in enumerate(skus)))
        receipts = "supplier,sku,quantity,received_on,reference\n" + "".join(
            f"{name},{sku},5,{promised + timedelta(days=late)},PO-{n}\n"
            for n, (sku, late) in enumerate(zip(skus, LATE_DAYS, strict=False)))
        with run.services.db.session() as session:
            import_feed(session, str(past), name, shop_id=shop_id, now=now - timedelta(days=95))
            result = receive(session, parse_receipts(receipts.encode(), "receipts.csv").receipts)
        told.append(f"{name}: {result.promises_closed} past deliveries, 0 to {max(LATE_DAYS)} days late")
    return "; ".join(told)


def scorecard_table(run: DemoRun) -> tuple[Table, int]:
    """The suppliers' scorecard, as `connector suppliers list` prints it, and how many are late at p80."""
    with run.services.db.session() as session:
        cards, _model = scorecards(session, utcnow().date(), run.services.settings.eta_confidence)
    table = Table("supplier", "deliveries", "on time", "p50", "p80", "p90", "open promises", "backordered waiting",
                  title="Supplier scorecard (lateness in days)")
    for card in cards:
        table.add_row(card.supplier, str(card.deliveries),
                      "-" if card.on_time_rate is None else f"{100 * card.on_time_rate:.0f}%",
                      *("-" if value is None else f"{value:g}" for value in (card.p50_days, card.p80_days, card.p90_days)),
                      str(card.open_promises), str(card.backordered_waiting))
    return table, sum(1 for card in cards if (card.p80_days or 0) > 0)


def range_notices(run: DemoRun) -> tuple[int, str]:
    """How many sent .eml notices give a range, and one such item line as the customer read it."""
    from email import message_from_bytes

    from sandbox.demo_reorder import _text_part

    found, quoted = 0, ""
    for path in sorted((run.services.settings.data_dir / "outbox").glob("*.eml")):
        text = _text_part(message_from_bytes(path.read_bytes()))
        lines = [line.strip() for line in text.splitlines() if "expected between" in line]
        if lines:
            found += 1
            quoted = quoted or lines[0]
    return found, quoted
