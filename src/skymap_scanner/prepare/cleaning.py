"""OnlineL2 pulse cleaning ("CleanedMuonPulsesIC"; i3-format.md §11, upstream-behaviour §16.2).

SeededRT (HLC core seed, 150 m / 1000 ns, 3 growth iterations) → the 6000 ns time window holding
the most pulses → DeepCore strings removed. On the sample alerts this reproduces IceTray's masks
pulse for pulse and the alert's ``npulses``, ``nch`` and ``qtot`` exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from skymap_scanner.event.model import Geometry, Pulses

# Parameters of icecube/skymap_scanner recos/splinempe.py (copied there from IceTray's OnlineL2
# filter scripts); semantics of STTools seededRT and DomTools I3TimeWindowCleaning.
RT_RADIUS = 150.0  # m, DOM distance for an RT link (≤)
RT_TIME = 1000.0  # ns, time difference for an RT link (<)
RT_ITERATIONS = 3  # growth iterations
SEED_MIN_DOMS = 2  # an HLC core pulse is RT-linked to HLC pulses on at least this many DOMs
TIME_WINDOW = 6000.0  # ns, I3TimeWindowCleaning window length
DEEPCORE_FIRST_STRING = 79  # strings 79-86 are DeepCore (removed for CleanedMuonPulsesIC)


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


def rt_links(time: np.ndarray, position: np.ndarray, radius: float = RT_RADIUS,
             max_dt: float = RT_TIME) -> tuple[np.ndarray, np.ndarray]:
    """All pulse pairs (i, j), i ≠ j, with |Δt| < ``max_dt`` [ns] and DOM distance ≤ ``radius``
    [m] (pulses on one DOM can be linked). ``position`` is (N, 3) [m]; each pair appears once."""
    order = np.argsort(time, kind="stable")
    t = time[order]
    end = np.searchsorted(t, t + max_dt, side="left")
    n_after = end - np.arange(len(t)) - 1
    first = np.repeat(np.arange(len(t)), n_after)
    offset = np.arange(len(first)) - np.repeat(np.cumsum(n_after) - n_after, n_after)
    second = first + 1 + offset
    i, j = order[first], order[second]
    near = np.sum((position[i] - position[j]) ** 2, axis=1) <= radius**2
    return i[near], j[near]


def _hlc_core(n: int, i: np.ndarray, j: np.ndarray, hlc: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """HLC pulses linked to HLC pulses on at least ``SEED_MIN_DOMS`` distinct DOMs."""
    _, dom_index = np.unique(dom, return_inverse=True)
    n_doms = int(dom_index.max()) + 1 if n else 1
    both = hlc[i] & hlc[j]
    pulse = np.r_[i[both], j[both]].astype(np.int64)
    partner_dom = np.r_[dom_index[j[both]], dom_index[i[both]]]
    distinct = np.unique(pulse * n_doms + partner_dom) // n_doms
    return np.bincount(distinct, minlength=n) >= SEED_MIN_DOMS


def seeded_rt(time: np.ndarray, position: np.ndarray, hlc: np.ndarray, dom: np.ndarray,
              iterations: int = RT_ITERATIONS) -> np.ndarray:
    """SeededRT with HLC core seeds: boolean mask of the selected pulses.

    time [ns], position (N, 3) [m] of each pulse's DOM, hlc (bool), dom (any per-DOM id).
    """
    n = len(time)
    i, j = rt_links(time, position)
    selected = _hlc_core(n, i, j, np.asarray(hlc, bool), dom)
    links = sparse.coo_matrix((np.ones(2 * len(i)), (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    for _ in range(iterations):
        grown = selected | (links @ selected.astype(np.float64) > 0)
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
