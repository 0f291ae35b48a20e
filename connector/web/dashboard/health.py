"""Banners on every dashboard page: shops whose sync is failing, reconciles the notice brake is holding, paused shops.

Each page's context gets `health_banners`: the failing shops among those the viewer may see (with the
reason, the time of the last good sync and what to do), the held reconciles waiting for the
merchant (with a link to review them), and whether the shop on screen is paused by the operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connector.pipeline.brake import held_for_shops
from connector.pipeline.health import ShopAlert, failing_shops
from connector.store.models import HeldReconcile
from connector.web.context import current_services
from connector.web.dashboard.access import blueprint, current_shop, current_viewer, visible_shops


@dataclass
class Banners:
    failing: list[ShopAlert] = field(default_factory=list)
    held: list[tuple[HeldReconcile, str]] = field(default_factory=list)  # (held reconcile, shop label)
    paused: str | None = None  # label of the shop on screen when it is disabled

    def __bool__(self) -> bool:
        return bool(self.failing or self.held or self.paused)


@blueprint.context_processor
def _banners() -> dict[str, object]:
    who = current_viewer()
    if who is None:
        return {"health_banners": Banners()}
    with current_services().db.session() as db:
        shops = visible_shops(db, who)
        labels = {shop.id: shop.label for shop in shops}
        ids = list(labels)
        shop = current_shop(db, who)
        return {"health_banners": Banners(
            failing=failing_shops(db, ids),
            held=[(held, labels.get(held.shop_id, str(held.shop_id))) for held in held_for_shops(db, ids)],
            paused=shop.label if shop is not None and shop.disabled_at is not None else None,
        )}
