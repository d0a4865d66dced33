"""OnlineL2 pulse cleaning ("CleanedMuonPulsesIC"; docs/i3-format.md §11, docs/upstream-behaviour.md §16.2).

SeededRT (HLC core seed, 150 m / 1000 ns, 3 growth iterations) → the 6000 ns time window holding
the most pulses → DeepCore strings removed. On the sample alerts this reproduces IceTray's masks
pulse for pulse and the alert's ``npulses``, ``nch`` and ``qtot`` exactly.

Algorithm and complexity (N pulses on D hit DOMs, k = hit DOMs within the RT radius of a DOM,
itself included; E = D·k DOM pairs). Two pulses are *RT-linked* when their DOMs lie within
``RT_RADIUS`` (squared distance summed in double precision, ≤) and their times differ by less
than ``RT_TIME`` (the later time < the earlier time + ``RT_TIME``, as computed in float64); two
pulses on one DOM can be linked, a pulse is never linked to itself. All pulse pairs are never
built:

1. DOM pairs within the radius from a k-d tree: O(D log D + D·k) time, O(D·k) memory
   (:func:`dom_pairs_within`).
2. Pulses sorted by (DOM, time): the pulses of DOM b linked to pulse p are one index interval,
   found by two binary searches (t_q + ``RT_TIME`` > t_p, t_q < t_p + ``RT_TIME``); a prefix sum
   over flagged pulses counts those in it. A numba kernel visits, per queried pulse, its DOM's
   neighbours until the answer is known: HLC core (HLC partners on ≥ 2 distinct DOMs, own DOM
   included) stops at 2, each growth iteration asks only the pulses not yet selected and stops
   at the first link. O(N log N) to sort, at most O(N·k·log N) per step (typically O(N log N):
   most pulses find 2 partner DOMs among their first neighbours), O(N + E) memory
   (:class:`RTLinks`).
3. The best time window: one sort and one binary search per pulse, O(N log N).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from skymap_scanner.event.model import Geometry, Pulses
from skymap_scanner.physics.constants import FIRST_DEEPCORE_STRING

# Parameters of icecube/skymap_scanner recos/splinempe.py (copied there from IceTray's OnlineL2
# filter scripts); semantics of STTools seededRT and DomTools I3TimeWindowCleaning.
RT_RADIUS = 150.0  # m, DOM distance for an RT link (≤)
RT_TIME = 1000.0  # ns, time difference for an RT link (<)
RT_ITERATIONS = 3  # growth iterations
TIME_WINDOW = 6000.0  # ns, I3TimeWindowCleaning window length

_CANDIDATE_MARGIN = 1.01  # k-d tree search radius = radius × this: no pair within the radius is missed


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
    ≤ ``radius``² [m²] (summed in float64; rows with NaN or inf have none), a = b included, sorted
    by (a, b). Candidates from a k-d tree with a 1 % wider radius, so rounding never hides a pair;
    O(D log D + D·k) time, O(D·k) memory."""
    from scipy.spatial import KDTree  # imported here (≈ 0.3 s): fit workers never clean

    position = np.asarray(position, np.float64).reshape(-1, 3)
    finite = np.flatnonzero(np.isfinite(position).all(axis=1))
    candidates = KDTree(position[finite]).query_pairs(radius * _CANDIDATE_MARGIN, output_type="ndarray")
    i, j = finite[candidates[:, 0]], finite[candidates[:, 1]]
    near = np.sum((position[i] - position[j]) ** 2, axis=1) <= radius**2
    a = np.r_[finite, i[near], j[near]]
    b = np.r_[finite, j[near], i[near]]
    order = np.lexsort((b, a))
    return a[order], b[order]


@njit(cache=True)
def _first_above(values: np.ndarray, start: int, stop: int, x: float) -> int:
    """First index i in [start, stop) with values[i] > x (``values`` sorted there), else stop."""
    while start < stop:
        mid = (start + stop) // 2
        if values[mid] > x:
            stop = mid
        else:
            start = mid + 1
    return start


@njit(cache=True)
def _first_not_below(values: np.ndarray, start: int, stop: int, x: float) -> int:
    """First index i in [start, stop) with values[i] ≥ x (``values`` sorted there), else stop."""
    while start < stop:
        mid = (start + stop) // 2
        if values[mid] >= x:
            stop = mid
        else:
            start = mid + 1
    return start


@njit(cache=True)
def _linked_counts(segment: np.ndarray, dom: np.ndarray, t: np.ndarray, t_end: np.ndarray,
                   nb_ptr: np.ndarray, nb_dom: np.ndarray, prefix: np.ndarray, own: np.ndarray,
                   query: np.ndarray, per_dom: bool, at_most: int) -> np.ndarray:
    """Per sorted pulse p with ``query[p]``: Σ over the neighbour DOMs b of p's DOM of n_b (or
    of [n_b > 0] if ``per_dom``), n_b = flagged pulses on b RT-linked to p; the neighbours are
    visited until the sum reaches ``at_most`` (> 0; 0: all). Pulses sorted by (DOM, time); DOM a
    holds segment[a] ≤ p < segment[a + 1], dom[p] = a; its neighbours are
    nb_dom[nb_ptr[a]:nb_ptr[a + 1]]; t_end = t + max_dt; prefix = cumulative flagged count
    (N + 1); own = flagged & (t_end > t). The pulses q on b linked to p are the interval
    t_end[q] > t[p] and t[q] < t_end[p]: two binary searches."""
    out = np.zeros(t.shape[0], np.int64)
    for p in range(t.shape[0]):
        if not query[p]:
            continue
        a = dom[p]
        total = 0
        for m in range(nb_ptr[a], nb_ptr[a + 1]):
            b = nb_dom[m]
            lo = _first_above(t_end, segment[b], segment[b + 1], t[p])
            hi = _first_not_below(t, lo, segment[b + 1], t_end[p])
            n = prefix[hi] - prefix[lo]
            if b == a and own[p]:
                n -= 1  # p is in its own interval
            total += (1 if n > 0 else 0) if per_dom else n
            if 0 < at_most <= total:
                break
        out[p] = total
    return out


class RTLinks:
    """The RT-link relation of a set of pulses: DOM pairs within the radius and the pulses sorted
    by (DOM, time); nothing quadratic in the pulses is stored.

    time [ns], position (N, 3) [m] of each pulse's DOM (one position per DOM), dom (any per-DOM
    id). Pulses with equal ``dom`` are one DOM. Memory O(N + DOM pairs within ``radius``); a count
    costs at most O(k log N) per queried pulse (two binary searches per neighbour DOM).
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
        self._segment = np.r_[0, np.cumsum(np.bincount(dom_index, minlength=len(first)))]
        self._dom = dom_index[self.order]
        self._t = time[self.order]
        self._t_end = self._t + max_dt

    def __len__(self) -> int:
        return len(self.order)

    def _count(self, flagged: np.ndarray, query: np.ndarray | None, per_dom: bool,
               at_most: int | None) -> np.ndarray:
        flagged_sorted = np.asarray(flagged, bool)[self.order]
        prefix = np.r_[0, np.cumsum(flagged_sorted)]
        own = flagged_sorted & (self._t_end > self._t)
        asked = np.ones(len(self), bool) if query is None else np.asarray(query, bool)[self.order]
        counts = _linked_counts(self._segment, self._dom, self._t, self._t_end, self._nb_ptr, self._nb_dom,
                                prefix, own, asked, per_dom, at_most or 0)
        out = np.empty_like(counts)
        out[self.order] = counts
        return out

    def count_linked(self, flagged: np.ndarray, query: np.ndarray | None = None,
                     at_most: int | None = None) -> np.ndarray:
        """Per pulse (input order), the number of ``flagged`` pulses RT-linked to it; 0 where
        ``query`` is given and False; counting may stop once ``at_most`` is reached (≥ at_most)."""
        return self._count(flagged, query, False, at_most)

    def count_partner_doms(self, flagged: np.ndarray, query: np.ndarray | None = None,
                           at_most: int | None = None) -> np.ndarray:
        """Per pulse (input order), the number of distinct DOMs holding a ``flagged`` pulse
        RT-linked to it (its own DOM counts when another flagged pulse there is linked); ``query``
        and ``at_most`` as in count_linked."""
        return self._count(flagged, query, True, at_most)


def seeded_rt(time: np.ndarray, position: np.ndarray, hlc: np.ndarray, dom: np.ndarray,
              iterations: int = RT_ITERATIONS) -> np.ndarray:
    """SeededRT with HLC core seeds: boolean mask of the selected pulses.

    time [ns], position (N, 3) [m] of each pulse's DOM, hlc (bool), dom (any per-DOM id). Seeds:
    HLC pulses RT-linked to HLC pulses on at least 2 distinct DOMs (HLCCoreHits). Each iteration
    adds every pulse RT-linked to a pulse selected before it.
    """
    links = RTLinks(time, position, dom)
    hlc = np.asarray(hlc, bool)
    selected = links.count_partner_doms(hlc, query=hlc, at_most=2) >= 2
    for _ in range(iterations):
        grown = selected | (links.count_linked(selected, query=~selected, at_most=1) > 0)
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
    cleaned = window & (pulses.string < FIRST_DEEPCORE_STRING)  # DeepCore is not in CleanedMuonPulsesIC
    npulses, nch, qtot = pulse_summary(pulses.select(cleaned))
    return CleaningResult(rt, window, cleaned, npulses, nch, qtot)
