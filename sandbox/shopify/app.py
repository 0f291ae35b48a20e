"""The Shopify sandbox store as a Flask app: Admin GraphQL with Shopify's token check, cost limits and errors."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from graphql import GraphQLError, OperationType, execute_sync
from graphql.execution.values import get_variable_values

from sandbox.common import FaultPlan, ServerThread
from sandbox.shopify.bulk import BulkRules, BulkRunner
from sandbox.shopify.control import register_control
from sandbox.shopify.cost import MAX_SINGLE_QUERY_COST, CostError, LeakyBucket, query_cost, select_operation
from sandbox.shopify.model import Location
from sandbox.shopify.mutations import MutationRoot
from sandbox.shopify.oauth import STATIC_SCOPES, TokenRegistry, register_oauth
from sandbox.shopify.resolvers import QueryRoot
from sandbox.shopify.schema import admin_schema, check_document
from sandbox.shopify.state import ShopifyState
from sandbox.shopify.views import Views
from sandbox.shopify.webhooks import WebhookDispatcher

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"
API_VERSION = re.compile(r"^(\d{4}-\d{2}|unstable)$")
EXTENSION_KEY = "shopify_sandbox"


@dataclass
class Access:
    """What the store lets apps see beyond their scopes: protected customer data needs Shopify's approval."""

    protected_data: bool = True  # False: names, emails, phones and addresses are withheld (ACCESS_DENIED)


@dataclass
class ShopifySandbox:
    """Everything one running sandbox holds; `app.extensions["shopify_sandbox"]` (see `sandbox_of`)."""

    state: ShopifyState
    bucket: LeakyBucket
    faults: FaultPlan
    tokens: TokenRegistry
    webhooks: WebhookDispatcher
    access: Access = field(default_factory=Access)
    views: Views = field(init=False)
    bulk: BulkRunner = field(init=False)
    _failures: int = 0

    def __post_init__(self) -> None:
        self.views = Views(self.state)
        self.bulk = BulkRunner(self.state, self.views, self.query_root, _bulk_url, BulkRules())
        self.webhooks.access = self.access

    def query_root(self) -> dict[str, Any]:
        return QueryRoot(self.state, self.views, self.bulk).fields()

    def mutation_root(self) -> dict[str, Any]:
        return MutationRoot(self.state, self.views, self.bulk).fields()

    def cost_extension(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                         "throttleStatus": self.bucket.status()}}

    def answer(self, source: str, variables: dict[str, Any] | None, operation_name: str | None,
               context: dict[str, Any]) -> dict[str, Any]:
        """Run one GraphQL request as Shopify would; the caller holds `state.lock`."""
        document, problems = check_document(source)
        if document is None:
            return {"errors": problems, "extensions": self.cost_extension(0, 0)}
        operation = select_operation(document, operation_name)
        if operation is None:
            message = (f"No operation named \"{operation_name}\"" if operation_name
                       else "An operation name is required when the document has several operations")
            return {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
        schema = admin_schema()
        coerced = get_variable_values(schema, operation.variable_definitions or [], variables or {})
        if isinstance(coerced, list):
            return {"errors": [_variable_error(error) for error in coerced]}
        try:
            requested = query_cost(schema, document, operation, coerced)
        except CostError as error:
            return {"errors": [{"message": str(error), "locations": error.locations, "extensions": {"code": error.code}}]}
        ceiling = min(MAX_SINGLE_QUERY_COST, int(self.bucket.size))
        if requested > ceiling:
            return {"errors": [{"message": f"Query cost is {requested}, which exceeds the single query max cost "
                                           f"limit ({ceiling}).", "extensions": {
                "code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": ceiling, "documentation": RATE_LIMIT_DOCS}}],
                    "extensions": self.cost_extension(requested, None)}
        if self.faults.should_throttle():
            self.bucket.drain()
        if not self.bucket.take(requested):
            return {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": RATE_LIMIT_DOCS}}],
                    "extensions": self.cost_extension(requested, None)}
        is_mutation = operation.operation == OperationType.MUTATION
        result = execute_sync(schema, document, root_value=self.mutation_root() if is_mutation else self.query_root(),
                         variable_values=variables or {}, operation_name=operation_name, context_value=context)
        actual = query_cost(schema, document, operation, coerced, result.data or {}) if result.data else 0
        actual = min(actual, requested)
        self.bucket.refund(requested - actual)
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [_execution_error(error) for error in result.errors]
        body["data"] = result.data
        body["extensions"] = self.cost_extension(requested, actual)
        return body


def _bulk_url(base_url: str, op_id: int, partial: bool) -> str:
    return f"{base_url.rstrip('/')}/_sandbox/bulk/{op_id}{'.partial' if partial else ''}.jsonl"


def _variable_error(error: GraphQLError) -> dict[str, Any]:
    match = re.search(r"Variable '\$(\w+)'(?: of (?:required |non-null )?type '([^']+)')?", error.message)
    name, kind = (match[1], match[2]) if match else ("?", None)
    return {"message": f"Variable ${name} of type {kind or 'unknown'} was provided invalid value",
            "locations": [{"line": loc.line, "column": loc.column} for loc in error.locations or []],
            "extensions": {"code": "INVALID_VARIABLE", "problems": [{"path": [], "explanation": error.message}]}}


def _execution_error(error: GraphQLError) -> dict[str, Any]:
    formatted = dict(error.formatted)
    formatted.setdefault("extensions", {"code": "INTERNAL_SERVER_ERROR"})
    return formatted


def sandbox_of(app: Flask) -> ShopifySandbox:
    return app.extensions[EXTENSION_KEY]


def create_app(state: ShopifyState, *, api_secret: str, access_token: str | None = None, webhook_url: str | None = None,
               faults: FaultPlan | None = None, bucket_size: float = 1000, restore_rate: float = 100,
               clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time,
               static_scopes: str = STATIC_SCOPES) -> Flask:
    """A Shopify sandbox app over `state`; `clock` drives the leaky bucket and token expiry, `wall_clock` the
    OAuth redirect timestamp. With no `access_token`, only tokens issued through OAuth are accepted; the
    static token is granted `static_scopes`."""
    faults = faults or FaultPlan()
    sandbox = ShopifySandbox(state, LeakyBucket(bucket_size, restore_rate, clock), faults,
                             TokenRegistry(clock, access_token, static_scopes),
                             WebhookDispatcher(state, api_secret, webhook_url=webhook_url, faults=faults))
    app = Flask("sandbox.shopify")
    app.json.sort_keys = False  # type: ignore[attr-defined]  # GraphQL answers keep the selection's order
    app.extensions[EXTENSION_KEY] = sandbox
    register_oauth(app, sandbox.tokens, state.shop, api_secret, wall_clock)
    register_control(app, sandbox)

    @app.post("/admin/api/<version>/graphql.json")
    def graphql(version: str) -> Any:
        if not API_VERSION.match(version):
            return jsonify({"errors": "Not Found"}), 404
        grant = sandbox.tokens.grant(request.headers.get("X-Shopify-Access-Token"))
        if grant is None:
            return jsonify({"errors": INVALID_TOKEN}), 401
        faults.maybe_sleep()
        if faults.should_fail():
            sandbox._failures += 1
            status = 502 if sandbox._failures % 2 else 503
            response = jsonify({"errors": "Service Unavailable" if status == 503 else "Bad Gateway"})
            if status == 503:
                response.headers["Retry-After"] = "1"
            return response, status
        if request.mimetype == "application/graphql":
            source, variables, operation_name = request.get_data(as_text=True), None, None
        else:
            payload = request.get_json(silent=True)
            if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
                return jsonify({"errors": {"query": "Required parameter missing or invalid"}}), 400
            source, variables, operation_name = payload["query"], payload.get("variables"), payload.get("operationName")
            if variables is not None and not isinstance(variables, dict):
                return jsonify({"errors": {"variables": "must be an object"}}), 400
        context = {"base_url": request.host_url, "api_version": version, "bulk": False, "app": grant.client_id,
                   "scopes": grant.scopes, "protected_denied": not sandbox.access.protected_data}
        with state.lock:
            body = sandbox.answer(source, variables, operation_name, context)
        return jsonify(body)

    @app.get("/_sandbox/bulk/<int:op_id>.jsonl")
    @app.get("/_sandbox/bulk/<int:op_id>.partial.jsonl", endpoint="bulk_partial", defaults={"partial": True})
    def bulk_result(op_id: int, partial: bool = False) -> Any:
        with state.lock:
            op = state.bulk_operations.get(op_id)
            body = sandbox.bulk.result(op, partial) if op is not None else None
        if body is None:
            return jsonify({"errors": "Not Found"}), 404
        return Response(body, mimetype="application/jsonl")

    return app


def run(port: int, seed_path: str | Path | None, *, api_secret: str, access_token: str | None = None,
        webhook_url: str | None = None, host: str = "127.0.0.1", **options: Any) -> ServerThread:
    """Start a sandbox on `host:port` (0 picks a free port) in a daemon thread; `.url` says where it listens."""
    state = (ShopifyState.load_seed(seed_path) if seed_path
             else ShopifyState("sandbox-shop.myshopify.com", [Location(1, "Main warehouse")]))
    app = create_app(state, api_secret=api_secret, access_token=access_token, webhook_url=webhook_url, **options)
    return ServerThread(app, host=host, port=port).start()
