"""Action payloads: what the outbox stores in `actions.payload` (JSON) for each store write, and reading it back.

The planner writes these (`marks_payload_with_sources`, `split_payload`, `hold_for`, `note_text`); the
executor's store writes read them (`marks_from_payload`, `hold_from_payload`, `split_from_payload`).
Notice payloads are `connector.notify.compose`'s.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from connector.engine import LinePlan, OrderPlan
from connector.platforms.base import CancelLine, HoldRequest, LineMark, OrderMarks, ReadySplit, line_entry

NOTE_HEADER = "Backorder connector"


def iso_day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def backordered_lines(plan: OrderPlan) -> list[LinePlan]:
    return [line for line in plan.lines if line.backordered > 0]


def marks_for(plan: OrderPlan) -> OrderMarks:
    return OrderMarks(
        status=plan.status,
        eta=plan.eta,
        lines=tuple(LineMark(line.line_id, line.sku, line.backordered, line.eta, line.eta_earliest, line.eta_latest)
                    for line in backordered_lines(plan)),
        eta_earliest=plan.eta_earliest,
        eta_latest=plan.eta_latest,
    )


def marks_to_payload(marks: OrderMarks) -> dict[str, Any]:
    """The marks as queued; a range appears only while there is one, so without a lateness model the
    payload is exactly what it was before ranges existed."""
    payload: dict[str, Any] = {"status": marks.status, "eta": iso_day(marks.eta), "lines": [line_entry(m) for m in marks.lines]}
    if marks.ranged:
        payload["eta_earliest"], payload["eta_latest"] = iso_day(marks.eta_earliest), iso_day(marks.eta_latest)
    return payload


def marks_from_payload(payload: dict[str, Any]) -> OrderMarks:
    return OrderMarks(
        status=payload["status"],
        eta=_date(payload.get("eta")),
        lines=tuple(
            LineMark(m["line_id"], m["sku"], int(m["backordered"]), _date(m.get("eta")), _date(m.get("eta_earliest")),
                     _date(m.get("eta_latest")))
            for m in payload.get("lines", [])
        ),
        eta_earliest=_date(payload.get("eta_earliest")),
        eta_latest=_date(payload.get("eta_latest")),
    )


def marks_payload_with_sources(plan: OrderPlan) -> dict[str, Any]:
    """The marks payload, each line also saying how its ETA was reached (for the merchant's history;
    the store is written only the fields `marks_from_payload` reads)."""
    payload = marks_to_payload(marks_for(plan))
    sources = {line.line_id: line.eta_source for line in backordered_lines(plan)}
    for line in payload["lines"]:
        line["source"] = sources.get(line["line_id"])
    return payload


def hold_for(plan: OrderPlan) -> HoldRequest:
    lines = backordered_lines(plan)
    unknown = plan.eta is None or any(line.eta is None for line in lines)
    return HoldRequest(
        line_ids=tuple(line.line_id for line in lines),
        reason="UNKNOWN_DELIVERY_DATE" if unknown else "INVENTORY_OUT_OF_STOCK",
        notes="Backordered; released automatically when stock arrives.",
    )


def ready_lines(plan: OrderPlan) -> list[LinePlan]:
    """The lines with units in stock now (of an order that also waits for some)."""
    return [line for line in plan.lines if line.allocated > 0]


def split_payload(plan: OrderPlan) -> dict[str, Any]:
    hold = hold_for(plan)
    return {"ready": [{"line_id": line.line_id, "quantity": line.allocated} for line in ready_lines(plan)],
            "held": [{"line_id": line.line_id, "quantity": line.backordered} for line in backordered_lines(plan)],
            "reason": hold.reason, "notes": hold.notes}


def split_from_payload(payload: dict[str, Any]) -> ReadySplit:
    return ReadySplit(
        ready=tuple(CancelLine(str(p["line_id"]), int(p["quantity"])) for p in payload.get("ready", [])),
        held=tuple(CancelLine(str(p["line_id"]), int(p["quantity"])) for p in payload.get("held", [])),
        reason=payload.get("reason", "INVENTORY_OUT_OF_STOCK"), notes=payload.get("notes", ""))


def hold_from_payload(payload: dict[str, Any]) -> HoldRequest:
    return HoldRequest(line_ids=tuple(payload["line_ids"]), reason=payload["reason"], notes=payload.get("notes", ""))


def note_text(plan: OrderPlan, titles: dict[str, str]) -> str:
    """The merchant's view of the decision, one line per backordered line."""
    lines = backordered_lines(plan)
    if plan.status != "backordered" or not lines:
        return f"{NOTE_HEADER}: no longer backordered; nothing is awaited from suppliers."
    eta = plan.eta.isoformat() if plan.eta else "not known yet"
    rows = [f"{NOTE_HEADER}: backordered, estimated ship date {eta}."]
    for line in lines:
        label = titles.get(line.line_id) or line.sku
        line_eta = line.eta.isoformat() if line.eta else "unknown"
        source = f" ({line.eta_source})" if line.eta_source else ""
        rows.append(f"- {label} [{line.sku}]: {line.backordered} of {line.ordered} backordered, ETA {line_eta}{source}")
    return "\n".join(rows)
