"""An online-like first guess for simulated events: improved LineFit (no truth involved).

Real alerts carry the online chain's fits as seeds; simulated events carry this one instead, computed
from their own pulses. Method of IceCube, "Improvement in fast particle track reconstruction with robust
statistics", NIM A 736 (2014) 143 (improved LineFit): first HLC pulse per DOM (the online chain fits
cleaned pulses; isolated noise pulses otherwise pull the fit by tens of degrees); delay cleaning (drop a hit
that comes more than 778 ns after a hit within 156 m); then the fit r_i ≈ r0 + v t_i with the Huber
penalty (ρ = 153 m) by iteratively reweighted least squares. The direction is -v/|v| (where it comes
from), the vertex r0 + v·t̄ at the mean hit time t̄.
"""

from __future__ import annotations

import math

import numpy as np

from skymap_scanner.event.model import Event, Particle

#: delay cleaning and Huber parameters of the improved LineFit (NIM A 736 (2014) 143)
DELAY_RADIUS_M = 156.0
DELAY_TIME_NS = 778.0
HUBER_RHO_M = 153.0
_IRLS_STEPS = 20


def first_hits(event: Event, hlc_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(positions (N, 3) [m], times [ns]) of the first (HLC) pulse of every hit DOM."""
    pulses = event.pulses.select(event.pulses.hlc) if hlc_only else event.pulses
    first = pulses.first_per_dom()
    pos = event.geometry.lookup(pulses.string[first], pulses.om[first])
    return pos, pulses.time[first]


def delay_clean(pos: np.ndarray, time_ns: np.ndarray) -> np.ndarray:
    """Mask of hits not arriving > DELAY_TIME_NS after some other hit within DELAY_RADIUS_M."""
    keep = np.ones(len(time_ns), bool)
    for start in range(0, len(time_ns), 512):
        block = slice(start, start + 512)
        near = np.linalg.norm(pos[block, None, :] - pos[None, :, :], axis=2) < DELAY_RADIUS_M
        late = time_ns[block, None] - time_ns[None, :] > DELAY_TIME_NS
        keep[block] = ~np.any(near & late, axis=1)
    return keep


def huber_linefit(pos: np.ndarray, time_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(r0 [m] at mean time, velocity [m/ns], mean time [ns]) minimising Σ Huber(|r_i - r0 - v (t_i - t̄)|)."""
    t_mean = float(time_ns.mean())
    dt = time_ns - t_mean
    weights = np.ones(len(dt))
    r0, v = pos.mean(axis=0), np.zeros(3)
    for _ in range(_IRLS_STEPS):
        w = weights / weights.sum()
        tw = float(w @ dt)
        r0w = w @ pos
        var = float(w @ (dt - tw) ** 2)
        v = (w * (dt - tw)) @ (pos - r0w) / var if var > 0 else np.zeros(3)
        r0 = r0w - v * tw
        dist = np.linalg.norm(pos - r0 - np.outer(dt, v), axis=1)
        weights = np.where(dist <= HUBER_RHO_M, 1.0, HUBER_RHO_M / np.maximum(dist, 1e-12))
    return r0, v, t_mean


def linefit_seed(event: Event) -> Particle:
    """Improved-LineFit direction and vertex of the event (NaN direction if it cannot be fitted)."""
    pos, time_ns = first_hits(event)
    if len(time_ns) < 3:
        pos, time_ns = first_hits(event, hlc_only=False)
    keep = delay_clean(pos, time_ns)
    if keep.sum() < 3:
        return Particle(shape="LineFit")
    r0, v, t_mean = huber_linefit(pos[keep], time_ns[keep])
    speed = float(np.linalg.norm(v))
    if speed == 0:
        return Particle(x=r0[0], y=r0[1], z=r0[2], time=t_mean, shape="LineFit")
    u = -v / speed
    zenith = math.acos(max(-1.0, min(1.0, float(u[2]))))
    azimuth = math.atan2(float(u[1]), float(u[0])) % (2 * math.pi)
    return Particle(zenith, azimuth, r0[0], r0[1], r0[2], t_mean, shape="LineFit")
