"""`/wp-json/wc-backorder-eta/v1/variations/batch` of the WooCommerce sandbox: the Backorder ETA plugin's route.

It writes the plugin's four meta keys on variations of any parents, at most 100 per request, answering in
core's batch shape, with the plugin's codes and messages (extensions/woocommerce-backorder-eta/includes/
class-backorder-eta-rest.php). The plugin's per-variation `edit_post` check has no counterpart: sandbox keys
belong to one all-powerful user. A
store seeded with `backorder_eta_plugin: false` does not have the plugin: the route is then WordPress's
404 `rest_no_route`, and the REST index does not list the namespace.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Blueprint, Response

from sandbox.woocommerce.context import body_params, current, require, root
from sandbox.woocommerce.present import variation_json
from sandbox.woocommerce.rest_errors import WooRestError, json_response, no_route

NAMESPACE = "wc-backorder-eta/v1"
BATCH_LIMIT = 100
DATE_KEYS = ("_backorder_eta", "_backorder_eta_earliest", "_backorder_eta_latest")
TEXT_KEY = "_backorder_eta_text"
KEYS = (*DATE_KEYS, TEXT_KEY)

plugin = Blueprint("woo_eta_plugin", __name__)


def _is_date(value: Any) -> bool:
    if value == "":
        return True
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _checked_meta(item: dict[str, Any]) -> list[dict[str, Any]]:
    meta = item.get("meta_data")
    if not isinstance(meta, list) or any(not isinstance(entry, dict) for entry in meta):
        raise WooRestError("backorder_eta_rest_invalid_meta_key", 'Each item needs a "meta_data" list of keys and values.', 400)
    for entry in meta:
        key, value = entry.get("key"), entry.get("value")
        if key not in KEYS:
            raise WooRestError("backorder_eta_rest_invalid_meta_key",
                               f"Only these meta keys can be written here: {', '.join(KEYS)}.", 400)
        if key in DATE_KEYS and not _is_date(value):
            raise WooRestError("backorder_eta_rest_invalid_date", f"The value of {key} must be a date (YYYY-MM-DD) or empty.", 400)
        if key == TEXT_KEY and not isinstance(value, str):
            raise WooRestError("backorder_eta_rest_invalid_meta_key", f"The value of {key} must be a string.", 400)
    return [{"key": entry["key"], "value": entry["value"]} for entry in meta]



@plugin.route("/variations/batch", methods=["POST", "PUT", "PATCH"])
def batch_variation_etas() -> Response:
    sandbox = current()
    state = sandbox.state
    if not state.backorder_eta_plugin:
        raise no_route()
    data = body_params()
    require("batch")
    updates = data.get("update")
    if not isinstance(updates, list):
        raise WooRestError("backorder_eta_rest_invalid_body", 'The body must be a JSON object with an "update" list.', 400)
    if len(updates) > BATCH_LIMIT:
        raise WooRestError("backorder_eta_rest_too_many_items",
                           f"Unable to accept more than {BATCH_LIMIT} items for this request.", 413)
    answered = []
    for item in updates:
        item_id = item.get("id") if isinstance(item, dict) else None
        try:
            with state.lock:
                variation = state.variations.get(item_id) if isinstance(item_id, int) else None
                if variation is None or not isinstance(item, dict):
                    raise WooRestError("backorder_eta_rest_invalid_variation", "No product variation has this ID.", 404)
                state.update_catalog_meta(variation, _checked_meta(item), sandbox.now())
                body = variation_json(state, variation, root())
            stored = {entry["key"]: entry["value"] for entry in body.get("meta_data", []) if entry.get("key") in KEYS}
            answered.append({"id": variation.id, "parent_id": variation.parent_id,
                             "meta_data": [{"key": key, "value": stored.get(key, "")} for key in KEYS]})
        except WooRestError as error:
            answered.append(error.batch_entry(item_id))
    return json_response({"update": answered})
