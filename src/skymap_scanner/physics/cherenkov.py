"""Cherenkov geometry of an infinite muon track (docs/physics.md §3 [S2][S3]).

Track: vertex r0, time t0, unit *travel* direction p. For a DOM at r (all metres, ns):

- along-track distance d_t = (r - r0)·p, closest-approach distance d = |(r - r0) × p|;
- direct-light arrival t_geo = t0 + [d_t + d (n_g / sin θc - 1 / tan θc)] / c (group/phase form);
- photon direction at the DOM relative to vertical: cos η = sin θc (perp_z / d) + cos θc p_z, where
  perp = (r - r0) - d_t p (positive: photon moving up, into the downward-facing PMT);
- effective distance d_eff = p1 d + cs0 + cs1 cos η + cs2 cos² η.

The scalar kernel :func:`transverse_geometry` works in the plane transverse to the track (basis e1, e2
from :func:`transverse_basis`) and also returns the derivatives a vertex fit needs; the array functions
below are thin loops over it, so the fit and every other user share one implementation.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from skymap_scanner.physics.constants import (
    C_VACUUM_M_PER_NS,
    CHERENKOV_PATH_FACTOR,
    COS_CHERENKOV,
    DOM_RADIUS_M,
    SIN_CHERENKOV,
    PandelIce,
)


@njit(cache=True, error_model="numpy")
def transverse_basis(px: float, py: float, pz: float) -> tuple[float, float, float, float, float, float]:
    """Unit vectors e1, e2 with (e1, e2, p) right-handed and orthonormal, for a unit vector p."""
    if abs(pz) < 0.9:
        ax, ay, az = 0.0, 0.0, 1.0
    else:
        ax, ay, az = 1.0, 0.0, 0.0
    # e1 = a × p / |a × p|, e2 = p × e1
    x1, y1, z1 = ay * pz - az * py, az * px - ax * pz, ax * py - ay * px
    n1 = math.sqrt(x1 * x1 + y1 * y1 + z1 * z1)
    x1, y1, z1 = x1 / n1, y1 / n1, z1 / n1
    return x1, y1, z1, py * z1 - pz * y1, pz * x1 - px * z1, px * y1 - py * x1


@njit(cache=True, error_model="numpy")
def transverse_geometry(u1: float, u2: float, e1z: float, e2z: float,
                        pz: float) -> tuple[float, float, float, float, float, float]:
    """(d, cos η, ∂d/∂u1, ∂d/∂u2, ∂cos η/∂u1, ∂cos η/∂u2) for a DOM at transverse offset (u1, u2) [m]
    from the track (components along e1, e2; e1z, e2z, pz are the z components of e1, e2, p)."""
    d = math.sqrt(u1 * u1 + u2 * u2 + DOM_RADIUS_M * DOM_RADIUS_M)
    perp_z = u1 * e1z + u2 * e2z
    cos_eta = SIN_CHERENKOV * perp_z / d + COS_CHERENKOV * pz
    dd1, dd2 = u1 / d, u2 / d
    dc1 = SIN_CHERENKOV * (e1z - perp_z * dd1 / d) / d
    dc2 = SIN_CHERENKOV * (e2z - perp_z * dd2 / d) / d
    return d, cos_eta, dd1, dd2, dc1, dc2


@njit(cache=True, error_model="numpy")
def direct_delay_ns(along_m: float, distance_m: float) -> float:
    """t_geo - t0 [ns] for along-track distance d_t and closest-approach distance d [m]."""
    return (along_m + CHERENKOV_PATH_FACTOR * distance_m) / C_VACUUM_M_PER_NS


@njit(cache=True, error_model="numpy")
def effective_distance(distance_m: float, cos_eta: float, p1: float, cs0: float, cs1: float,
                       cs2: float) -> float:
    """d_eff = p1 d + cs0 + cs1 cos η + cs2 cos² η [m] (PMT-orientation correction)."""
    return p1 * distance_m + cs0 + cos_eta * (cs1 + cs2 * cos_eta)


@njit(cache=True, error_model="numpy")
def _geometry_arrays(rel: np.ndarray, p: np.ndarray) -> np.ndarray:
    e1x, e1y, e1z, e2x, e2y, e2z = transverse_basis(p[0], p[1], p[2])
    out = np.empty((rel.shape[0], 3))
    for i in range(rel.shape[0]):
        x, y, z = rel[i, 0], rel[i, 1], rel[i, 2]
        u1 = x * e1x + y * e1y + z * e1z
        u2 = x * e2x + y * e2y + z * e2z
        d, cos_eta, _, _, _, _ = transverse_geometry(u1, u2, e1z, e2z, p[2])
        out[i, 0] = x * p[0] + y * p[1] + z * p[2]
        out[i, 1] = d
        out[i, 2] = cos_eta
    return out


def track_geometry(dom_pos_m: np.ndarray, vertex_m: np.ndarray,
                   direction: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(d_t [m], d [m], cos η) of DOMs (N, 3) for a track through ``vertex_m`` with unit travel
    ``direction``."""
    rel = np.ascontiguousarray(np.atleast_2d(dom_pos_m) - np.asarray(vertex_m, np.float64), np.float64)
    out = _geometry_arrays(rel, np.ascontiguousarray(direction, np.float64))
    return out[:, 0], out[:, 1], out[:, 2]


def direct_arrival_time(dom_pos_m: np.ndarray, vertex_m: np.ndarray, time_ns: float,
                        direction: np.ndarray) -> np.ndarray:
    """Direct-light arrival time t_geo [ns] at each DOM."""
    along, d, _ = track_geometry(dom_pos_m, vertex_m, direction)
    return time_ns + direct_delay_ns(along, d)


def dom_effective_distance(distance_m: np.ndarray, cos_eta: np.ndarray, ice: PandelIce) -> np.ndarray:
    """d_eff [m] for arrays of d and cos η."""
    return effective_distance(np.asarray(distance_m, np.float64), np.asarray(cos_eta, np.float64),
                              ice.p1, ice.cs0, ice.cs1, ice.cs2)
