"""Per-DOM timing likelihoods with the convolved Pandel PDF (docs/physics.md §6 [S2][S6]).

For a hit DOM with first-pulse residual t [ns] and N photoelectrons:

- SPE1st: L = p_σ(t) (charge ignored);
- MPE (first of N photons): L = N p_σ(t) S_σ(t)^(N-1), N = round(charge); N < 1.5 falls back to SPE
  (rpdf ``MPEfunc``);

and the event log-likelihood is Σ ln(L + n_floor) over hit DOMs, the noise floor n_floor [1/ns] capping
the penalty of outlier hits (not a normalised mixture). Kernels return ln(L + n_floor) and its
derivatives with respect to the residual and to ξ = d_eff / λ: :func:`mpe_dom_loglike` from the exact
convolved-Pandel kernels, :func:`mpe_dom_loglike_tabulated` from the table of ``cpandel_table`` (the track
fit's default). Each combines ln p and ln S into ln L itself: the exact one keeps its arithmetic order, so
scans with the exact kernels reproduce earlier llh bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from skymap_scanner.physics.constants import NOISE_FLOOR_PER_NS, PandelIce
from skymap_scanner.physics.cpandel_table import cpandel_log_table
from skymap_scanner.physics.pandel import cpandel_log
from skymap_scanner.physics.special import LN_SQRT_2PI

#: the tabulated likelihood returns the floor alone where an upper bound on L is below e^-FLOOR_GAP floor
#: (the physics term then changes ln(L + floor) by < 1e-17, below double precision)
FLOOR_GAP = 40.0


@njit(cache=True, error_model="numpy")
def mpe_photon_count(charge_pe: float) -> float:
    """N = round(charge) as in rpdf ``MPEfunc`` (floor(q + 0.5)), at least 1."""
    return max(1.0, math.floor(charge_pe + 0.5))


@njit(cache=True, error_model="numpy")
def mpe_dom_loglike(t_res: float, xi: float, n_photons: float, rho: float, sigma: float,
                    ln_floor: float) -> tuple[float, float, float, float]:
    """(ℓ = ln(L_MPE + floor), ∂ℓ/∂t_res, ∂ℓ/∂ξ, ∂²ℓ/∂t_res²) for N = ``n_photons`` ≥ 1 (N = 1: SPE1st)."""
    with_sf = n_photons > 1.5
    lnp, dp_dt, dp_dxi, d2p_dt2, lns, ds_dxi = cpandel_log(t_res, xi, rho, sigma, with_sf)
    ln_phys, d_dt, d_dxi, d2_dt2 = lnp, dp_dt, dp_dxi, d2p_dt2
    if with_sf:
        extra = n_photons - 1.0
        hazard = math.exp(lnp - lns)  # p/S = -∂ ln S/∂t
        ln_phys += math.log(n_photons) + extra * lns
        d_dt -= extra * hazard
        d_dxi += extra * ds_dxi
        d2_dt2 -= extra * hazard * (dp_dt + hazard)
    return _with_floor(ln_phys, d_dt, d_dxi, d2_dt2, ln_floor)


@njit(cache=True, error_model="numpy")
def mpe_dom_loglike_tabulated(t_res: float, xi: float, n_photons: float, ln_n_photons: float, rho: float,
                              sigma: float, ln_floor: float, table: np.ndarray,
                              grid: tuple) -> tuple[float, float, float, float]:
    """:func:`mpe_dom_loglike` with ln p_σ and ln S_σ interpolated in ``table`` (``cpandel_table.build_table(ρ,
    σ)``; the derivatives are the interpolant's own), and the exact kernels outside its grid; ``ln_n_photons``
    = ln N, precomputed (a logarithm per DOM is a quarter of the tabulated cost)."""
    if grid[3] < 2.0:  # no table (``NO_TABLE``): the exact kernels, unchanged
        return mpe_dom_loglike(t_res, xi, n_photons, rho, sigma, ln_floor)
    if t_res < 0.0 and ln_n_photons - 0.5 * (t_res / sigma) ** 2 - math.log(sigma) - LN_SQRT_2PI < ln_floor - FLOOR_GAP:
        # deep in the Gaussian tail p_σ(t) ≤ φ(t/σ)/σ (t < 0; S_σ ≤ 1): L < e^-FLOOR_GAP floor, so
        # ln(L + floor) = ln floor and the derivatives vanish to double precision
        return ln_floor, 0.0, 0.0, 0.0
    with_sf = n_photons > 1.5
    inside, lnp, dp_dt, dp_dxi, d2p_dt2, lns, ds_dt, ds_dxi, d2s_dt2 = cpandel_log_table(t_res, xi, table, grid,
                                                                                          with_sf)
    if not inside:
        return mpe_dom_loglike(t_res, xi, n_photons, rho, sigma, ln_floor)
    ln_phys, d_dt, d_dxi, d2_dt2 = lnp, dp_dt, dp_dxi, d2p_dt2
    if with_sf:
        extra = n_photons - 1.0
        ln_phys += ln_n_photons + extra * lns
        d_dt += extra * ds_dt
        d_dxi += extra * ds_dxi
        d2_dt2 += extra * d2s_dt2
    return _with_floor(ln_phys, d_dt, d_dxi, d2_dt2, ln_floor)


@njit(cache=True, error_model="numpy")
def _with_floor(ln_phys: float, d_dt: float, d_dxi: float, d2_dt2: float,
                ln_floor: float) -> tuple[float, float, float, float]:
    """ℓ = ln(L + floor) and its derivatives from ln L's: with w = L/(L + floor) the weight of the physics
    term, ∂ℓ = w ∂ ln L and ∂²ℓ = w ∂² ln L + w (1 - w) (∂ ln L)²."""
    if ln_phys >= ln_floor:
        e = math.exp(ln_floor - ln_phys)
        value, weight = ln_phys + math.log1p(e), 1.0 / (1.0 + e)
    else:
        e = math.exp(ln_phys - ln_floor)
        value, weight = ln_floor + math.log1p(e), e / (1.0 + e)
    curvature = weight * d2_dt2 + weight * (1.0 - weight) * d_dt * d_dt
    return value, weight * d_dt, weight * d_dxi, curvature


@njit(cache=True, error_model="numpy")
def _loglike_arrays(t_res: np.ndarray, xi: np.ndarray, n: np.ndarray, rho: float, sigma: float,
                    ln_floor: float) -> np.ndarray:
    out = np.empty(t_res.size)
    for i in range(t_res.size):
        out[i] = mpe_dom_loglike(t_res[i], xi[i], n[i], rho, sigma, ln_floor)[0]
    return out


def mpe_loglike(t_res_ns: np.ndarray, d_eff_m: np.ndarray, charge_pe: np.ndarray, ice: PandelIce,
                sigma_ns: float, floor_per_ns: float = NOISE_FLOOR_PER_NS) -> np.ndarray:
    """ln(L_MPE + floor) per DOM for arrays of residuals [ns], effective distances [m], charges [PE]."""
    t, d, q = (np.ascontiguousarray(a, np.float64).ravel()
               for a in np.broadcast_arrays(t_res_ns, d_eff_m, charge_pe))
    n = np.array([mpe_photon_count(v) for v in q])
    return _loglike_arrays(t, d / ice.scattering_length_m, n, ice.rho_per_ns, sigma_ns, math.log(floor_per_ns))


def spe_loglike(t_res_ns: np.ndarray, d_eff_m: np.ndarray, ice: PandelIce, sigma_ns: float,
                floor_per_ns: float = NOISE_FLOOR_PER_NS) -> np.ndarray:
    """ln(L_SPE1st + floor) per DOM."""
    return mpe_loglike(t_res_ns, d_eff_m, np.ones(np.broadcast(t_res_ns, d_eff_m).shape), ice, sigma_ns,
                       floor_per_ns)
