"""OnlineL2 pulse cleaning ("CleanedMuonPulsesIC"; docs/i3-format.md §11, docs/upstream-behaviour.md §16.2).

SeededRT (HLC core seed, 150 m / 1000 ns, 3 growth iterations) → the 6000 ns time window holding
the most pulses → DeepCore strings removed. On the sample alerts this reproduces IceTray's masks
pulse for pulse and the alert's ``npulses``, ``nch`` and ``qtot`` exactly.
"""

from __future__ import annotations

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
    doms, dom = np.unique(position, axis=0, return_inverse=True)
    near = np.sum((doms[:, None, :] - doms[None, :, :]) ** 2, axis=2) <= radius**2
    order = np.argsort(time, kind="stable")
    t = time[order]
    end = np.searchsorted(t, t + max_dt, side="left")
    n_after = end - np.arange(len(t)) - 1
    first = np.repeat(np.arange(len(t)), n_after)  # each pulse, once per later pulse in reach
    pair_start = np.repeat(np.cumsum(n_after) - n_after, n_after)
    second = first + 1 + (np.arange(len(first)) - pair_start)
    i, j = order[first], order[second]
    linked = near[dom.ravel()[i], dom.ravel()[j]]
    return i[linked], j[linked]


def _hlc_core(n: int, i: np.ndarray, j: np.ndarray, hlc: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """HLC pulses RT-linked to HLC pulses on at least 2 distinct DOMs (HLCCoreHits), i.e. whose
    HLC partners' DOM ids differ between the smallest and the largest."""
    both = hlc[i] & hlc[j]
    pulse = np.r_[i[both], j[both]]
    partner = np.r_[dom[j[both]], dom[i[both]]].astype(np.int64)
    lowest = np.full(n, np.iinfo(np.int64).max)
    highest = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(lowest, pulse, partner)
    np.maximum.at(highest, pulse, partner)
    return highest > lowest


def seeded_rt(time: np.ndarray, position: np.ndarray, hlc: np.ndarray, dom: np.ndarray,
              iterations: int = RT_ITERATIONS) -> np.ndarray:
    """SeededRT with HLC core seeds: boolean mask of the selected pulses.

    time [ns], position (N, 3) [m] of each pulse's DOM, hlc (bool), dom (any per-DOM id).
    """
    i, j = rt_links(time, position)
    selected = _hlc_core(len(time), i, j, np.asarray(hlc, bool), dom)
    for _ in range(iterations):
        grown = selected.copy()
        grown[j[selected[i]]] = True
        grown[i[selected[j]]] = True
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
