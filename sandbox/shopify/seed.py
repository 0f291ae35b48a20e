"""The Shopify sandbox's seed file and control-API inputs, validated with pydantic.

Seed format (JSON; keys camelCase, ids plain integers which may exceed 2^53):

    {
      "shop": "backorder-demo.myshopify.com", "shopName": "Demo Outfitters",    # shopName: optional
      "locations": [{"id": 7001, "name": "Main warehouse"}],        # the first one fulfils new orders
      "products": [{
        "id": 8001, "title": "Shirt",
        "variants": [{
          "id": 9001, "sku": "SHIRT-BLUE-M", "title": "Blue / M", "price": "25.00",
          "inventoryItemId": 9007199254740993, "tracked": true, "inventoryPolicy": "CONTINUE",
          "inventoryLevels": [{"locationId": 7001,
                               "quantities": {"available": 3, "committed": 2, "on_hand": 5, "incoming": 0}}]
        }]
      }],
      "orders": [{
        "id": 6001, "name": "#1001", "createdAt": "2026-11-10T09:00:00Z", "updatedAt": "2026-11-10T09:00:00Z",
        "cancelledAt": null, "closed": false, "displayFinancialStatus": "PAID",
        "customer": {"id": 4001, "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "locale": "en"},
        "note": null, "tags": ["vip"],
        "lineItems": [{"id": 5001, "sku": "SHIRT-BLUE-M", "quantity": 2, "unfulfilledQuantity": 2,
                       "requiresShipping": true, "variantId": 9001, "title": "Shirt - Blue / M"}]
      }]
    }

Optional per location: `"fulfillmentService": true` (a 3PL location). Optional per order:
`fulfillmentLocationId` (where its fulfillment order is assigned), `fulfillmentInProgress` (accepted by a
fulfillment service, so no HOLD is offered), `foreignHolds` ([{"handle", "reason", "app"}] placed by other apps).

Missing `on_hand` is derived (sum of every named quantity except `incoming`). A line's `variantId` may be
omitted: it is then looked up by SKU, and a line whose SKU matches no variant has no variant (a custom item).
Fulfillment orders are not in the seed: one is generated per order at the first location, mirroring the
order's lines (remaining = unfulfilled quantity).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class SeedModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class SeedLocation(SeedModel):
    id: int
    name: str
    fulfillment_service: bool = False  # a fulfillment service (3PL) location


class SeedLevel(SeedModel):
    location_id: int
    quantities: dict[str, int] = Field(default_factory=dict)


class SeedVariant(SeedModel):
    id: int
    sku: str | None = None
    title: str = "Default Title"
    price: str = "10.00"
    inventory_item_id: int
    tracked: bool = True
    inventory_policy: Literal["DENY", "CONTINUE"] = "DENY"
    inventory_levels: list[SeedLevel] = Field(default_factory=list)


class SeedProduct(SeedModel):
    id: int
    title: str
    variants: list[SeedVariant]


class SeedCustomer(SeedModel):
    id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    locale: str = "en"


class SeedLine(SeedModel):
    id: int
    sku: str | None = None
    quantity: int = Field(ge=0)
    unfulfilled_quantity: int | None = Field(default=None, ge=0)
    current_quantity: int | None = Field(default=None, ge=0)
    requires_shipping: bool = True
    variant_id: int | None = None
    title: str | None = None
    price: str | None = None  # the unit price paid (default: the variant's price)


class SeedHold(SeedModel):
    """A hold another app placed (it may even use the connector's handle)."""

    handle: str = ""
    reason: str = "OTHER"
    app: str = "other-app"


class SeedOrder(SeedModel):
    id: int
    name: str
    created_at: datetime
    updated_at: datetime | None = None
    cancelled_at: datetime | None = None
    closed: bool = False
    display_financial_status: str = "PAID"
    customer: SeedCustomer | None = None
    email: str | None = None
    note: str | None = None
    tags: list[str] = Field(default_factory=list)
    line_items: list[SeedLine]
    fulfillment_location_id: int | None = None  # where its fulfillment order is assigned (default: the first)
    fulfillment_in_progress: bool = False  # a fulfillment service accepted it: no longer holdable
    foreign_holds: list[SeedHold] = Field(default_factory=list)
    shipping_price: str = "0.00"
    gateway: str = "shopify_payments"  # "manual" cannot refund automatically


class Seed(SeedModel):
    shop: str = "sandbox-shop.myshopify.com"
    shop_name: str | None = None  # the store's display name (`shop { name }`); default: the domain's first label
    locations: list[SeedLocation] = Field(min_length=1)
    products: list[SeedProduct] = Field(default_factory=list)
    orders: list[SeedOrder] = Field(default_factory=list)
    tax_rate: str = "0"  # one tax rate on items and shipping, as a fraction ("0.08")


class NewOrderLine(SeedModel):
    sku: str | None = None
    quantity: int = Field(ge=1)
    requires_shipping: bool = True
    title: str | None = None


class NewOrder(SeedModel):
    """Body of `POST /_sandbox/orders`: an order as a customer would place it."""

    customer: SeedCustomer | None = None
    email: str | None = None
    note: str | None = None
    tags: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    line_items: list[NewOrderLine] = Field(min_length=1)
    shipping_price: str = "0.00"


class StockChange(SeedModel):
    """Body of `POST /_sandbox/inventory`: set named quantities of one SKU at one location (default: first)."""

    sku: str
    location_id: int | None = None
    quantities: dict[str, int] = Field(min_length=1)
