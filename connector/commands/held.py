"""`connector held list|send|discard`: reconciles the notice brake held, and the merchant's answer to each."""

from __future__ import annotations

import click
from sqlalchemy import select

from connector.commands.output import confirm, print_json, when
from connector.pipeline.brake import discard_held, get_held, send_held
from connector.services import Services
from connector.store.models import HeldReconcile, Shop


@click.group("held")
def held_group() -> None:
    """Reconciles held by the notice brake: too many delay notices at once (see NOTICE_BRAKE_*)."""


@held_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also those already sent, discarded or cleared.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of lines.")
@click.pass_obj
def list_command(services: Services, show_all: bool, as_json: bool) -> None:
    """Held reconciles: what each would change and why, newest first."""
    with services.db.session() as session:
        statement = select(HeldReconcile, Shop.name, Shop.domain).join(Shop, Shop.id == HeldReconcile.shop_id)
        if not show_all:
            statement = statement.where(HeldReconcile.status == "held")
        rows = session.execute(statement.order_by(HeldReconcile.id.desc())).all()
        if as_json:
            print_json([
                {"id": held.id, "shop_id": held.shop_id, "shop": name or domain, "status": held.status,
                 "notices": held.notices, "waiting": held.waiting, "orders": held.orders,
                 "created_at": when(held.created_at), "decided_at": when(held.decided_at),
                 "decided_by": held.decided_by, "summary": held.summary}
                for held, name, domain in rows
            ])
            return
        if not rows:
            click.echo("nothing is held" if not show_all else "nothing was ever held")
            return
        for held, name, domain in rows:
            summary = held.summary or {}
            feeds = ", ".join(f"{f['supplier']} ({f['previous_rows'] if f['previous_rows'] is not None else '?'} -> "
                              f"{f['rows']} rows)" for f in summary.get("feeds", [])) or "none"
            skus = ", ".join(s["sku"] for s in summary.get("skus", [])[:10])
            click.echo(f"{held.id}\t{held.status}\tshop {held.shop_id} {name or domain}\t{held.created_at:%Y-%m-%d %H:%M}\t"
                       f"{summary.get('why', '')}; feeds changed: {feeds}; SKUs: {skus or 'none'}")


@held_group.command("send")
@click.argument("held_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts).")
@click.pass_obj
def send_command(services: Services, held_id: int, yes: bool) -> None:
    """Write a held reconcile's changes to the store and send its notices."""
    with services.db.session() as session:
        held = get_held(session, held_id)
        notices = held.notices
    confirm(f"Send held reconcile {held_id}: its store writes and {notices} delay notices", yes)
    outcome = send_held(services, held_id, by="operator (cli)")
    if outcome.sent:
        click.echo(f"held reconcile {held_id} sent: {outcome.queued} actions queued for the worker")
    else:
        newer = f"; held reconcile {outcome.held.id} now shows them" if outcome.held is not None else ""
        click.echo(f"held reconcile {held_id} was not sent: the changes are no longer the ones it showed{newer}")


@held_group.command("discard")
@click.argument("held_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts).")
@click.pass_obj
def discard_command(services: Services, held_id: int, yes: bool) -> None:
    """Drop a held reconcile: nothing of it is written or sent, and the same changes are not held again."""
    confirm(f"Discard held reconcile {held_id}? Its store writes and notices are dropped", yes)
    discard_held(services, held_id, by="operator (cli)")
    click.echo(f"held reconcile {held_id} discarded; fix the feed (or the stock) and the next reconcile "
               "judges the new changes afresh")
