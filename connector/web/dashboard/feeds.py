"""Supplier feeds: what is in force for the shop, refusals and rejected rows with reasons, and the upload form.

GET  /feeds           suppliers for every shop and for this shop: last import, rows and units, rejected
                      rows, the latest refusal (in red) and the recent import history
POST /feeds/upload    multipart: file, supplier, column_map ("supplier column=field, ..."), scope
                      (operators: "shop" or "all"; merchants always "shop"), allow_shrink, csrf_token.
                      Up to MAX_UPLOAD_BYTES; the file is saved under DATA_DIR/uploads and imported in
                      batches. A refused feed (unreadable, no valid row, shrunk past FEED_MAX_SHRINK)
                      shows why in red and leaves the supplier's previous rows in force. A bigger file
                      gets a page saying how to import it instead.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from flask import flash, redirect, request, url_for
from sqlalchemy import or_, select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from connector.errors import InputError
from connector.feeds.importer import import_feed
from connector.feeds.parse import parse_column_map
from connector.pipeline.scheduler import mark_reconcile_for_scope
from connector.store.models import FeedImport, Supplier
from connector.web.context import current_services, error_response
from connector.web.dashboard.access import blueprint, current_shop, no_shop_page, render, viewer

SHOWN_REJECTS = 25
SHOWN_HISTORY = 5
UPLOAD_SUFFIXES = (".csv", ".json")
SUPPLIER_NAME = re.compile(r"^[\w .&'()-]{1,100}$")


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def column_map_from_form(text: str) -> dict[str, str]:
    """`item code=sku, eta=restock_date` (commas or new lines) as {supplier column: canonical field}."""
    pairs = tuple(part.strip() for part in re.split(r"[,\n]", text) if part.strip())
    return parse_column_map(pairs, source="column map")


@blueprint.url_value_preprocessor
def _upload_limit(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # Runs before the blueprint's guard reads the form: feed files may be far bigger than webhooks.
    if endpoint == "dashboard.upload_feed":
        request.max_content_length = current_services().settings.max_upload_bytes


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> tuple[Response | str, int]:
    if request.endpoint != "dashboard.upload_feed":
        return error_response(413, error.name, error.description or error.name)
    limit = current_services().settings.max_upload_bytes
    return render("too_large.html", title="Feed file too large", limit=megabytes(limit),
                  sent=megabytes(request.content_length or 0)), 413


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
        history = {
            supplier.id: list(db.scalars(select(FeedImport).where(FeedImport.supplier_id == supplier.id)
                                         .order_by(FeedImport.id.desc()).limit(SHOWN_HISTORY)))
            for supplier in suppliers
        }
    settings = current_services().settings
    return render("feeds.html", title="Supplier feeds", shop=shop, suppliers=suppliers, history=history,
                  shown_rejects=SHOWN_REJECTS, upload_limit=megabytes(settings.max_upload_bytes),
                  upload_limit_bytes=settings.max_upload_bytes, max_shrink=round(100 * settings.feed_max_shrink))


def _save_upload(data_dir: Path, upload: Any, suffix: str, supplier: str) -> Path:
    folder = data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", supplier.lower()).strip("-") or "feed"
    path = folder / f"{slug}-{uuid.uuid4().hex[:12]}{suffix}"
    upload.save(path)
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
    path = _save_upload(services.settings.data_dir, upload, suffix, supplier)
    try:
        with services.db.session() as db:
            shop = current_shop(db, who)
            if shop is None:
                raise InputError(filename, "there is no shop to import the feed for")
            every_shop = who.is_operator and request.form.get("scope") == "all"
            result = import_feed(db, str(path), supplier, shop_id=None if every_shop else shop.id,
                                 column_map=column_map, force=True,
                                 allow_shrink=request.form.get("allow_shrink") == "yes",
                                 max_shrink=services.settings.feed_max_shrink,
                                 default_lead_days=services.settings.default_lead_time_days)
            if result.status == "imported":
                mark_reconcile_for_scope(db, "all" if every_shop else f"shop:{shop.id}")
    except InputError as error:
        path.unlink(missing_ok=True)
        where = f", line {error.line}" if error.line is not None else ""
        flash(f"{filename}{where}: {error.problem}. The supplier's previous rows stay in force.", "error")
        return back
    if result.refused:
        path.unlink(missing_ok=True)
        where = ", " if (result.reason or "").startswith("line ") else ": "
        flash(f"{filename}{where}{result.reason}. The file was refused whole: {supplier}'s previous rows stay in force "
              f"({result.rows} rows).", "error")
        return back
    rejected = f", {result.rejected_count} rejected (see below)" if result.rejected_count else ""
    flash(f"{filename}: imported {result.rows} rows for {supplier}{rejected}. The next reconcile updates the ETAs.",
          "ok")
    return back
