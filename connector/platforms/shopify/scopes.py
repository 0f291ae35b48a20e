"""Which access scopes the connector asks Shopify for, why, and what is skipped when one is not granted.

Scopes are compared with what the store has granted at install and on every sync, never assumed. A
`write_` scope includes its `read_` one; `read_all_orders` is its own scope (orders older than 60 days).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from connector.platforms.base import AccessProblem, AccessReport

READ_ALL_ORDERS = "read_all_orders"
MERCHANT_HOLDS = "write_merchant_managed_fulfillment_orders"
THIRD_PARTY_HOLDS = "write_third_party_fulfillment_orders"
ORDER_WINDOW = timedelta(days=60)
PROTECTED_DATA = "protected_customer_data"
# SHOPIFY_SCOPES' default; `read_all_orders` is added by SHOPIFY_READ_ALL_ORDERS (on by default).
DEFAULT_SCOPES = ("write_orders,read_inventory,write_products,write_merchant_managed_fulfillment_orders,"
                  "write_third_party_fulfillment_orders")

# Every scope the connector may ask for: what it is for, and what is skipped without it.
PURPOSES: dict[str, tuple[str, str]] = {
    "write_orders": ("read orders; write the backordered tag, ETA metafields and the order note; refund and cancel "
                     "the backordered units a customer cancels (refundCreate, orderCancel)",
                     "orders cannot be read, marked or refunded: nothing works"),
    READ_ALL_ORDERS: ("read orders older than 60 days, so a long backorder stays in sync",
                      "orders older than 60 days are out of reach: kept as they were, with no store writes"),
    "read_inventory": ("read stock levels per location", "stock is not read; the last stock read is kept"),
    "read_products": ("read the product variant of each order line, which ties it to stock",
                      "lines cannot be tied to stock"),
    "write_products": ("read the product variant of each order line (which ties it to stock); write the storefront "
                       "ETA metafield on variants", "no storefront ETA on the product page"),
    MERCHANT_HOLDS: ("hold fulfillment orders at the merchant's own locations",
                     "no holds at the merchant's own locations"),
    THIRD_PARTY_HOLDS: ("hold fulfillment orders assigned to a fulfillment service (3PL)",
                        "no holds at fulfillment service (3PL) locations"),
}

PROTECTED_DATA_HELP = (
    "Shopify withholds customers' names and email addresses from this app, so orders are tagged, marked and "
    "held as usual but their customers are not emailed (each notice is recorded as skipped). Request access in "
    "the Partner Dashboard: Apps > this app > API access > Protected customer data access; select protected "
    "customer data and the Name and Email fields (Level 2), give the reason (emailing customers the ETA of "
    "their backordered items), complete the data protection details and submit for review."
)


def requested_scopes(configured: str, *, read_all_orders: bool = True) -> tuple[str, ...]:
    """The scopes to ask for: the configured list, with `read_all_orders` added unless turned off."""
    scopes = [scope.strip() for scope in configured.split(",") if scope.strip()]
    if read_all_orders and READ_ALL_ORDERS not in scopes:
        scopes.append(READ_ALL_ORDERS)
    if not read_all_orders:
        scopes = [scope for scope in scopes if scope != READ_ALL_ORDERS]
    return tuple(dict.fromkeys(scopes))


def parse_scopes(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """A scope list from Shopify's comma-separated `scope` string or a list of handles."""
    if text is None:
        return ()
    parts = text.split(",") if isinstance(text, str) else list(text)
    return tuple(dict.fromkeys(part.strip() for part in parts if part and part.strip()))


def has_scope(granted: Collection[str], scope: str) -> bool:
    if scope in granted:
        return True
    return scope.startswith("read_") and scope != READ_ALL_ORDERS and "write_" + scope[len("read_"):] in granted


def missing_scopes(granted: Collection[str], required: Iterable[str]) -> tuple[str, ...]:
    return tuple(scope for scope in required if not has_scope(granted, scope))


def access_report(granted: Collection[str], required: Iterable[str], *, now: datetime,
                  contact_denied: bool = False) -> AccessReport:
    """What `granted` lets the connector do, given what it asked for."""
    missing = missing_scopes(granted, required)
    problems = []
    for scope in missing:
        purpose, effect = PURPOSES.get(scope, ("", "features that need it are skipped"))
        problems.append(AccessProblem(scope, f"Scope {scope} not granted",
                                      f"Needed to {purpose}. Without it: {effect}." if purpose else f"{effect}."))
    if contact_denied:
        problems.append(AccessProblem(PROTECTED_DATA, "Customer contact details withheld", PROTECTED_DATA_HELP))
    # The window applies whenever the scope is not granted, asked for or not.
    readable_since = None if has_scope(granted, READ_ALL_ORDERS) else now - ORDER_WINDOW
    return AccessReport(granted=tuple(granted), missing=missing, problems=tuple(problems),
                        readable_since=readable_since)
