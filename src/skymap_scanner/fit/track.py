"""Batched MPE track fits with the direction fixed: vertex (transverse to the track) and time.

Parametrisation. For an infinite track the vertex position along the track and t0 are degenerate, so
the along-track coordinate is fixed: the track is described by its crossing point with the plane
through the charge-weighted hit centre C perpendicular to the travel direction p,
r0 = a e1 + b e2 + (C·p) p, and the time t0 at which the muon crosses that plane. The fit minimises
-ln L(a, b, t0) (MPE, convolved Pandel, noise floor; ``physics.likelihood``) with analytic gradients:
BFGS started from a timing Hessian (see :func:`objective`), with a backtracking (Armijo) line search and capped
steps. Start: the seed's transverse position, and the best (lowest -ln L) of a few candidate times: the
earliest t0 that any hit allows (every residual ≥ 0) and the times at which direct light reaches each of the
``START_TIME_CANDIDATES`` brightest DOMs. Seen from early times -ln L rises smoothly (Pandel tails), while
from late times most DOMs sit in the Gaussian tail or on the noise floor, where the gradient vanishes; the
upstream seed time (direct light at the DOM closest to the seed track) often lies on that side: starting
there took 38–46 BFGS iterations per fit and left 30–60 % of the seven cylinder seeds of the *true*
direction in worse local minima, against 13–16 iterations and 100 % from the earliest time (simulated
50 TeV muons). The earliest time alone fails when a noise hit survives the cleaning: one hit 950 ns
before the light put t0 there, and every seed of the true direction then converged to a track 400 m
away from all DOMs (-ln L 2223 against 2009 at the truth); the bright-DOM candidates cannot be pulled
that way by a single dim noise hit (``docs/track-reco.md``).

Every (direction, seed) pair is an independent fit; :func:`_fit_batch` runs them in parallel with
``numba.prange``. The per-fit code (:func:`fit_one`) uses scalars only, so a CUDA kernel can call it
per thread with the same physics kernels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange

from skymap_scanner.fit.gpu import fit_batch_gpu, resolve_device
from skymap_scanner.fit.hits import DomHits
from skymap_scanner.physics.cherenkov import direct_delay_ns, transverse_basis, transverse_geometry
from skymap_scanner.physics.constants import (
    C_VACUUM_M_PER_NS,
    CHERENKOV_PATH_FACTOR,
    JITTER_MPE_NS,
    NOISE_FLOOR_PER_NS,
    PANDEL_H2,
    PandelIce,
)
from skymap_scanner.physics.cpandel_table import NO_TABLE, cached_table
from skymap_scanner.physics.likelihood import mpe_dom_loglike_tabulated, mpe_photon_count

#: Armijo sufficient-decrease constant; a rejected step is shortened by quadratic interpolation (to
#: 0.1-0.5 of itself; BACKTRACK when the interpolation has no minimum)
ARMIJO_C1 = 1e-4
BACKTRACK = 0.3
MAX_BACKTRACKS = 14
#: largest step per iteration: transverse [m], time [ns] (the whole step is scaled down together)
MAX_STEP_M = 100.0
MAX_STEP_NS = 300.0
#: the fit stops when an iteration improves -ln L by less than this and moves less than the steps below
LLH_TOL = 1e-4
STEP_TOL_M = 0.05
STEP_TOL_NS = 0.2
#: transverse positions are kept within this radius of the hit centre [m] (upstream bounds ±2000 m)
MAX_RADIUS_M = 2000.0
#: start-time candidates besides the earliest allowed time: direct light at this many brightest DOMs
START_TIME_CANDIDATES = 8


@dataclass(frozen=True)
class MpeSettings:
    """Likelihood and minimiser settings (defaults: docs/physics.md §6.2 baseline)."""

    ice: PandelIce = PANDEL_H2
    jitter_ns: float = JITTER_MPE_NS
    noise_floor_per_ns: float = NOISE_FLOOR_PER_NS
    max_iterations: int = 60
    #: ln p_σ and ln S_σ interpolated in a table (``physics.cpandel_table``; ≈ 2.5× faster per DOM, within
    #: ``TABLE_TOLERANCE`` of the exact kernels, which run outside its grid) instead of computed exactly
    tabulated: bool = True

    def model(self) -> tuple[float, float, float, float, float, float, float, float]:
        """(ρ, λ, p1, cs0, cs1, cs2, σ, ln floor) as the kernels take them."""
        ice = self.ice
        return (ice.rho_per_ns, ice.scattering_length_m, ice.p1, ice.cs0, ice.cs1, ice.cs2, self.jitter_ns,
                math.log(self.noise_floor_per_ns))

    def table(self) -> tuple[np.ndarray, tuple]:
        """(table, grid) of the convolved Pandel for this ice and jitter (``NO_TABLE`` unless ``tabulated``)."""
        return cached_table(self.ice.rho_per_ns, self.jitter_ns) if self.tabulated else NO_TABLE


# -- objective -----------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def objective(a: float, b: float, t0: float, pos: np.ndarray, t_hit: np.ndarray, n_ph: np.ndarray,
              frame: tuple, s_ref: float, model: tuple, table: np.ndarray, grid: tuple) -> tuple:
    """-ln L, its gradient (a, b, t0) and the timing Hessian (6 unique elements) for one track.

    Timing Hessian: Σ_i max(-∂²ℓ_i/∂t², 0) ∇t_i ∇t_iᵀ with ∇t_i the gradient of DOM i's residual — the
    exact Hessian without the ξ (d_eff) curvature and the residuals' own curvature, positive
    semi-definite, and free of the outliers that dominate a BHHH matrix far from the minimum.

    ``n_ph`` (D, 2): N and ln N per DOM; ``frame`` = (px, py, pz, e1x, e1y, e1z, e2x, e2y, e2z);
    (``table``, ``grid``): the tabulated convolved Pandel of ``physics.cpandel_table`` (``NO_TABLE``: the exact
    kernels)."""
    px, py, pz, e1x, e1y, e1z, e2x, e2y, e2z = frame
    rho, lam, p1, cs0, cs1, cs2, sigma, ln_floor = model
    k_over_c = CHERENKOV_PATH_FACTOR / C_VACUUM_M_PER_NS
    f = ga = gb = gt = 0.0
    haa = hab = hat = hbb = hbt = htt = 0.0
    for i in range(t_hit.shape[0]):
        x, y, z = pos[i, 0], pos[i, 1], pos[i, 2]
        u1 = x * e1x + y * e1y + z * e1z - a
        u2 = x * e2x + y * e2y + z * e2z - b
        d, cos_eta, dd1, dd2, dc1, dc2 = transverse_geometry(u1, u2, e1z, e2z, pz)
        t_res = t_hit[i] - t0 - direct_delay_ns(x * px + y * py + z * pz - s_ref, d)
        xi = (p1 * d + cs0 + cos_eta * (cs1 + cs2 * cos_eta)) / lam
        ell, dl_dt, dl_dxi, d2l_dt2 = mpe_dom_loglike_tabulated(t_res, xi, n_ph[i, 0], n_ph[i, 1], rho, sigma,
                                                                ln_floor, table, grid)
        dxi_dc = (cs1 + 2.0 * cs2 * cos_eta) / lam
        # u1 = X·e1 - a: ∂/∂a = -∂/∂u1; t_res falls by (K/c) ∂d
        la = dl_dt * k_over_c * dd1 - dl_dxi * (p1 * dd1 / lam + dxi_dc * dc1)
        lb = dl_dt * k_over_c * dd2 - dl_dxi * (p1 * dd2 / lam + dxi_dc * dc2)
        f -= ell
        ga -= la
        gb -= lb
        gt += dl_dt
        w = max(-d2l_dt2, 0.0)
        ta, tb = k_over_c * dd1, k_over_c * dd2  # ∂t_res/∂a, ∂t_res/∂b; ∂t_res/∂t0 = -1
        haa += w * ta * ta
        hab += w * ta * tb
        hat -= w * ta
        hbb += w * tb * tb
        hbt -= w * tb
        htt += w
    return f, ga, gb, gt, haa, hab, hat, hbb, hbt, htt


# -- small linear algebra on symmetric 3x3 matrices stored as (h00, h01, h02, h11, h12, h22) ------------
@njit(cache=True, error_model="numpy")
def _inverse_sym3(m00, m01, m02, m11, m12, m22):
    """Inverse of a symmetric positive-definite 3x3 matrix, with a relative ridge for safety."""
    ridge = 1e-9 * (m00 + m11 + m22) + 1e-300
    m00, m11, m22 = m00 + ridge, m11 + ridge, m22 + ridge
    c00 = m11 * m22 - m12 * m12
    c01 = m02 * m12 - m01 * m22
    c02 = m01 * m12 - m02 * m11
    det = m00 * c00 + m01 * c01 + m02 * c02
    c11 = m00 * m22 - m02 * m02
    c12 = m01 * m02 - m00 * m12
    c22 = m00 * m11 - m01 * m01
    return c00 / det, c01 / det, c02 / det, c11 / det, c12 / det, c22 / det


@njit(cache=True, error_model="numpy")
def _bfgs_update(h, s0, s1, s2, y0, y1, y2):
    """BFGS update of the inverse Hessian h; unchanged when the curvature sᵀy is not positive."""
    h00, h01, h02, h11, h12, h22 = h
    sy = s0 * y0 + s1 * y1 + s2 * y2
    if sy <= 1e-12 * math.sqrt((s0 * s0 + s1 * s1 + s2 * s2) * (y0 * y0 + y1 * y1 + y2 * y2)):
        return h
    r = 1.0 / sy
    hy0 = h00 * y0 + h01 * y1 + h02 * y2
    hy1 = h01 * y0 + h11 * y1 + h12 * y2
    hy2 = h02 * y0 + h12 * y1 + h22 * y2
    c = r + r * r * (y0 * hy0 + y1 * hy1 + y2 * hy2)
    return (h00 + c * s0 * s0 - 2.0 * r * hy0 * s0,
            h01 + c * s0 * s1 - r * (hy0 * s1 + s0 * hy1),
            h02 + c * s0 * s2 - r * (hy0 * s2 + s0 * hy2),
            h11 + c * s1 * s1 - 2.0 * r * hy1 * s1,
            h12 + c * s1 * s2 - r * (hy1 * s2 + s1 * hy2),
            h22 + c * s2 * s2 - 2.0 * r * hy2 * s2)


# -- one fit ----------------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _earliest_time(a, b, pos, t_hit, frame, s_ref):
    """The earliest t0 any DOM allows: min_i (t_i - direct delay_i), so that no residual is negative."""
    px, py, pz, e1x, e1y, e1z, e2x, e2y, e2z = frame
    t_min = math.inf
    for i in range(t_hit.shape[0]):
        u1 = pos[i, 0] * e1x + pos[i, 1] * e1y + pos[i, 2] * e1z - a
        u2 = pos[i, 0] * e2x + pos[i, 1] * e2y + pos[i, 2] * e2z - b
        d = transverse_geometry(u1, u2, e1z, e2z, pz)[0]
        along = pos[i, 0] * px + pos[i, 1] * py + pos[i, 2] * pz - s_ref
        t_min = min(t_min, t_hit[i] - direct_delay_ns(along, d))
    return t_min



@njit(cache=True, error_model="numpy")
def _capped_direction(h, ga, gb, gt):
    """Quasi-Newton step -h g, scaled so that it stays within MAX_STEP_M / MAX_STEP_NS."""
    h00, h01, h02, h11, h12, h22 = h
    da = -(h00 * ga + h01 * gb + h02 * gt)
    db = -(h01 * ga + h11 * gb + h12 * gt)
    dt = -(h02 * ga + h12 * gb + h22 * gt)
    scale = 1.0
    move = math.sqrt(da * da + db * db)
    if move > MAX_STEP_M:
        scale = MAX_STEP_M / move
    if abs(dt) * scale > MAX_STEP_NS:
        scale = MAX_STEP_NS / abs(dt)
    return da * scale, db * scale, dt * scale


@njit(cache=True, error_model="numpy")
def _backtracked(alpha, slope, rise):
    """Next trial step after a rejected one: minimum of the quadratic through f(0), f'(0) = ``slope`` and
    f(α) = f(0) + ``rise``, kept within [0.1 α, 0.5 α]."""
    curvature = rise - slope * alpha
    trial = -slope * alpha * alpha / (2.0 * curvature) if curvature > 0.0 else BACKTRACK * alpha
    return min(max(trial, 0.1 * alpha), 0.5 * alpha)


@njit(cache=True, error_model="numpy")
def _clamp_radius(a, b):
    r = math.sqrt(a * a + b * b)
    if r > MAX_RADIUS_M:
        return a * MAX_RADIUS_M / r, b * MAX_RADIUS_M / r
    return a, b


@njit(cache=True, error_model="numpy")
def _direct_time(a, b, i, pos, t_hit, frame, s_ref):
    """The t0 at which direct light reaches DOM i exactly at its first hit (residual 0)."""
    px, py, pz, e1x, e1y, e1z, e2x, e2y, e2z = frame
    u1 = pos[i, 0] * e1x + pos[i, 1] * e1y + pos[i, 2] * e1z - a
    u2 = pos[i, 0] * e2x + pos[i, 1] * e2y + pos[i, 2] * e2z - b
    d = transverse_geometry(u1, u2, e1z, e2z, pz)[0]
    return t_hit[i] - direct_delay_ns(pos[i, 0] * px + pos[i, 1] * py + pos[i, 2] * pz - s_ref, d)


@njit(cache=True, error_model="numpy")
def fit_one(pos, t_hit, n_ph, bright, frame, s_ref, seed, model, table, grid, max_iter):
    """Minimise -ln L from the seed position (x, y, z) [m], starting at the best of the earliest allowed time
    and the direct-light times of the DOMs ``bright`` (indices); returns (-ln L, a, b, t0, evaluations)."""
    px, py, pz, e1x, e1y, e1z, e2x, e2y, e2z = frame
    sx, sy, sz = seed
    a, b = _clamp_radius(sx * e1x + sy * e1y + sz * e1z, sx * e2x + sy * e2y + sz * e2z)
    t0 = _earliest_time(a, b, pos, t_hit, frame, s_ref)
    f, ga, gb, gt, m00, m01, m02, m11, m12, m22 = objective(a, b, t0, pos, t_hit, n_ph, frame, s_ref, model, table,
                                                            grid)
    n_eval = 1
    for j in range(bright.shape[0]):
        tj = _direct_time(a, b, bright[j], pos, t_hit, frame, s_ref)
        res = objective(a, b, tj, pos, t_hit, n_ph, frame, s_ref, model, table, grid)
        n_eval += 1
        if res[0] < f:
            t0 = tj
            f, ga, gb, gt, m00, m01, m02, m11, m12, m22 = res
    h = _inverse_sym3(m00, m01, m02, m11, m12, m22)
    for _ in range(max_iter):
        da, db, dt = _capped_direction(h, ga, gb, gt)
        slope = ga * da + gb * db + gt * dt
        if slope >= 0.0:  # not a descent direction: restart from the timing Hessian here
            h = _inverse_sym3(m00, m01, m02, m11, m12, m22)
            da, db, dt = _capped_direction(h, ga, gb, gt)
            slope = ga * da + gb * db + gt * dt
            if slope >= 0.0:
                break
        alpha = 1.0
        accepted = False
        for _ in range(MAX_BACKTRACKS):
            na, nb = _clamp_radius(a + alpha * da, b + alpha * db)
            nt = t0 + alpha * dt
            res = objective(na, nb, nt, pos, t_hit, n_ph, frame, s_ref, model, table, grid)
            n_eval += 1
            if res[0] <= f + ARMIJO_C1 * alpha * slope:
                accepted = True
                break
            alpha = _backtracked(alpha, slope, res[0] - f)
        if not accepted:
            break
        s0, s1, s2 = na - a, nb - b, nt - t0
        gain = f - res[0]
        h = _bfgs_update(h, s0, s1, s2, res[1] - ga, res[2] - gb, res[3] - gt)
        a, b, t0 = na, nb, nt
        f, ga, gb, gt, m00, m01, m02, m11, m12, m22 = res
        if gain < LLH_TOL and math.sqrt(s0 * s0 + s1 * s1) < STEP_TOL_M and abs(s2) < STEP_TOL_NS:
            break
    return f, a, b, t0, n_eval


@njit(cache=True, error_model="numpy")
def track_frame(px: float, py: float, pz: float) -> tuple:
    """(p, e1, e2) flattened: the travel direction and its transverse basis."""
    e1x, e1y, e1z, e2x, e2y, e2z = transverse_basis(px, py, pz)
    return px, py, pz, e1x, e1y, e1z, e2x, e2y, e2z


@njit(cache=True, error_model="numpy")
def fit_row(k, pos, t_hit, n_ph, bright, center, directions, seeds, model, table, grid, max_iter, out):
    """Fit row k: direction ``directions[k]`` (travel), seed ``seeds[k]``; writes out[k] = (-ln L, x, y, z,
    t0, evaluations). The unit of work of both back-ends: a ``prange`` iteration on the CPU
    (:func:`_fit_batch`), one thread on a GPU (``fit/gpu.py``)."""
    frame = track_frame(directions[k, 0], directions[k, 1], directions[k, 2])
    s_ref = center[0] * frame[0] + center[1] * frame[1] + center[2] * frame[2]
    seed = (seeds[k, 0], seeds[k, 1], seeds[k, 2])
    f, a, b, t0, it = fit_one(pos, t_hit, n_ph, bright, frame, s_ref, seed, model, table, grid, max_iter)
    for j in range(3):
        out[k, 1 + j] = a * frame[3 + j] + b * frame[6 + j] + s_ref * frame[j]
    out[k, 0] = f
    out[k, 4] = t0
    out[k, 5] = it


@njit(parallel=True, cache=True, error_model="numpy")
def _fit_batch(pos, t_hit, n_ph, bright, center, directions, seeds, model, table, grid, max_iter, out):
    """Fit every row: directions (F, 3) travel, seeds (F, 3); out (F, 6) = (-ln L, x, y, z, t0, evaluations)."""
    for k in prange(directions.shape[0]):
        fit_row(k, pos, t_hit, n_ph, bright, center, directions, seeds, model, table, grid, max_iter, out)


@dataclass(frozen=True)
class FitResult:
    """Best fit per track hypothesis: -ln L, vertex (N, 3) [m] on the plane through the hit centre,
    time [ns] there, and the number of likelihood evaluations of all fits tried."""

    llh: np.ndarray
    vertex_m: np.ndarray
    time_ns: np.ndarray
    evaluations: np.ndarray = field(repr=False)


class TrackFitter:
    """MPE track fits of one event's hits for many (direction, seeds) hypotheses at once."""

    def __init__(self, hits: DomHits, settings: MpeSettings | None = None, device: str | None = None) -> None:
        self.hits = hits
        self.settings = settings or MpeSettings()
        #: "cpu" or "gpu" after the fallback (:func:`skymap_scanner.fit.gpu.resolve_device`)
        self.device = resolve_device(device)
        n_photons = np.array([mpe_photon_count(q) for q in hits.charge_pe])
        #: (N, ln N) per DOM: the MPE photon count and its logarithm
        self._n_photons = np.ascontiguousarray(np.column_stack([n_photons, np.log(n_photons)]))
        self._bright = np.ascontiguousarray(np.argsort(-hits.charge_pe, kind="stable")[:START_TIME_CANDIDATES])
        self._model = self.settings.model()
        self._table, self._grid = self.settings.table()

    def fit(self, directions: np.ndarray, seeds: np.ndarray) -> FitResult:
        """``directions`` (N, 3) unit travel vectors; ``seeds`` (N, S, 3) seed positions [m], rows with a
        NaN are skipped. Returns the best of the S fits of each hypothesis (NaN llh if none ran)."""
        directions = np.asarray(directions, np.float64).reshape(-1, 3)
        seeds = np.asarray(seeds, np.float64).reshape(len(directions), -1, 3)
        valid = np.all(np.isfinite(seeds), axis=2)
        owner, which = np.nonzero(valid)
        out = np.full((len(owner), 6), np.nan)  # a row a kernel never wrote reads as a failed fit
        if len(owner):
            h = self.hits
            run = fit_batch_gpu if self.device == "gpu" else _fit_batch
            run(h.position_m, h.first_time_ns, self._n_photons, self._bright, h.center_m,
                np.ascontiguousarray(directions[owner]), np.ascontiguousarray(seeds[owner, which]),
                self._model, self._table, self._grid, self.settings.max_iterations, out)
        return _best_per_owner(len(directions), owner, out)


def _best_per_owner(n: int, owner: np.ndarray, out: np.ndarray) -> FitResult:
    llh = np.full(n, np.nan)
    vertex = np.full((n, 3), np.nan)
    time = np.full(n, np.nan)
    evaluations = np.zeros(n, np.int64)
    np.add.at(evaluations, owner, out[:, 5].astype(np.int64))
    order = np.lexsort((out[:, 0], owner))  # by owner, then llh: the first row per owner is its best
    first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]] if len(order) else order
    finite = np.isfinite(out[first, 0])
    best = first[finite]
    llh[owner[best]] = out[best, 0]
    vertex[owner[best]] = out[best, 1:4]
    time[owner[best]] = out[best, 4]
    return FitResult(llh, vertex, time, evaluations)
