"""The merchant dashboard: backorders, SKUs, supplier feeds, deliveries and actions, behind a login.

`create_app` registers `blueprint` when this package exists. Importing the view modules attaches
their routes to it.
"""

from __future__ import annotations

from connector.web.dashboard import (  # noqa: F401 - routes
    access,
    auth,
    cancels,
    connect,
    feeds,
    formatting,
    health,
    held,
    notices,
    ops,
    orders,
    outcomes,
    reorder,
    skus,
    storefront,
    suppliers,
)
from connector.web.dashboard.access import blueprint
from connector.web.dashboard.auth import hash_password

__all__ = ["blueprint", "hash_password"]
