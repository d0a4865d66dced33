"""Tabulated convolved Pandel: ln p_σ and ln S_σ by bicubic Hermite interpolation on a fixed grid.

The exact kernels of ``pandel.py`` cost ≈ 300 ns (p_σ) and ≈ 900 ns (p_σ with S_σ) per call, most of the
track fit's time (docs/track-reco.md, "Speed"). For fixed ρ and σ both logs are smooth functions of two
variables, the residual t [ns] and the shape ξ, so they are tabulated once per (ρ, σ) in the coordinates

    s = asinh(t / σ),   v = ln ξ,

which resolve the Gaussian core (|t| ≲ σ) and the gamma tail (t ≫ σ, where s ≈ ln(2t/σ)) on one uniform
grid. Every node holds the value and the derivatives ∂s, ∂v (exact, from ``cpandel_log``; ∂t ln S_σ =
-p_σ/S_σ) and ∂s∂v (central difference of the exact ∂v); inside a cell the function is the bicubic Hermite
interpolant of its four nodes (C¹ across cells, so the minimiser sees a smooth objective whose gradient is
the exact derivative of the interpolant). The interpolation error is O(h⁴) in the node spacing h
(de Boor, *A Practical Guide to Splines*, Springer 2001, ch. IV); the grid below keeps it below
``TABLE_TOLERANCE`` in both logs wherever p_σ is above the noise floor (``tests/test_cpandel_table.py``
measures it against the exact kernels on random points). Outside the grid (|t| beyond its ends, ξ beyond
``XI_MAX``) the exact kernels are used.

Layout: ``table[i, j, k]`` for node (s_i, v_j); k = 0–3: ln p_σ and its scaled derivatives (F, h_s ∂s F,
h_v ∂v F, h_s h_v ∂s∂v F), k = 4–7 the same for ln S_σ — one 64-byte line per node.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit, prange

from skymap_scanner.physics.pandel import cpandel_log

#: grid in s = asinh(t/σ): from t = T_MIN_SIGMAS σ to T_MAX_NS, spacing S_STEP
T_MIN_SIGMAS = -30.0
T_MAX_NS = 30000.0
S_STEP = 0.02
#: grid in v = ln ξ: ξ from XI_MIN (below every Pandel parametrisation's d_eff_min / λ ≈ 0.06) to XI_MAX
XI_MIN = 0.05
XI_MAX = 80.0
V_STEP = 0.04
#: half-step of the central difference that gives ∂s∂v at the nodes
MIXED_STEP = 1e-3
#: the interpolation error the tests hold the grid to (absolute, in ln p_σ and ln S_σ)
TABLE_TOLERANCE = 1e-5


#: the (table, grid) pair that turns the table off: every lookup is outside
NO_TABLE = (np.zeros((0, 0, 8)), (1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0))


def table_grid(sigma_ns: float) -> tuple[float, float, float, float, float, float, float]:
    """(σ, s_0, h_s, n_s, v_0, h_v, n_v) of the grid for jitter σ [ns]."""
    s0, s1 = math.asinh(T_MIN_SIGMAS), math.asinh(T_MAX_NS / sigma_ns)
    v0, v1 = math.log(XI_MIN), math.log(XI_MAX)
    n_s = int(math.ceil((s1 - s0) / S_STEP)) + 1
    n_v = int(math.ceil((v1 - v0) / V_STEP)) + 1
    return sigma_ns, s0, (s1 - s0) / (n_s - 1), float(n_s), v0, (v1 - v0) / (n_v - 1), float(n_v)


@njit(cache=True, error_model="numpy")
def _node_terms(s: float, v: float, rho: float, sigma: float) -> tuple[float, float, float, float, float]:
    """(ln p, ∂s ln p, ∂v ln p, ln S, ∂s ln S, ∂v ln S) at node coordinates, exact."""
    t = sigma * math.sinh(s)
    xi = math.exp(v)
    lnp, dp_dt, dp_dxi, _, lns, ds_dxi = cpandel_log(t, xi, rho, sigma, True)
    dt_ds = sigma * math.cosh(s)
    return lnp, dp_dt * dt_ds, dp_dxi * xi, lns, -math.exp(lnp - lns) * dt_ds, ds_dxi * xi


@njit(parallel=True, cache=True, error_model="numpy")
def _fill(table, rho, sigma, s0, hs, v0, hv):
    n_s, n_v = table.shape[0], table.shape[1]
    for i in prange(n_s):
        s = s0 + i * hs
        for j in range(n_v):
            v = v0 + j * hv
            lnp, ps, pv, lns, ss, sv = _node_terms(s, v, rho, sigma)
            pv_hi = _node_terms(s + MIXED_STEP, v, rho, sigma)
            pv_lo = _node_terms(s - MIXED_STEP, v, rho, sigma)
            scale = hs * hv / (2.0 * MIXED_STEP)
            table[i, j, 0] = lnp
            table[i, j, 1] = ps * hs
            table[i, j, 2] = pv * hv
            table[i, j, 3] = (pv_hi[2] - pv_lo[2]) * scale
            table[i, j, 4] = lns
            table[i, j, 5] = ss * hs
            table[i, j, 6] = sv * hv
            table[i, j, 7] = (pv_hi[5] - pv_lo[5]) * scale


def build_table(rho_per_ns: float, sigma_ns: float) -> tuple[np.ndarray, tuple]:
    """(table, grid) for rate ρ [1/ns] and jitter σ [ns]; ≈ 0.1 s on two cores, 11 MB."""
    grid = table_grid(sigma_ns)
    _, s0, hs, n_s, v0, hv, n_v = grid
    table = np.empty((int(n_s), int(n_v), 8))
    _fill(table, rho_per_ns, sigma_ns, s0, hs, v0, hv)
    if not np.all(np.isfinite(table)):
        raise ValueError(f"convolved Pandel table for rho={rho_per_ns} /ns, sigma={sigma_ns} ns is not finite")
    return table, grid


@lru_cache(maxsize=4)
def cached_table(rho_per_ns: float, sigma_ns: float) -> tuple[np.ndarray, tuple]:
    """:func:`build_table`, built once per process for each (ρ, σ); the array is read-only."""
    table, grid = build_table(rho_per_ns, sigma_ns)
    table.flags.writeable = False
    return table, grid


@njit(cache=True, error_model="numpy")
def _hermite(x: float) -> tuple:
    """Cubic Hermite basis on [0, 1] (h00, h10, h01, h11) and its first and second derivatives."""
    x2 = x * x
    x3 = x2 * x
    return (2.0 * x3 - 3.0 * x2 + 1.0, x3 - 2.0 * x2 + x, -2.0 * x3 + 3.0 * x2, x3 - x2,
            6.0 * x2 - 6.0 * x, 3.0 * x2 - 4.0 * x + 1.0, -6.0 * x2 + 6.0 * x, 3.0 * x2 - 2.0 * x,
            12.0 * x - 6.0, 6.0 * x - 4.0, -12.0 * x + 6.0, 6.0 * x - 2.0)


@njit(cache=True, error_model="numpy")
def _interpolate(table, i, j, k, bx, by) -> tuple[float, float, float, float]:
    """(F, ∂x F, ∂y F, ∂x² F) in cell (i, j) of function k (0: ln p, 4: ln S), unit-cell coordinates."""
    hy0, hy1, hy2, hy3, dy0, dy1, dy2, dy3 = by[0], by[1], by[2], by[3], by[4], by[5], by[6], by[7]
    # along y at the cell's two x-nodes: value (g), its x-derivative (gx) and the y-derivatives of both
    g0 = table[i, j, k] * hy0 + table[i, j, k + 2] * hy1 + table[i, j + 1, k] * hy2 + table[i, j + 1, k + 2] * hy3
    gx0 = (table[i, j, k + 1] * hy0 + table[i, j, k + 3] * hy1 + table[i, j + 1, k + 1] * hy2
           + table[i, j + 1, k + 3] * hy3)
    gy0 = table[i, j, k] * dy0 + table[i, j, k + 2] * dy1 + table[i, j + 1, k] * dy2 + table[i, j + 1, k + 2] * dy3
    gxy0 = (table[i, j, k + 1] * dy0 + table[i, j, k + 3] * dy1 + table[i, j + 1, k + 1] * dy2
            + table[i, j + 1, k + 3] * dy3)
    i1 = i + 1
    g1 = (table[i1, j, k] * hy0 + table[i1, j, k + 2] * hy1 + table[i1, j + 1, k] * hy2
          + table[i1, j + 1, k + 2] * hy3)
    gx1 = (table[i1, j, k + 1] * hy0 + table[i1, j, k + 3] * hy1 + table[i1, j + 1, k + 1] * hy2
           + table[i1, j + 1, k + 3] * hy3)
    gy1 = (table[i1, j, k] * dy0 + table[i1, j, k + 2] * dy1 + table[i1, j + 1, k] * dy2
           + table[i1, j + 1, k + 2] * dy3)
    gxy1 = (table[i1, j, k + 1] * dy0 + table[i1, j, k + 3] * dy1 + table[i1, j + 1, k + 1] * dy2
            + table[i1, j + 1, k + 3] * dy3)
    f = g0 * bx[0] + gx0 * bx[1] + g1 * bx[2] + gx1 * bx[3]
    fx = g0 * bx[4] + gx0 * bx[5] + g1 * bx[6] + gx1 * bx[7]
    fxx = g0 * bx[8] + gx0 * bx[9] + g1 * bx[10] + gx1 * bx[11]
    fy = gy0 * bx[0] + gxy0 * bx[1] + gy1 * bx[2] + gxy1 * bx[3]
    return f, fx, fy, fxx


@njit(cache=True, error_model="numpy")
def cpandel_log_table(t: float, xi: float, table: np.ndarray, grid: tuple,
                      with_sf: bool) -> tuple[bool, float, float, float, float, float, float, float, float]:
    """(inside, ln p_σ, ∂t, ∂ξ, ∂t² of ln p_σ, ln S_σ, ∂t, ∂ξ, ∂t² of ln S_σ) from the table at residual
    t [ns] and shape ξ; ``inside`` is False (and the rest 0) outside the grid. The survival terms are 0
    unless ``with_sf``. An empty grid (:data:`NO_TABLE`) is outside everywhere."""
    sigma, s0, hs, n_s, v0, hv, n_v = grid
    if n_s < 2.0 or xi <= 0.0:
        return False, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    r = math.sqrt(t * t + sigma * sigma)
    x = (math.log((t + r) / sigma) if t >= 0.0 else -math.log((r - t) / sigma)) - s0
    y = math.log(xi) - v0
    x /= hs
    y /= hv
    if not (0.0 <= x < n_s - 1.0 and 0.0 <= y < n_v - 1.0):
        return False, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    i, j = int(x), int(y)
    bx, by = _hermite(x - i), _hermite(y - j)
    ds_dt = 1.0 / r
    d2s_dt2 = -t / (r * r * r)
    cx, cy = ds_dt / hs, 1.0 / (hv * xi)
    f, fx, fy, fxx = _interpolate(table, i, j, 0, bx, by)
    lnp, dp_dt, dp_dxi = f, fx * cx, fy * cy
    d2p_dt2 = fxx * cx * cx + fx * d2s_dt2 / hs
    if not with_sf:
        return True, lnp, dp_dt, dp_dxi, d2p_dt2, 0.0, 0.0, 0.0, 0.0
    f, fx, fy, fxx = _interpolate(table, i, j, 4, bx, by)
    return (True, lnp, dp_dt, dp_dxi, d2p_dt2, f, fx * cx, fy * cy, fxx * cx * cx + fx * d2s_dt2 / hs)
