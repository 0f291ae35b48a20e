"""Supplier feeds: what is in force for the shop, rejected rows with reasons, and a CSV upload form.

GET  /feeds           suppliers for every shop and for this shop: last import, rows, rejected rows
POST /feeds/upload    multipart: file, supplier, column_map ("supplier column=field, ..."), scope
                      (operators: "shop" or "all"; merchants always "shop"), csrf_token.
                      The file is saved under DATA_DIR/uploads and imported whole; a refused file
                      shows why and leaves the supplier's previous rows in force.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from flask import flash, redirect, request, url_for
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from connector.commands.feeds import parse_column_map
from connector.errors import InputError
from connector.feeds.importer import import_feed
from connector.store.models import Supplier
from connector.web.context import current_services
from connector.web.dashboard.access import blueprint, current_shop, no_shop_page, render, viewer

SHOWN_REJECTS = 25
UPLOAD_SUFFIXES = (".csv", ".json")
SUPPLIER_NAME = re.compile(r"^[\w .&'()-]{1,100}$")


def column_map_from_form(text: str) -> dict[str, str]:
    """`item code=sku, eta=restock_date` (commas or new lines) as {supplier column: canonical field}."""
    pairs = tuple(part.strip() for part in re.split(r"[,\n]", text) if part.strip())
    try:
        return parse_column_map(pairs)
    except InputError as error:
        raise InputError("column map", error.problem) from None


@blueprint.get("/feeds")
def feeds() -> str:
    who = viewer()
    with current_services().db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            return no_shop_page()
        suppliers = list(db.scalars(
            select(Supplier)
            .where(or_(Supplier.scope == "all", Supplier.scope == f"shop:{shop.id}"))
            .order_by(Supplier.name, Supplier.scope)
        ))
    return render("feeds.html", title="Supplier feeds", shop=shop, suppliers=suppliers, shown_rejects=SHOWN_REJECTS)


def _save_upload(data_dir: Path, data: bytes, suffix: str, supplier: str) -> Path:
    folder = data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", supplier.lower()).strip("-") or "feed"
    path = folder / f"{slug}-{uuid.uuid4().hex[:12]}{suffix}"
    path.write_bytes(data)
    return path


@blueprint.post("/feeds/upload")
def upload_feed() -> Response:
    who = viewer()
    services = current_services()
    upload = request.files.get("file")
    supplier = (request.form.get("supplier") or "").strip()
    filename = Path(upload.filename or "").name if upload else ""
    suffix = Path(filename).suffix.lower()
    back = redirect(url_for("dashboard.feeds"))
    if upload is None or not filename:
        flash("Choose a CSV file to upload.", "error")
        return back
    if suffix not in UPLOAD_SUFFIXES:
        flash(f"{filename}: only .csv and .json feed files can be uploaded.", "error")
        return back
    if not SUPPLIER_NAME.match(supplier):
        flash("Give the supplier a name (letters, digits, spaces and . & ' ( ) - only, up to 100).", "error")
        return back
    try:
        column_map = column_map_from_form(request.form.get("column_map") or "")
    except InputError as error:
        flash(str(error), "error")
        return back
    path = _save_upload(services.settings.data_dir, upload.read(), suffix, supplier)
    try:
        with services.db.session() as db:
            shop = current_shop(db, who)
            if shop is None:
                raise InputError(filename, "there is no shop to import the feed for")
            every_shop = who.is_operator and request.form.get("scope") == "all"
            result = import_feed(db, str(path), supplier, shop_id=None if every_shop else shop.id,
                                 column_map=column_map, force=True)
    except InputError as error:
        path.unlink(missing_ok=True)
        where = f", line {error.line}" if error.line is not None else ""
        flash(f"{filename}{where}: {error.problem}. The supplier's previous rows stay in force.", "error")
        return back
    rejected = f", {len(result.rejected)} rejected (see below)" if result.rejected else ""
    flash(f"{filename}: imported {result.rows} rows for {supplier}{rejected}. Reconcile to update ETAs.", "ok")
    return back
