"""A small synthetic track-like event for demos and tests (not a physics simulation).

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
from skymap_scanner.sky import direction_vector

#: IceTray I3Constants.h: phase index n_p = 1.3195, c = 0.299792458 m/ns (shared/docs/physics.md §2)
N_PHASE = 1.3195
C_VACUUM = 0.299792458  # m/ns
#: standard string spacing 125 m, DOM spacing 17 m, 1450-2450 m depth (IceCube Collaboration,
#: JINST 12 (2017) P03012); the origin is at 1948.07 m depth
STRING_SPACING_M, DOM_SPACING_M, N_DOMS = 125.0, 17.0, 60


def hex_geometry(rings: int = 5) -> Geometry:
    """IceCube-like geometry: strings on a triangular grid (125 m) inside a hexagon of ``rings``."""
    xs, ys = [], []
    for i in range(-rings, rings + 1):
        for j in range(-rings, rings + 1):
            if abs(i + j) <= rings:
                xs.append(STRING_SPACING_M * (i + 0.5 * j))
                ys.append(STRING_SPACING_M * (math.sqrt(3) / 2 * j))
    zs = 500.0 - DOM_SPACING_M * np.arange(N_DOMS)
    n_str = len(xs)
    return Geometry(
        string=np.repeat(np.arange(1, n_str + 1), N_DOMS),
        om=np.tile(np.arange(1, N_DOMS + 1), n_str),
        x=np.repeat(xs, N_DOMS), y=np.repeat(ys, N_DOMS), z=np.tile(zs, n_str),
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
    t_direct = (along - perp / math.tan(theta_c)) / C_VACUUM + perp * N_PHASE / (C_VACUUM * math.sin(theta_c))
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
