"""`/wp-json/wc/v3/webhooks` routes of the WooCommerce sandbox: list, read, create (with ping), update, delete."""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from flask import Blueprint, Response

from sandbox.woocommerce.context import body_params, current, query_pairs, query_params, require, root
from sandbox.woocommerce.listing import ParamReader, paginate, pagination_headers, read_list_args, sort_records, wp_list
from sandbox.woocommerce.model import WEBHOOK_EVENTS, WEBHOOK_RESOURCES, WEBHOOK_STATUSES, Webhook
from sandbox.woocommerce.present import API_ROOT, webhook_json
from sandbox.woocommerce.rest_errors import WooRestError, invalid_params, json_response

webhooks = Blueprint("woo_webhooks", __name__)

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_SECRET_ALPHABET = string.ascii_letters + string.digits + "!@#$%^&*()-_ []{}<>~`+=,.;:/?|"


def valid_topic(topic: Any) -> bool:
    if not isinstance(topic, str) or "." not in topic:
        return False
    resource, event = topic.split(".", 1)
    if resource == "action":
        return bool(re.fullmatch(r"(woocommerce_|wc_)\w+", event))
    return resource in WEBHOOK_RESOURCES and event in WEBHOOK_EVENTS


def _check_fields(data: dict[str, Any], creating: bool) -> None:
    if "status" in data and data["status"] not in WEBHOOK_STATUSES:
        raise invalid_params({"status": f"status is not one of {wp_list(list(WEBHOOK_STATUSES))}."})
    if (creating or "topic" in data) and not valid_topic(data.get("topic")):
        raise WooRestError("woocommerce_rest_webhook_invalid_topic", "Webhook topic is required and must be valid.", 400)
    if (creating or "delivery_url" in data) and not (isinstance(data.get("delivery_url"), str) and _URL.match(data["delivery_url"])):
        raise WooRestError("woocommerce_rest_webhook_invalid_delivery_url",
                           "Webhook delivery URL must be a valid URL starting with http:// or https://.", 400)


def _hook_or_404(webhook_id: int) -> Webhook:
    hook = current().state.webhooks.get(webhook_id)
    if hook is None:
        raise WooRestError("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
    return hook


@webhooks.get("/webhooks")
def list_webhooks() -> Response:
    reader = ParamReader(query_params())
    args = read_list_args(reader, ("date", "id", "title"))
    status = reader.choice("status", "all", ("all", *WEBHOOK_STATUSES))
    reader.finish()
    require("list")
    state = current().state
    keys = {"id": lambda h: h.id, "date": lambda h: h.date_created_gmt, "title": lambda h: h.name}
    with state.lock:
        hooks = [h for h in state.webhooks.values() if status == "all" or h.status == status]
        page = paginate(sort_records(hooks, args, keys), args)
        body = [webhook_json(state, hook, root()) for hook in page.items]
    response = json_response(body)
    for name, value in pagination_headers(page, args, f"{root()}{API_ROOT}/webhooks", query_pairs()):
        response.headers.add(name, value)
    return response


@webhooks.get("/webhooks/<int:webhook_id>")
def get_webhook(webhook_id: int) -> Response:
    require("view")
    state = current().state
    with state.lock:
        return json_response(webhook_json(state, _hook_or_404(webhook_id), root()))


@webhooks.post("/webhooks")
def create_webhook() -> Response:
    data = body_params()
    who = require("create")
    _check_fields(data, creating=True)
    sandbox = current()
    secret = data.get("secret") or "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(50))
    hook = sandbox.state.create_webhook(
        sandbox.now(),
        name=str(data.get("name") or f"Webhook created on {data['topic']}"),
        topic=str(data["topic"]),
        delivery_url=str(data["delivery_url"]),
        secret=str(secret),
        status=str(data.get("status", "active")),
        user_id=who.user_id,
    )
    # Core pings after saving and keeps the webhook whatever the ping's answer (see the package docs).
    sandbox.dispatcher.ping(hook)
    with sandbox.state.lock:
        body = webhook_json(sandbox.state, hook, root())
    return json_response(body, 201, {"Location": f"{root()}{API_ROOT}/webhooks/{hook.id}"})


@webhooks.route("/webhooks/<int:webhook_id>", methods=["PUT", "PATCH", "POST"])
def update_webhook(webhook_id: int) -> Response:
    data = body_params()
    require("edit")
    _check_fields(data, creating=False)
    sandbox = current()
    with sandbox.state.lock:
        hook = _hook_or_404(webhook_id)
        sandbox.state.update_webhook(hook, sandbox.now(), data)
        return json_response(webhook_json(sandbox.state, hook, root()))


@webhooks.delete("/webhooks/<int:webhook_id>")
def delete_webhook(webhook_id: int) -> Response:
    force = ParamReader(query_params()).boolean("force", False)
    require("delete")
    if not force:
        raise WooRestError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
    state = current().state
    with state.lock:
        hook = _hook_or_404(webhook_id)
        body = webhook_json(state, hook, root())
        del state.webhooks[webhook_id]
    return json_response(body)
