"""A small synthetic track-like event for demos and tests (a toy, not the physics simulation).

A muon-like straight track through an IceCube-86 geometry: DOMs within 150 m of the track get one
pulse at the direct Cherenkov arrival time plus an exponential delay; charges fall with distance.
"""

from __future__ import annotations

import math

import numpy as np

from skymap_scanner.event.model import (
    FLAG_LC,
    SEED_DIRECTION,
    SEED_VERTEX,
    Event,
    EventMetadata,
    Geometry,
    Particle,
    Pulses,
)
from skymap_scanner.physics.constants import C_VACUUM_M_PER_NS, N_PHASE
from skymap_scanner.simulation.detector import DOM_SPACING_M, DOMS_PER_STRING, STRING_SPACING_M
from skymap_scanner.sky import direction_vector


def hex_geometry(rings: int = 5) -> Geometry:
    """IceCube-like geometry: strings on a triangular grid (125 m) inside a hexagon of ``rings``."""
    xs, ys = [], []
    for i in range(-rings, rings + 1):
        for j in range(-rings, rings + 1):
            if abs(i + j) <= rings:
                xs.append(STRING_SPACING_M * (i + 0.5 * j))
                ys.append(STRING_SPACING_M * (math.sqrt(3) / 2 * j))
    zs = 500.0 - DOM_SPACING_M * np.arange(DOMS_PER_STRING)
    n_str = len(xs)
    return Geometry(
        string=np.repeat(np.arange(1, n_str + 1), DOMS_PER_STRING),
        om=np.tile(np.arange(1, DOMS_PER_STRING + 1), n_str),
        x=np.repeat(xs, DOMS_PER_STRING), y=np.repeat(ys, DOMS_PER_STRING), z=np.tile(zs, n_str),
        source=f"synthetic hexagonal grid, {n_str} strings",
    )


def synthetic_event(zenith: float = 1.9, azimuth: float = 4.0, seed: int = 1,
                    mjd: float = 60000.5) -> Event:
    """A synthetic through-going track (angles in rad); direction and vertex seeds included."""
    rng = np.random.default_rng(seed)
    geometry = hex_geometry()
    p = direction_vector(zenith, azimuth)
    vertex = np.array([20.0, -30.0, 10.0])
    rel = geometry.positions() - vertex
    along = rel @ p
    perp = np.linalg.norm(rel - along[:, None] * p, axis=1)
    hit = (perp < 150.0) & (rng.random(len(perp)) < np.exp(-perp / 80.0))
    theta_c = math.acos(1 / N_PHASE)
    c = C_VACUUM_M_PER_NS
    t_direct = (along - perp / math.tan(theta_c)) / c + perp * N_PHASE / (c * math.sin(theta_c))
    time = 10_000.0 + t_direct[hit] + rng.exponential(15.0 + 0.3 * perp[hit])
    charge = np.maximum(0.25, rng.exponential(1 + 30.0 * np.exp(-perp[hit] / 40.0)))
    pulses = Pulses(geometry.string[hit], geometry.om[hit], time, charge, np.full(hit.sum(), FLAG_LC))
    meta = EventMetadata(run_id=1, event_id=seed, event_type="synthetic", mjd=mjd, is_real_event=False)
    return Event(
        metadata=meta, pulses=pulses, geometry=geometry,
        seeds={SEED_DIRECTION: Particle(zenith=zenith, azimuth=azimuth, shape="InfiniteTrack"),
               SEED_VERTEX: Particle(x=vertex[0], y=vertex[1], z=vertex[2], time=10_000.0)},
        truth={"muon": Particle(zenith=zenith, azimuth=azimuth, x=vertex[0], y=vertex[1], z=vertex[2],
                                time=10_000.0, shape="synthetic")},
        source="synthetic",
    )
