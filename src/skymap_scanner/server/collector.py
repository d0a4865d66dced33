"""Collect fit results: per-pixel best over variations, duplicates/strays, predictive thresholds.

Upstream semantics (``server/collector.py``; ``docs/upstream-behaviour.md`` §9) with the
defects fixed: a NaN (failed) variation never wins (D1) — a pixel whose variations all failed is
excluded from the results and reported; never-sent variations are counted as strays and dropped
(D7); a threshold of exactly 0.1 is accepted (D13).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from skymap_scanner.pixels.types import (
    NSidesDict,
    Pixel,
    RecoPixelFinal,
    RecoPixelVariation,
    SentPixelVariation,
    VariationId,
)

#: upstream config.py: predictive-scanning threshold bounds and collector base thresholds
PST_MIN, PST_MAX = 0.1, 1.0
BASE_THRESHOLDS = tuple(round(0.1 * k, 1) for k in range(1, 11))


class CollectorError(ValueError):
    """Invalid collector settings."""


def nside_thresholds(pst: float, is_last: bool) -> list[float]:
    """Thresholds of one nside: ``[pst] + [b > pst]`` for all but the last nside, ``[1.0]`` for it."""
    if is_last:
        return [1.0]
    return [pst] + [b for b in BASE_THRESHOLDS if b > pst]


@dataclass
class FailedPixel:
    nside: int
    pixel_id: int
    reasons: list[str]


@dataclass
class Collector:
    """Keeps what was sent and what came back; ``collect`` returns newly thresholded nsides."""

    n_posvar: int
    nsides: list[int]
    predictive_scanning_threshold: float = 1.0
    results: NSidesDict = field(default_factory=NSidesDict)
    failed_pixels: list[FailedPixel] = field(default_factory=list)
    n_duplicates: int = 0
    n_strays: int = 0
    #: result messages rejected as malformed (the transport counts unauthenticated ones)
    n_rejected: int = 0
    n_failed_variations: int = 0

    def __post_init__(self) -> None:
        pst = self.predictive_scanning_threshold
        if not PST_MIN <= pst <= PST_MAX:
            raise CollectorError(f"predictive scanning threshold {pst} is outside [{PST_MIN}, {PST_MAX}]")
        self.sent: dict[VariationId, SentPixelVariation] = {}
        self.sent_per_nside: Counter[int] = Counter()
        self.received: set[VariationId] = set()
        self.finished_per_nside: Counter[int] = Counter()
        self._partial: dict[Pixel, list[tuple[RecoPixelVariation | None, str]]] = defaultdict(list)
        self._thresholds = {n: nside_thresholds(pst, n == self.nsides[-1]) for n in self.nsides}
        self._bins: dict[int, int] = dict.fromkeys(self.nsides, 0)
        #: every accepted variation in arrival order (failures with NaN llh) -> checkpoints
        self.log: list[RecoPixelVariation] = []
        self.failure_reasons: dict[int, str] = {}

    # -- sending -----------------------------------------------------------------------------
    def register_sent(self, sent: list[SentPixelVariation]) -> None:
        for s in sent:
            if s.id_tuple not in self.sent:
                self.sent[s.id_tuple] = s
                self.sent_per_nside[s.nside] += 1

    def was_sent(self, pixel: Pixel) -> bool:
        return (pixel[0], pixel[1], 0) in self.sent

    # -- receiving ---------------------------------------------------------------------------
    def collect(self, reco: RecoPixelVariation | None, id_tuple: VariationId,
                reason: str = "") -> int | None:
        """Take one variation result (``reco`` None or NaN llh = failed). Returns the largest
        newly thresholded nside, or None. Duplicates and never-sent variations are dropped."""
        if id_tuple not in self.sent:
            self.n_strays += 1
            return None
        if id_tuple in self.received:
            self.n_duplicates += 1
            return None
        self.received.add(id_tuple)
        if reco is None or not math.isfinite(reco.llh):
            self.n_failed_variations += 1
            self.failure_reasons[len(self.log)] = reason or "llh is not finite"
            self.log.append(RecoPixelVariation(*id_tuple, *([math.nan] * 8)))
            reco = None
        else:
            self.log.append(reco)
        pixel = (id_tuple[0], id_tuple[1])
        cache = self._partial[pixel]
        cache.append((reco, reason or "llh is not finite"))
        if len(cache) == self.n_posvar:
            self._finish(pixel, self._partial.pop(pixel))
        return self._newly_thresholded()

    def _finish(self, pixel: Pixel, cache: list[tuple[RecoPixelVariation | None, str]]) -> None:
        good = [r for r, _ in cache if r is not None]
        self.finished_per_nside[pixel[0]] += 1
        if not good:
            self.failed_pixels.append(FailedPixel(pixel[0], pixel[1], sorted({why for _, why in cache})))
            return
        best = min(good, key=lambda r: r.llh)
        self.results.setdefault(pixel[0], {})[pixel[1]] = RecoPixelFinal.from_variation(best)

    def fraction_done(self, nside: int) -> float:
        sent = self.sent_per_nside[nside]
        return self.finished_per_nside[nside] * self.n_posvar / sent if sent else 0.0

    def _newly_thresholded(self) -> int | None:
        newest = None
        for nside in self.nsides:
            frac = self.fraction_done(nside)
            level = sum(1 for t in self._thresholds[nside] if frac >= t - 1e-12)
            if level > self._bins[nside]:
                newest = nside
            self._bins[nside] = level
        return newest

    # -- state -------------------------------------------------------------------------------
    @property
    def n_sent(self) -> int:
        return len(self.sent)

    @property
    def n_received(self) -> int:
        return len(self.received)

    def collected_all_sent(self) -> bool:
        return self.n_received == self.n_sent and not self._partial

    def outstanding(self) -> list[VariationId]:
        return sorted(set(self.sent) - self.received)
