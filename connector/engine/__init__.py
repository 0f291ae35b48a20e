"""The backorder engine: pure functions that allocate stock FIFO and date backordered lines (no I/O)."""

from connector.engine.availability import VariantAvailability, variant_availability, variant_to_dict
from connector.engine.output import order_plan_to_dict, plan_to_dict, plan_to_json
from connector.engine.planner import is_open_line, make_plan, order_id_key, priority_key
from connector.engine.supply import SupplyEvent, events_from_rows, rows_by_sku, supply_events
from connector.engine.types import (
    IN_STOCK,
    NO_SUPPLY,
    SUPPLY_RUNS_OUT,
    LinePlan,
    Order,
    OrderLine,
    OrderPlan,
    OrderStatus,
    Plan,
    Policy,
    SupplyRow,
)

__all__ = [
    "IN_STOCK",
    "NO_SUPPLY",
    "SUPPLY_RUNS_OUT",
    "LinePlan",
    "Order",
    "OrderLine",
    "OrderPlan",
    "OrderStatus",
    "Plan",
    "Policy",
    "SupplyEvent",
    "SupplyRow",
    "VariantAvailability",
    "is_open_line",
    "make_plan",
    "order_id_key",
    "order_plan_to_dict",
    "plan_to_dict",
    "plan_to_json",
    "priority_key",
    "supply_events",
    "events_from_rows",
    "rows_by_sku",
    "variant_availability",
    "variant_to_dict",
]
