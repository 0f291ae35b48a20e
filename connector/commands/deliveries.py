"""`connector deliveries ...` and `connector actions ...`: see and settle dead deliveries, dead actions and stuck notices."""

from __future__ import annotations

from datetime import datetime

import click

from connector.commands.output import print_json, when
from connector.pipeline.inbox import replay
from connector.pipeline.operator import list_actions, list_deliveries, resolve_action
from connector.services import Services


def _services() -> Services:
    return click.get_current_context().obj


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _short(text: str | None, width: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


@click.group("deliveries")
def deliveries_group() -> None:
    """Webhook deliveries stored in the inbox."""


@deliveries_group.command("list")
@click.option("--dead", is_flag=True, help="Only deliveries that failed for good.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of lines.")
def deliveries_list(dead: bool, limit: int, as_json: bool) -> None:
    """List the newest deliveries (id, platform, shop, topic, status, attempts, received, error or note)."""
    with _services().db.session() as session:
        items = list_deliveries(session, dead_only=dead, limit=limit)
        if as_json:
            print_json([
                {"id": i.id, "platform": i.platform, "shop_id": i.shop_id, "shop_domain": i.shop_domain,
                 "topic": i.topic, "status": i.status, "attempts": i.attempts, "received_at": when(i.received_at),
                 "processed_at": when(i.processed_at), "last_error": i.last_error, "note": i.note}
                for i in items
            ])
            return
        if not items:
            click.echo("no dead deliveries" if dead else "no deliveries")
            return
        for item in items:
            detail = item.last_error or item.note or ""
            click.echo(
                f"{item.id}\t{item.platform}\t{item.shop_domain}\t{item.topic}\t{item.status}\t"
                f"{item.attempts}\t{_when(item.received_at)}\t{_short(detail)}"
            )


@deliveries_group.command("replay")
@click.argument("delivery_id", required=False, type=int)
@click.option("--all-dead", is_flag=True, help="Replay every dead delivery.")
def deliveries_replay(delivery_id: int | None, all_dead: bool) -> None:
    """Queue a delivery (or every dead one) to be applied again by the worker."""
    if (delivery_id is None) == (not all_dead):
        raise click.UsageError("give either a delivery ID or --all-dead")
    with _services().db.session() as session:
        count = replay(session, delivery_id=delivery_id, all_dead=all_dead)
    if delivery_id is not None and count == 0:
        raise click.ClickException(f"no delivery {delivery_id}; `connector deliveries list` shows them")
    click.echo(f"queued {count} deliveries for replay")


@click.group("actions")
def actions_group() -> None:
    """Writes and notices queued in the outbox."""


@actions_group.command("list")
@click.option("--stuck", is_flag=True, help="Only notices found `sending` (a worker stopped mid-send).")
@click.option("--dead", is_flag=True, help="Only actions that failed for good.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of lines.")
def actions_list(stuck: bool, dead: bool, limit: int, as_json: bool) -> None:
    """List the newest actions (id, shop, order, kind, status, attempts, created, error)."""
    with _services().db.session() as session:
        actions = list_actions(session, stuck_only=stuck, dead_only=dead, limit=limit)
        if as_json:
            print_json([
                {"id": a.id, "shop_id": a.shop_id, "order_id": a.order_id, "kind": a.kind,
                 "notice": (a.payload or {}).get("notice") if a.kind == "notify" else None, "status": a.status,
                 "attempts": a.attempts, "created_at": when(a.created_at), "started_at": when(a.started_at),
                 "finished_at": when(a.finished_at), "channel": a.channel, "last_error": a.last_error}
                for a in actions
            ])
            return
        if not actions:
            click.echo("no stuck notices" if stuck else "no actions")
            return
        for action in actions:
            since = f"sending since {_when(action.started_at)}" if action.status == "sending" else _when(action.created_at)
            click.echo(
                f"{action.id}\tshop {action.shop_id}\torder {action.order_id}\t{action.kind}\t{action.status}\t"
                f"{action.attempts}\t{since}\t{_short(action.last_error)}"
            )
        if stuck:
            click.echo("settle each with `connector actions resolve ID --sent` (the customer got it) or --retry")


@actions_group.command("resolve")
@click.argument("action_id", type=int)
@click.option("--sent", "outcome", flag_value="sent", help="The customer got the notice: record it as sent.")
@click.option("--retry", "outcome", flag_value="retry", help="Send it again (or re-run a dead action).")
def actions_resolve(action_id: int, outcome: str | None) -> None:
    """Settle a notice found `sending` after a crash, or re-queue a dead action."""
    if outcome is None:
        raise click.UsageError("give --sent or --retry")
    with _services().db.session() as session:
        action = resolve_action(session, action_id, "sent" if outcome == "sent" else "retry")
        status = action.status
    click.echo(f"action {action_id} is now {status}")
