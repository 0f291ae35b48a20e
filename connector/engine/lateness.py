"""Learned supplier lateness: quantiles of (arrival - promised arrival) per supplier and SKU, shrunk by pseudo-counts.

The model (also in the README):

- Every settled delivery is a sample `x = received_on - promised_arrival` in days, weighted by recency,
  `w = 0.5 ** (age_days / half_life_days)`.
- A supplier getting later over time gets a trend: the weighted least-squares slope `b` of `x`
  against the promised date, over deliveries promised at least `TREND_SETTLE_DAYS` ago, kept only when
  it is positive, with `MIN_TREND_SAMPLES` samples and a t-statistic of at least `TREND_T`. Samples are then read at the learning date, `x + b * (as_of - promised)`, and a promise
  further ahead is shifted by `b * (promised - as_of)` more.
- The all-supplier prior P is the weighted distribution of every sample. A supplier's distribution is
  the mixture `(W_s * D_s + k * P) / (W_s + k)`, where `D_s` is its own samples and `W_s` their total
  weight; a SKU's is `(W_j * D_j + k * S) / (W_j + k)` with S the supplier's mixture. With `k = 5`, a
  supplier with five full-weight samples counts half its own and half the prior.
- The q-quantile of a weighted distribution is the smallest sample value whose cumulative weight
  reaches `q` of the total.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

PSEUDO_COUNT = 5.0  # k: how many full-weight samples the parent's figure is worth
HALF_LIFE_DAYS = 45.0
MIN_SKU_SAMPLES = 3  # a SKU gets its own figure from this many deliveries (shrunk toward its supplier)
MIN_TREND_SAMPLES = 8
TREND_T = 2.5
# Deliveries promised this recently are left out of the trend: of those, only the early ones have come
# yet, which would tilt the slope down.
TREND_SETTLE_DAYS = 30
QUANTILES = (0.5, 0.8, 0.9)
DEFAULT_CONFIDENCE = 0.8

Weighted = list[tuple[float, float]]  # (value in days, weight)


@dataclass(frozen=True, slots=True)
class LatenessSample:
    """One delivery: `received_on - promised` is how late it came (negative: early)."""

    supplier: str
    sku: str
    promised: date
    received_on: date
    quantity: int = 1

    @property
    def days(self) -> int:
        return (self.received_on - self.promised).days


@dataclass(frozen=True, slots=True)
class LatenessFigure:
    """Lateness quantiles (days) for a supplier or a (supplier, SKU), with its raw sample count.

    `quantiles` maps a confidence to days late; `at(q)` reads between known points linearly and holds
    the nearest one outside them (a model read from CSV only knows p50, p80 and p90)."""

    samples: int
    quantiles: Mapping[float, float]
    on_time_rate: float | None = None
    trend_per_day: float = 0.0  # days of extra lateness per day of promised date (0: no trend kept)

    def at(self, q: float) -> float:
        if q in self.quantiles:
            return self.quantiles[q]
        points = sorted(self.quantiles.items())
        if not points:
            return 0.0
        if q <= points[0][0]:
            return points[0][1]
        if q >= points[-1][0]:
            return points[-1][1]
        for (low_q, low_v), (high_q, high_v) in zip(points, points[1:], strict=False):
            if low_q <= q <= high_q:
                return low_v + (high_v - low_v) * (q - low_q) / (high_q - low_q)
        return points[-1][1]  # pragma: no cover - the loop always finds the bracket


@dataclass(frozen=True, slots=True)
class LatenessModel:
    """What the engine needs to shift promised arrivals: figures per supplier and per (supplier, SKU)."""

    suppliers: Mapping[str, LatenessFigure] = field(default_factory=dict)
    skus: Mapping[tuple[str, str], LatenessFigure] = field(default_factory=dict)
    prior: LatenessFigure | None = None  # every supplier's deliveries together (for suppliers never seen)
    as_of: date | None = None

    @property
    def empty(self) -> bool:
        return not self.suppliers and not self.skus and self.prior is None

    def figure(self, supplier: str, sku: str) -> LatenessFigure | None:
        """The most specific figure known: the SKU's, else the supplier's, else the prior, else None."""
        return self.skus.get((supplier, sku)) or self.suppliers.get(supplier) or self.prior

    def shift_days(self, supplier: str, sku: str, q: float, promised: date | None = None) -> int:
        """Whole days to add to a promised arrival at confidence `q`: never negative (an early supplier
        does not make an ETA earlier than promised), rounded up."""
        figure = self.figure(supplier, sku)
        if figure is None:
            return 0
        days = figure.at(q)
        if figure.trend_per_day and promised is not None and self.as_of is not None:
            days += figure.trend_per_day * max((promised - self.as_of).days, 0)
        return max(0, math.ceil(days - 1e-9))


def weighted_quantile(points: Weighted, q: float) -> float:
    """The smallest value whose cumulative weight reaches `q` of the total (points need not be sorted)."""
    ordered = sorted(points)
    total = sum(weight for _value, weight in ordered)
    if total <= 0:
        raise ValueError("no weight to take a quantile of")
    threshold = q * total - 1e-9 * total
    running = 0.0
    for value, weight in ordered:
        running += weight
        if running >= threshold:
            return value
    return ordered[-1][0]


def mixture(own: Weighted, parent: Weighted, k: float = PSEUDO_COUNT) -> Weighted:
    """`own` shrunk toward `parent`: the parent's distribution carries the weight of `k` samples."""
    parent_total = sum(weight for _value, weight in parent)
    if not parent or parent_total <= 0:
        return list(own)
    scale = k / parent_total
    return list(own) + [(value, weight * scale) for value, weight in parent]


def recency_weight(age_days: float, half_life_days: float = HALF_LIFE_DAYS) -> float:
    return 0.5 ** (max(age_days, 0.0) / half_life_days) if half_life_days > 0 else 1.0


def trend_slope(points: list[tuple[float, float, float]]) -> float:
    """Weighted least-squares slope of lateness on promised date ((x, y, w) points), or 0 when it is not
    clear: fewer than MIN_TREND_SAMPLES points, no spread of dates, not positive, or t below TREND_T."""
    if len(points) < MIN_TREND_SAMPLES:
        return 0.0
    total = sum(w for _x, _y, w in points)
    mean_x = sum(x * w for x, _y, w in points) / total
    mean_y = sum(y * w for _x, y, w in points) / total
    sxx = sum(w * (x - mean_x) ** 2 for x, _y, w in points)
    if sxx <= 0:
        return 0.0
    slope = sum(w * (x - mean_x) * (y - mean_y) for x, y, w in points) / sxx
    residual = sum(w * (y - mean_y - slope * (x - mean_x)) ** 2 for x, y, w in points)
    # Effective sample size for the weights (Kish), so a few heavy recent points are not over-trusted.
    n_eff = total**2 / sum(w * w for _x, _y, w in points)
    if n_eff <= 3:
        return 0.0
    variance = residual / total * n_eff / (n_eff - 2)
    if variance <= 0:
        return max(slope, 0.0)
    stderr = math.sqrt(variance / (sxx / total * n_eff))
    return slope if slope > 0 and slope / stderr >= TREND_T else 0.0


def _figure(points: Weighted, samples: int, on_time: float | None, trend: float,
            confidences: Iterable[float]) -> LatenessFigure:
    wanted = sorted({*QUANTILES, *confidences})
    return LatenessFigure(samples, {q: weighted_quantile(points, q) for q in wanted}, on_time, trend)


def learn_lateness(
    samples: Iterable[LatenessSample],
    as_of: date,
    *,
    k: float = PSEUDO_COUNT,
    half_life_days: float = HALF_LIFE_DAYS,
    confidences: Iterable[float] = (DEFAULT_CONFIDENCE,),
    trend: bool = True,
) -> LatenessModel:
    """The lateness model from settled deliveries up to `as_of` (later ones are ignored); see the module
    docstring for the formula. No samples give the empty model, which shifts nothing."""
    confidences = tuple(confidences)
    by_supplier: dict[str, list[LatenessSample]] = defaultdict(list)
    for sample in samples:
        if sample.received_on <= as_of:
            by_supplier[sample.supplier].append(sample)
    if not by_supplier:
        return LatenessModel(as_of=as_of)
    today = as_of.toordinal()
    adjusted: dict[str, list[tuple[LatenessSample, float, float]]] = {}  # sample, days at as_of, weight
    slopes: dict[str, float] = {}
    for supplier, found in by_supplier.items():
        weighted = [(s, recency_weight(today - s.received_on.toordinal(), half_life_days)) for s in found]
        settled = today - TREND_SETTLE_DAYS
        slope = trend_slope([(float(s.promised.toordinal() - today), float(s.days), w) for s, w in weighted
                             if s.promised.toordinal() <= settled]) if trend else 0.0
        slopes[supplier] = slope
        adjusted[supplier] = [(s, s.days + slope * (today - s.promised.toordinal()), w) for s, w in weighted]
    prior_points: Weighted = [(value, weight) for rows in adjusted.values() for _s, value, weight in rows]
    total_samples = sum(len(rows) for rows in adjusted.values())
    prior_on_time = sum(1 for rows in adjusted.values() for s, _v, _w in rows if s.days <= 0) / total_samples
    prior = _figure(prior_points, total_samples, prior_on_time, 0.0, confidences)
    suppliers: dict[str, LatenessFigure] = {}
    skus: dict[tuple[str, str], LatenessFigure] = {}
    for supplier, rows in adjusted.items():
        own: Weighted = [(value, weight) for _s, value, weight in rows]
        supplier_points = mixture(own, prior_points, k)
        on_time = sum(1 for s, _v, _w in rows if s.days <= 0) / len(rows)
        suppliers[supplier] = _figure(supplier_points, len(rows), on_time, slopes[supplier], confidences)
        by_sku: dict[str, Weighted] = defaultdict(list)
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for sample, value, weight in rows:
            by_sku[sample.sku].append((value, weight))
            counts[sample.sku][0] += 1
            counts[sample.sku][1] += sample.days <= 0
        for sku, points in by_sku.items():
            count, punctual = counts[sku]
            if count >= MIN_SKU_SAMPLES:
                skus[(supplier, sku)] = _figure(mixture(points, supplier_points, k), count, punctual / count,
                                                slopes[supplier], confidences)
    return LatenessModel(suppliers, skus, prior, as_of)
