"""OnlineL2 pulse cleaning ("CleanedMuonPulsesIC"; i3-format.md §11, upstream-behaviour §16.2).

SeededRT (HLC core seed, 150 m / 1000 ns, 3 growth iterations) → the 6000 ns time window holding
the most pulses → DeepCore strings removed. On the sample alerts this reproduces IceTray's masks
pulse for pulse and the alert's ``npulses``, ``nch`` and ``qtot`` exactly.

Algorithm and complexity (N pulses on D hit DOMs, k = hit DOMs within the RT radius of a DOM,
itself included; E = D·k DOM pairs). Two pulses are *RT-linked* when their DOMs lie within
``RT_RADIUS`` (squared distance summed in double precision, ≤) and their times differ by less
than ``RT_TIME`` (the later time < the earlier time + ``RT_TIME``, as computed in float64); two
pulses on one DOM can be linked, a pulse is never linked to itself. All pulse pairs are never
built:

1. DOM pairs within the radius from a uniform grid of cells slightly wider than the radius (only
   the 27 neighbouring cells are candidates): O(D·k) time and memory (:func:`dom_pairs_within`).
2. Pulses sorted by (DOM, time); times and times + ``RT_TIME`` are replaced by their ranks among
   both, so the pulses of DOM b linked to pulse p are one index interval of that order, found by
   two binary searches on integer keys (DOM, rank): O(N log N).
3. Every query (pulse, neighbour DOM) gives the number of flagged pulses in its interval from a
   prefix sum: HLC core (HLC partners on ≥ 2 distinct DOMs, own DOM included) and each growth
   iteration are O(N·k·log N) time; queries go in blocks of ``_QUERY_BLOCK``, so the memory is
   O(N + E) (:class:`RTLinks`).
4. The best time window: one sort and one binary search per pulse, O(N log N).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from skymap_scanner.event.model import Geometry, Pulses

# Parameters of icecube/skymap_scanner recos/splinempe.py (copied there from IceTray's OnlineL2
# filter scripts); semantics of STTools seededRT and DomTools I3TimeWindowCleaning.
RT_RADIUS = 150.0  # m, DOM distance for an RT link (≤)
RT_TIME = 1000.0  # ns, time difference for an RT link (<)
RT_ITERATIONS = 3  # growth iterations
TIME_WINDOW = 6000.0  # ns, I3TimeWindowCleaning window length
DEEPCORE_FIRST_STRING = 79  # strings 79-86 are DeepCore (removed for CleanedMuonPulsesIC)

_QUERY_BLOCK = 1 << 18  # (pulse, neighbour DOM) queries per vectorised block: bounds the memory
_CELL_MARGIN = 1.01  # grid cell = radius × this, so rounding never hides a pair within the radius


@dataclass(frozen=True)
class CleaningResult:
    """Boolean masks over the input pulses after each step, and the cleaned pulses' summary."""

    seeded_rt: np.ndarray
    time_window: np.ndarray
    cleaned: np.ndarray
    npulses: int
    nch: int
    qtot: float


def pulse_summary(pulses: Pulses) -> tuple[int, int, float]:
    """(number of pulses, number of hit DOMs, total charge [PE] summed in double precision)."""
    return len(pulses), pulses.n_channels, float(np.sum(pulses.charge, dtype=np.float64))


def dom_pairs_within(position: np.ndarray, radius: float = RT_RADIUS) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs (a, b) of rows of ``position`` (D, 3) [m] with squared distance
    ≤ ``radius``² [m²], a = b included, sorted by (a, b). O(D·k) time and memory via a grid of
    cubic cells of side ``radius × 1.01``: points within the radius lie in neighbouring cells."""
    position = np.asarray(position, np.float64)
    finite = np.flatnonzero(np.isfinite(position).all(axis=1))  # NaN or inf: within no radius
    if len(finite) < len(position):
        a, b = dom_pairs_within(position[finite], radius)
        return finite[a], finite[b]
    n = len(position)
    if not n:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    cell = np.floor(position / (radius * _CELL_MARGIN)).astype(np.int64)
    cell -= cell.min(axis=0) - 1  # ≥ 1, so the neighbours' cells (±1) stay inside the grid
    ny, nz = cell[:, 1].max() + 2, cell[:, 2].max() + 2
    key = (cell[:, 0] * ny + cell[:, 1]) * nz + cell[:, 2]
    by_key = np.argsort(key, kind="stable")
    sorted_key = key[by_key]
    first, second = [], []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            for dz in (-1, 0, 1):
                target = key + (dx * ny + dy) * nz + dz
                lo = np.searchsorted(sorted_key, target, side="left")
                count = np.searchsorted(sorted_key, target, side="right") - lo
                a = np.repeat(np.arange(n), count)
                start = np.cumsum(count) - count
                first.append(a)
                second.append(by_key[np.repeat(lo - start, count) + np.arange(len(a))])
    a, b = np.concatenate(first), np.concatenate(second)
    near = np.sum((position[a] - position[b]) ** 2, axis=1) <= radius**2
    a, b = a[near], b[near]
    order = np.lexsort((b, a))
    return a[order], b[order]


class RTLinks:
    """The RT-link relation of a set of pulses, as index intervals (nothing quadratic stored).

    time [ns], position (N, 3) [m] of each pulse's DOM (one position per DOM), dom (any per-DOM
    id). Pulses with equal ``dom`` are one DOM. Memory O(N + DOM pairs within ``radius``).
    """

    def __init__(self, time: np.ndarray, position: np.ndarray, dom: np.ndarray,
                 radius: float = RT_RADIUS, max_dt: float = RT_TIME) -> None:
        time = np.asarray(time, np.float64)
        _, first, dom_index = np.unique(np.asarray(dom), return_index=True, return_inverse=True)
        dom_index = dom_index.ravel()
        a, b = dom_pairs_within(np.asarray(position, np.float64).reshape(-1, 3)[first], radius)
        self._nb_ptr = np.r_[0, np.cumsum(np.bincount(a, minlength=len(first)))]
        self._nb_dom = b
        self.order = np.lexsort((time, dom_index))  # pulses sorted by (DOM, time)
        t = time[self.order]
        t_end = t + max_dt
        values = np.unique(np.r_[t, t_end])  # ranks keep every comparison of t and t + max_dt
        self._width = len(values)
        self._dom = dom_index[self.order]
        self._rank = np.searchsorted(values, t)
        self._rank_end = np.searchsorted(values, t_end)
        segment = self._dom.astype(np.int64) * self._width
        self._key = segment + self._rank  # sorted: by DOM, then time
        self._key_end = segment + self._rank_end  # sorted too (t + max_dt is monotonic in t)
        self._self_linked = t_end > t  # a pulse lies in its own DOM's interval
        self._n_neighbours = np.diff(self._nb_ptr)[self._dom]

    def __len__(self) -> int:
        return len(self.order)

    def _blocks(self) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Blocks of queries: (start, stop, pulse, neighbour DOM, lo, hi) for the sorted pulses
        start ≤ pulse < stop and each of their neighbour DOMs; the pulses of the neighbour DOM
        RT-linked to the pulse (itself included if on that DOM) are sorted indices lo ≤ i < hi."""
        total = np.cumsum(self._n_neighbours)
        start = 0
        while start < len(self):
            done = total[start - 1] if start else 0
            stop = max(int(np.searchsorted(total, done + _QUERY_BLOCK, side="right")), start + 1)
            count = self._n_neighbours[start:stop]
            pulse = np.repeat(np.arange(start, stop), count)
            within = np.arange(len(pulse)) - np.repeat(np.cumsum(count) - count, count)
            other = self._nb_dom[self._nb_ptr[self._dom[pulse]] + within]
            segment = other.astype(np.int64) * self._width
            # linked: t_other + max_dt > t_pulse and t_other < t_pulse + max_dt
            lo = np.searchsorted(self._key_end, segment + self._rank[pulse], side="right")
            hi = np.searchsorted(self._key, segment + self._rank_end[pulse], side="left")
            yield start, stop, pulse, other, lo, np.maximum(hi, lo)
            start = stop

    def _reduce(self, flagged: np.ndarray, per_dom: bool) -> np.ndarray:
        """Per pulse (input order), the number of flagged pulses RT-linked to it, or (``per_dom``)
        the number of distinct DOMs holding one."""
        flagged_sorted = np.asarray(flagged, bool)[self.order]
        prefix = np.r_[0, np.cumsum(flagged_sorted)]
        own = flagged_sorted & self._self_linked
        out = np.zeros(len(self), np.int64)
        for start, stop, pulse, other, lo, hi in self._blocks():
            n = prefix[hi] - prefix[lo] - (own[pulse] & (other == self._dom[pulse]))
            weight = n > 0 if per_dom else n
            out[start:stop] += np.bincount(pulse - start, weight, minlength=stop - start).astype(np.int64)
        result = np.empty_like(out)
        result[self.order] = out
        return result

    def count_linked(self, flagged: np.ndarray) -> np.ndarray:
        """Per pulse (input order), the number of ``flagged`` pulses RT-linked to it."""
        return self._reduce(flagged, per_dom=False)

    def count_partner_doms(self, flagged: np.ndarray) -> np.ndarray:
        """Per pulse (input order), the number of distinct DOMs holding a ``flagged`` pulse
        RT-linked to it (its own DOM included when another flagged pulse there is linked)."""
        return self._reduce(flagged, per_dom=True)


def seeded_rt(time: np.ndarray, position: np.ndarray, hlc: np.ndarray, dom: np.ndarray,
              iterations: int = RT_ITERATIONS) -> np.ndarray:
    """SeededRT with HLC core seeds: boolean mask of the selected pulses.

    time [ns], position (N, 3) [m] of each pulse's DOM, hlc (bool), dom (any per-DOM id). Seeds:
    HLC pulses RT-linked to HLC pulses on at least 2 distinct DOMs (HLCCoreHits). Each iteration
    adds every pulse RT-linked to a pulse selected before it.
    """
    links = RTLinks(time, position, dom)
    hlc = np.asarray(hlc, bool)
    selected = hlc & (links.count_partner_doms(hlc) >= 2)
    for _ in range(iterations):
        grown = selected | (links.count_linked(selected) > 0)
        if np.array_equal(grown, selected):
            break
        selected = grown
    return selected


def best_time_window(time: np.ndarray, keep: np.ndarray, width: float = TIME_WINDOW) -> np.ndarray:
    """Of the ``keep`` pulses, those in the window [t_s, t_s + width] [ns] (t_s a pulse time)
    holding the most pulses; the earliest such window wins."""
    idx = np.flatnonzero(keep)
    out = np.zeros(len(time), bool)
    if not len(idx):
        return out
    idx = idx[np.argsort(time[idx], kind="stable")]
    t = time[idx]
    counts = np.searchsorted(t, t + width, side="right") - np.arange(len(t))
    start = int(np.argmax(counts))
    out[idx[start : start + counts[start]]] = True
    return out


def _positions(geometry: Geometry, pulses: Pulses) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) DOM positions [m] of the pulses and a mask of those whose DOM has one."""
    keys = geometry.keys()
    want = pulses.dom_keys()
    idx = np.clip(np.searchsorted(keys, want), 0, max(len(keys) - 1, 0))
    known = keys[idx] == want if len(keys) else np.zeros(len(want), bool)
    return geometry.positions()[idx] if len(keys) else np.zeros((len(want), 3)), known


def online_l2_cleaning(pulses: Pulses, geometry: Geometry) -> CleaningResult:
    """OnlineL2 cleaning of in-ice pulses (DOMs without a position are skipped)."""
    position, known = _positions(geometry, pulses)
    rt = np.zeros(len(pulses), bool)
    sub = np.flatnonzero(known)
    rt[sub] = seeded_rt(pulses.time[sub], position[sub], pulses.hlc[sub], pulses.dom_keys()[sub])
    window = best_time_window(pulses.time, rt)
    cleaned = window & (pulses.string < DEEPCORE_FIRST_STRING)
    npulses, nch, qtot = pulse_summary(pulses.select(cleaned))
    return CleaningResult(rt, window, cleaned, npulses, nch, qtot)
