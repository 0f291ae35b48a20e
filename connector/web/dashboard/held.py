"""Reconciles held by the notice brake: what would change and why, with Send and Discard.

GET  /held/<id>            the held reconcile: why it was held, the feeds imported since the last push,
                           per SKU the ETA and its source before and after, and the orders it would change
POST /held/<id>/send       queue its store writes and notices (only if the changes are still the ones shown)
POST /held/<id>/discard    drop it: nothing is written or sent, and the same changes are not held again
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from werkzeug.wrappers import Response

from connector.errors import InputError
from connector.pipeline.brake import discard_held, send_held
from connector.store.models import HeldReconcile, Shop
from connector.web.context import current_services
from connector.web.dashboard.access import Viewer, blueprint, render, require_visible, viewer


def _who(who: Viewer) -> str:
    return "operator (dashboard)" if who.is_operator else "merchant (dashboard)"


def _visible(held_id: int) -> tuple[HeldReconcile, str]:
    who = viewer()
    with current_services().db.session() as db:
        held = db.get(HeldReconcile, held_id)
        if held is None:
            abort(404)
        require_visible(who, held.shop_id)
        shop = db.get(Shop, held.shop_id)
        return held, shop.label if shop else str(held.shop_id)


@blueprint.get("/held/<int:held_id>")
def held_detail(held_id: int) -> str:
    held, label = _visible(held_id)
    return render("held.html", title="Held reconcile", held=held, shop_label=label, summary=held.summary or {})


@blueprint.post("/held/<int:held_id>/send")
def held_send(held_id: int) -> Response:
    who = viewer()
    _visible(held_id)
    try:
        outcome = send_held(current_services(), held_id, by=_who(who))
    except InputError as error:
        flash(str(error), "error")
        return redirect(url_for("dashboard.held_detail", held_id=held_id))
    if outcome.sent:
        flash(f"Sent: {outcome.queued} store writes and notices are queued; a worker carries them out within moments.",
              "ok")
        return redirect(url_for("dashboard.orders"))
    flash("Not sent: the changes are no longer the ones shown (something changed since). Review them again.", "error")
    if outcome.held is not None:
        return redirect(url_for("dashboard.held_detail", held_id=outcome.held.id))
    return redirect(url_for("dashboard.orders"))


@blueprint.post("/held/<int:held_id>/discard")
def held_discard(held_id: int) -> Response:
    who = viewer()
    _visible(held_id)
    try:
        discard_held(current_services(), held_id, by=_who(who))
    except InputError as error:
        flash(str(error), "error")
        return redirect(url_for("dashboard.held_detail", held_id=held_id))
    flash("Discarded: nothing of it is written or sent. Fix the feed (or the stock); the next reconcile judges new "
          "changes afresh.", "ok")
    return redirect(url_for("dashboard.feeds"))
