"""Turns the platform-neutral records a store reports into the engine's inputs."""

from __future__ import annotations

from collections.abc import Iterable

from connector.engine.types import Order, OrderLine
from connector.platforms.base import RemoteOrder


def order_from_remote(remote: RemoteOrder) -> Order:
    """The engine's view of one synced order (ids and times carried over unchanged)."""
    return Order(
        order_id=remote.platform_id,
        name=remote.name,
        created_at=remote.created_at,
        is_open=remote.is_open,
        lines=tuple(
            OrderLine(line.platform_id, line.sku, line.quantity, line.open_quantity, line.requires_shipping)
            for line in remote.lines
        ),
    )


def orders_from_remote(remotes: Iterable[RemoteOrder]) -> list[Order]:
    """`order_from_remote` over many orders."""
    return [order_from_remote(remote) for remote in remotes]
