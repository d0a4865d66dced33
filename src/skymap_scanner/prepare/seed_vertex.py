"""VHESelfVeto vertex seed (IceTray project VHESelfVeto; docs/upstream-behaviour.md §16.3).

:func:`with_vertex_seed` is the preparation step every scan applies: it adds the seed to events that
carry none (alerts with IceTray's online HESE vertex keep that one).

Balloon DOMs (more than 90 % of the total charge) are ignored; pulses are sorted by time and a
3000 ns window slides to end at each pulse; the first window whose charge exceeds the threshold
gives the vertex time (its last pulse) and position (charge-weighted mean DOM position).
Reproduces IceTray's seeds for the sample events: GOLD (158.94, −345.23, −504.39) m at
735564.0 ns, BRONZE (22.11, 509.50, 199.662) m at 31674.0 ns.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from skymap_scanner.event.model import SEED_VERTEX, VERTEX_SHAPE, Event, Geometry, Particle, Pulses

# VHESelfVeto parameters as used by upstream skymap_scanner (splinempe: threshold 250 PE on the
# HLC pulses, then 5 PE when the first try finds nothing).
VERTEX_THRESHOLDS = (250.0, 5.0)  # PE
VERTEX_WINDOW = 3000.0  # ns
BALLOON_FRACTION = 0.9  # a DOM with more than this fraction of the total charge is ignored


def vhe_self_veto_vertex(
    time: np.ndarray, charge: np.ndarray, position: np.ndarray, dom: np.ndarray,
    threshold: float = VERTEX_THRESHOLDS[0], window: float = VERTEX_WINDOW,
) -> tuple[np.ndarray, float] | None:
    """((x, y, z) [m], time [ns]) of the VHESelfVeto vertex, or ``None`` below threshold.

    time [ns], charge [PE], position (N, 3) [m] of each pulse's DOM, dom (any per-DOM id).
    """
    charge = np.asarray(charge, np.float64)
    if not len(charge):
        return None
    _, dom_index = np.unique(dom, return_inverse=True)
    dom_charge = np.bincount(dom_index, charge)
    q = np.where(dom_charge[dom_index] > BALLOON_FRACTION * charge.sum(), 0.0, charge)
    order = np.argsort(time, kind="stable")
    t, q, pos = time[order], q[order], position[order]
    cum_q = np.r_[0.0, np.cumsum(q)]
    cum_qpos = np.vstack([np.zeros(3), np.cumsum(q[:, None] * pos, axis=0)])
    start = np.searchsorted(t, t - window, side="left")
    window_q = cum_q[1:] - cum_q[start]
    above = np.flatnonzero(window_q > threshold)
    if not len(above):
        return None
    j = above[0]
    return (cum_qpos[j + 1] - cum_qpos[start[j]]) / window_q[j], float(t[j])


def vhe_self_veto_seed(pulses: Pulses, geometry: Geometry,
                       thresholds: tuple[float, ...] = VERTEX_THRESHOLDS) -> Particle | None:
    """Vertex seed from the HLC pulses: the first threshold [PE] that gives a vertex wins."""
    hlc = pulses.select(pulses.hlc)
    position = geometry.lookup(hlc.string, hlc.om)
    for threshold in thresholds:
        found = vhe_self_veto_vertex(hlc.time, hlc.charge, position, hlc.dom_keys(), threshold)
        if found is not None:
            (x, y, z), t = found
            return Particle(x=float(x), y=float(y), z=float(z), time=t, shape=VERTEX_SHAPE)
    return None


def with_vertex_seed(event: Event) -> Event:
    """``event`` with the VHESelfVeto vertex of its (uncleaned) pulses as ``SEED_VERTEX``; unchanged
    when it already carries a vertex seed or no threshold gives a vertex."""
    seed = event.seeds.get(SEED_VERTEX)
    if seed is not None and seed.has_vertex:
        return event
    vertex = vhe_self_veto_seed(event.pulses, event.geometry)
    if vertex is None:
        return event
    return replace(event, seeds={**event.seeds, SEED_VERTEX: vertex})
