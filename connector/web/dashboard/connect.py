"""Connect a WooCommerce store from the dashboard: an operator action, behind the login and a CSRF token.

GET  /connect/woocommerce   the form (store URL; `?store_url=` pre-fills it)
POST /connect/woocommerce   store_url + csrf_token: 303 to the store's wc-auth page, where its owner approves
                            the key; a URL the outbound policy refuses re-renders the form with why (400)
Shopify merchants' sessions (bound to one shop) get 403: installing another store is the operator's call.
"""

from __future__ import annotations

from flask import abort, redirect, request
from werkzeug.wrappers import Response

from connector.errors import InputError
from connector.outbound.addresses import display_url
from connector.web.context import current_services
from connector.web.dashboard.access import blueprint, render, viewer
from connector.web.install_woocommerce import begin_install


def _operator_only() -> None:
    if not viewer().is_operator:
        abort(403, description="only the operator connects stores")


@blueprint.get("/connect/woocommerce")
def connect_woocommerce() -> str:
    _operator_only()
    return render("connect.html", title="Connect a WooCommerce store", store_url=request.args.get("store_url", ""),
                  error=None)


@blueprint.post("/connect/woocommerce")
def connect_woocommerce_start() -> Response | tuple[str, int]:
    _operator_only()
    store_url = (request.form.get("store_url") or "").strip()
    try:
        target = begin_install(current_services(), store_url)
    except InputError as error:
        # Filled in again without any password or query it held: the page must not show a secret.
        return render("connect.html", title="Connect a WooCommerce store", store_url=display_url(store_url),
                      error=error.problem), 400
    return redirect(target, 303)
