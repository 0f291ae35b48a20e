"""Benchmark 8: replay a simulated year and compare reordering at the advised points with "reorder when out".

The year: 200 SKUs with seasonal demand (±40% over the year, peak in late summer) and a surge (20 SKUs
sell three times their rate for 21 days from day 200), daily Poisson orders of one unit each. Three
suppliers with different lateness: "punctual" (always on time, 7-day lead), "drifting" (0 to 14 days
late, uniformly; 10-day lead) and "erratic" (half on time, half 21 days late; 14-day lead). Each SKU
starts with 30 days of stock and 90 days of order history.

Both policies see the same demand and the same supplier behaviour (one seeded random stream per SKU):

- naive: when a SKU's stock is out and nothing is on order, order 30 days of its trailing 30-day rate
  plus the units customers wait for;
- advised: every day, `connector.engine.reorder.advise` over the real demand statistics
  (`engine.demand.demand_stats`, refreshed weekly) and the supplier lateness the connector learns from
  the deliveries so far (`engine.lateness.learn_lateness`); when the position is at or below the
  reorder point (or a backorder is likely), order the suggested quantity.

A unit that cannot be served from stock when it is ordered is backordered (the customer waits for the
next delivery). Reported: backorder rate (backordered units / units ordered), units short, average
stock on hand (what the safety stock costs) and purchase orders placed.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from bench.report import Section
from connector.engine.demand import Sale, demand_stats
from connector.engine.lateness import LatenessSample, learn_lateness
from connector.engine.reorder import AdviceSettings, Arrival, Lateness, SkuPosition, advise

START = date(2026, 1, 1)
DAYS = 365
HISTORY = 90
SKUS = 200
SURGE_SKUS = 20
SURGE_START, SURGE_DAYS, SURGE_FACTOR = 200, 21, 3.0
COVER_DAYS = 30


@dataclass(frozen=True)
class SupplierModel:
    name: str
    lead_days: int

    def lateness(self, rng: random.Random) -> int:
        if self.name == "punctual":
            return 0
        if self.name == "drifting":
            return rng.randint(0, 14)
        return 0 if rng.random() < 0.5 else 21


SUPPLIERS = (SupplierModel("punctual", 7), SupplierModel("drifting", 10), SupplierModel("erratic", 14))


@dataclass
class SkuState:
    sku: str
    base_rate: float
    supplier: SupplierModel
    surge: bool
    on_hand: int
    backlog: int = 0
    pipeline: list[tuple[int, int, int]] = field(default_factory=list)  # (arrival day, promised day, units)
    daily: list[int] = field(default_factory=list)  # units ordered per day, history first


@dataclass
class Outcome:
    units: int = 0
    short: int = 0
    stock_days: float = 0.0
    orders: int = 0
    surge_units: int = 0  # the surging SKUs during their surge
    surge_short: int = 0
    samples: list[LatenessSample] = field(default_factory=list)

    def rate(self) -> float:
        return self.short / self.units if self.units else 0.0


def demand_rate(state: SkuState, day: int) -> float:
    season = 1 + 0.4 * math.sin(2 * math.pi * (day - 130) / 365)
    surge = SURGE_FACTOR if state.surge and SURGE_START <= day < SURGE_START + SURGE_DAYS else 1.0
    return state.base_rate * season * surge


def poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method is fine for the small means here; larger ones use the normal approximation.
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def make_skus(seed: int) -> tuple[list[SkuState], list[list[int]]]:
    """The SKUs and each SKU's demand per simulated day (history and year), drawn once for both policies."""
    rng = random.Random(seed)
    skus: list[SkuState] = []
    demand: list[list[int]] = []
    for index in range(SKUS):
        base = math.exp(rng.uniform(math.log(0.3), math.log(12)))
        state = SkuState(f"SKU-{index:03d}", base, SUPPLIERS[index % 3], surge=index % (SKUS // SURGE_SKUS) == 0,
                         on_hand=0)
        drawn = [poisson(rng, demand_rate(state, day)) for day in range(-HISTORY, DAYS)]
        state.on_hand = math.ceil(base * COVER_DAYS)
        state.daily = drawn[:HISTORY]
        skus.append(state)
        demand.append(drawn[HISTORY:])
    return skus, demand


def _learned(samples: list[LatenessSample], today: date) -> dict[str, Lateness]:
    model = learn_lateness(samples, today, trend=False)
    figures: dict[str, Lateness] = {}
    for supplier in SUPPLIERS:
        figure = model.figure(supplier.name, "")
        if figure is not None:
            figures[supplier.name] = Lateness(figure.at(0.5), figure.at(0.8), figure.at(0.9))
    return figures


def simulate(policy: str, seed: int, settings: AdviceSettings, days: int = DAYS) -> Outcome:
    skus, demand = make_skus(seed)
    rngs = [random.Random(seed * 1000 + index) for index in range(SKUS)]
    outcome = Outcome()
    stats: dict[str, tuple[float, float]] = {}
    lateness: dict[str, Lateness] = {}
    for day in range(days):
        today = START + timedelta(days=day)
        if policy == "advised" and day % 7 == 0:
            for state in skus:
                window = state.daily[-HISTORY:]  # ends yesterday
                sales = [Sale(state.sku, today - timedelta(days=len(window) - offset), units)
                         for offset, units in enumerate(window) if units]
                found = demand_stats(sales, today - timedelta(days=1), skus=[state.sku])[state.sku]
                stats[state.sku] = (found.rate, found.std)
            lateness = _learned(outcome.samples, today)
        for index, state in enumerate(skus):
            arrived = [entry for entry in state.pipeline if entry[0] <= day]
            state.pipeline = [entry for entry in state.pipeline if entry[0] > day]
            for arrival_day, promised_day, units in arrived:
                state.on_hand += units
                outcome.samples.append(LatenessSample(state.supplier.name, state.sku, START + timedelta(days=promised_day),
                                                      START + timedelta(days=arrival_day), 1))
            served = min(state.backlog, state.on_hand)
            state.backlog -= served
            state.on_hand -= served
            wanted = demand[index][day]
            from_stock = min(wanted, state.on_hand)
            state.on_hand -= from_stock
            state.backlog += wanted - from_stock
            outcome.units += wanted
            outcome.short += wanted - from_stock
            if state.surge and SURGE_START <= day < SURGE_START + SURGE_DAYS:
                outcome.surge_units += wanted
                outcome.surge_short += wanted - from_stock
            state.daily.append(wanted)
            outcome.stock_days += state.on_hand
            quantity = 0
            if policy == "naive":
                if state.on_hand == 0 and not state.pipeline:
                    recent = sum(state.daily[-30:]) / 30
                    quantity = math.ceil(max(recent, 0.1) * COVER_DAYS) + state.backlog
            else:
                rate, std = stats[state.sku]
                arrivals = tuple(Arrival(START + timedelta(days=max(promised, day + 1)), units)
                                 for _arrival, promised, units in state.pipeline)
                advice = advise(SkuPosition(state.sku, state.on_hand, state.backlog, arrivals, rate, std,
                                            state.supplier.lead_days, lateness.get(state.supplier.name),
                                            state.supplier.name), today, settings)
                if advice.suggested > 0 and advice.order_by is not None and advice.order_by <= today:
                    quantity = advice.suggested
            if quantity > 0:
                promised = day + state.supplier.lead_days
                state.pipeline.append((promised + state.supplier.lateness(rngs[index]), promised, quantity))
                outcome.orders += 1
    return outcome


def run(days: int = DAYS, seed: int = 20) -> Section:
    section = Section("8. Reorder advice backtest: a simulated year",
                      goal="reordering at the advised points backorders fewer units than reordering when out")
    settings = AdviceSettings(service_level=0.95, cover_days=COVER_DAYS)
    started = time.monotonic()
    naive = simulate("naive", seed, settings, days)
    naive_seconds = time.monotonic() - started
    started = time.monotonic()
    advised = simulate("advised", seed, settings, days)
    advised_seconds = time.monotonic() - started
    section.add("units ordered by customers (both policies)", f"{naive.units:,}")
    section.add("backorder rate: advised (95% service level) vs reorder when out",
                f"{advised.rate():.2%}", f"{naive.rate():.2%}",
                f"{advised.rate() / naive.rate():.2f}×" if naive.rate() else "")
    section.add("units short: advised vs reorder when out", f"{advised.short:,}", f"{naive.short:,}",
                f"{advised.short / naive.short:.2f}×" if naive.short else "")
    section.add("average units on hand per SKU: advised vs reorder when out",
                f"{advised.stock_days / days / SKUS:.1f}", f"{naive.stock_days / days / SKUS:.1f}",
                f"{advised.stock_days / naive.stock_days:.2f}×" if naive.stock_days else "")
    if naive.surge_units:
        section.add("backorder rate of the surging SKUs during the surge: advised vs reorder when out",
                    f"{advised.surge_short / advised.surge_units:.2%}", f"{naive.surge_short / naive.surge_units:.2%}")
    section.add("purchase orders placed: advised vs reorder when out", f"{advised.orders:,}", f"{naive.orders:,}")
    for level in (0.90, 0.99):
        other = simulate("advised", seed, AdviceSettings(service_level=level, cover_days=COVER_DAYS), days)
        section.add(f"backorder rate, advised at {level:.0%} service level", f"{other.rate():.2%}", "",
                    f"avg on hand {other.stock_days / days / SKUS:.1f}")
    section.verdict = "met" if advised.short < naive.short else "not met"
    section.note(f"{SKUS} SKUs over {days} days (seed {seed}): seasonal demand ±40%, {SKUS // 10} SKUs surge ×"
                 f"{SURGE_FACTOR:.0f} for {SURGE_DAYS} days from day {SURGE_START}; suppliers punctual (7-day lead, "
                 "on time), drifting (10-day lead, 0-14 days late), erratic (14-day lead, half 21 days late)")
    section.note("both policies replay the same daily demand and the same supplier lateness draws; the advised "
                 "policy learns lateness only from deliveries it has seen, and demand from the trailing 90 days")
    section.note(f"replay time: reorder when out {naive_seconds:.1f} s, advised {advised_seconds:.1f} s "
                 "(pure engine calls, no database)")
    return section


if __name__ == "__main__":
    print(run().markdown())
