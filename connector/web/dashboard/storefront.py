"""The storefront ETA on the dashboard: what a SKU's variant shows and last pushed, and the shop's on/off and wording.

POST /storefront/settings   turn the shop's storefront ETA on or off and set its sentences (then back to `back`)
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from connector.errors import ConfigError
from connector.pipeline.storefront import SETTING_ON, SETTING_TEXT, SETTING_TEXT_RANGE, check_template, storefront_enabled
from connector.store.models import Shop, StorefrontEta
from connector.web.context import current_services
from connector.web.dashboard.access import blueprint, current_shop, viewer
from connector.web.dashboard.auth import safe_next


def storefront_view(db: Session, shop: Shop, sku: str) -> dict[str, Any]:
    """What the SKU's variant shows on the storefront, what was last pushed and when (for the SKU page)."""
    row = db.scalar(select(StorefrontEta).where(StorefrontEta.shop_id == shop.id, StorefrontEta.sku == sku))
    view: dict[str, Any] = {"enabled": storefront_enabled(shop), "row": row,
                            "text": shop.setting(SETTING_TEXT, None) or "",
                            "range_text": shop.setting(SETTING_TEXT_RANGE, None) or ""}
    if row is not None:
        view["shown"] = row.value or {}
        view["pushed"] = row.pushed_value or {}
    return view


@blueprint.post("/storefront/settings")
def storefront_settings() -> Response:
    who = viewer()
    enabled = request.form.get("enabled") == "on"
    wording = {SETTING_TEXT: request.form.get("text", "").strip(),
               SETTING_TEXT_RANGE: request.form.get("range_text", "").strip()}
    back = safe_next(request.form.get("back"))
    try:
        for key, template in wording.items():
            if template:
                check_template(template, ranged=key == SETTING_TEXT_RANGE)
    except ConfigError as error:
        flash(f"Nothing was changed: the storefront sentence {error.problem}.", "error")
        return redirect(back)
    with current_services().db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            abort(404)
        shop.set_setting(SETTING_ON, enabled)
        for key, template in wording.items():
            shop.set_setting(key, template or None)
    flash("Storefront ETA " + ("on: the next reconcile writes the changed variants." if enabled else
                               "off: nothing more is written (what was written stays until you clear it)."), "ok")
    return redirect(back)
