"""The Pandel photon-delay PDF and its Gaussian-convolved form ("cPandel"), with survival functions.

Pandel (docs/physics.md §4 [S2][S3]): p(t) = ρ^ξ t^(ξ-1) e^(-ρt) / Γ(ξ) for t > 0, a gamma distribution of
shape ξ = d_eff/λ and rate ρ = 1/τ + c_ice/λ_a [1/ns]; survival Q(ξ, ρt).

Convolved with N(0, σ) (van Eijndhoven, Fadiran, Japaridze, Astropart. Phys. 28 (2007) 456; docs/physics.md
§5), exactly, for every t, with c = ρσ and μ = t/σ - c:

    p_σ(t) = c^ξ e^(c²/2 - ρt) J(ξ, μ) / (σ Γ(ξ) √(2π))
    F_σ(t) = 1 - S_σ(t) = e^(c²/2 - ρt) / √(2π) Σ_(m≥0) c^(ξ+m) J(ξ+m+1, μ) / Γ(ξ+m+1)

with J the Gaussian power integral of ``special.py``. The F series (positive terms, obtained by
repeated integration by parts of ∫ g(u) Φ((t-u)/σ) du) converges fast while ρt is moderate; the
ratios J(ξ+m+1)/J(ξ+m) follow from J(ξ+2) = μ J(ξ+1) + ξ J(ξ). Where S_σ is small (late times) the
survival is computed instead as S_σ = Q(ξ, ρt) + Δ, Δ = Σ_k σ^(2k)/(2^k k!) ∂_t^(2k) Q (three terms),
which avoids the cancellation in 1 - F.

Every kernel returns logs and the derivatives the fit needs (d/dt and d/dξ); times in ns, rates in
1/ns. Array wrappers for tests and plots are at the end.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from skymap_scanner.physics.special import (
    LN_SQRT_2PI,
    digamma,
    gauss_power_integral,
    log_gamma_q,
    log_gamma_q_with,
)

#: S_σ is taken from Q(ξ, ρt) + Δ instead of 1 - F from μ = t/σ - ρσ on (and wherever S_σ would be
#: below SF_SERIES_MIN); Δ's next term is then ≤ (2k-1)!! / μ^(2k) ~ 1e-10 relative
SF_TAIL_MIN_MU = 20.0
SF_SERIES_MIN = 1e-2
F_SERIES_MAX_TERMS = 400
F_SERIES_TOL = 1e-17
#: terms of the σ² expansion of the late-time survival
SF_TAIL_ORDER = 4


@njit(cache=True, error_model="numpy")
def pandel_log_pdf(t: float, xi: float, rho: float) -> float:
    """ln p(t) of the unconvolved Pandel PDF [1/ns]; -inf for t ≤ 0."""
    if t <= 0.0:
        return -math.inf
    return xi * math.log(rho) + (xi - 1.0) * math.log(t) - rho * t - math.lgamma(xi)


@njit(cache=True, error_model="numpy")
def pandel_log_sf(t: float, xi: float, rho: float) -> float:
    """ln Q(ξ, ρt): log survival of the unconvolved Pandel PDF (0 for t ≤ 0)."""
    return log_gamma_q(xi, rho * t)[0]


@njit(cache=True, error_model="numpy")
def _sf_series(t: float, xi: float, rho: float, sigma: float, ln_ratio: float, dln_ratio: float,
               l1: float, d1: float, lgamma_xi: float, digamma_xi: float) -> tuple[float, float]:
    """(F_σ, ∂F_σ/∂ξ) by the series in J(ξ+m+1, μ); ln_ratio = ln J(ξ+1)/J(ξ) and its ξ-derivative."""
    c = rho * sigma
    mu = t / sigma - c
    ln_head = 0.5 * c * c - rho * t - LN_SQRT_2PI + xi * math.log(c) + l1 - lgamma_xi - math.log(xi)
    dln_head = math.log(c) + d1 - digamma_xi - 1.0 / xi
    ratio = math.exp(ln_ratio)  # J(ξ+m+1)/J(ξ+m) for m = 0
    dratio = ratio * dln_ratio
    term, dln_term = 1.0, 0.0
    total, dtotal = 1.0, 0.0
    for m in range(1, F_SERIES_MAX_TERMS):
        ratio_new = mu + (xi + m - 1.0) / ratio
        dratio = 1.0 / ratio - (xi + m - 1.0) * dratio / (ratio * ratio)
        ratio = ratio_new
        if ratio <= 0.0:
            break  # deep negative μ: the remaining terms are below 1e-17 of the sum and lost to rounding
        term *= c * ratio / (xi + m)
        dln_term += dratio / ratio - 1.0 / (xi + m)
        total += term
        dtotal += term * dln_term
        if term < F_SERIES_TOL * total:
            break
    head = math.exp(ln_head)
    return head * total, head * (total * dln_head + dtotal)


@njit(cache=True, error_model="numpy")
def _sf_tail(t: float, xi: float, rho: float, sigma: float, lgamma_xi: float,
             digamma_xi: float) -> tuple[float, float]:
    """(ln S_σ, ∂ ln S_σ/∂ξ) at late times: Q(ξ, ρt) plus the σ² expansion of the convolution.

    Δ/Q = -(g/Q) Σ_k σ^(2k)/(2^k k!) G_(2k-1) with g the Pandel PDF and
    G_n = g^(n)/g = Σ_j C(n, j) (-ρ)^(n-j) (ξ-1)(ξ-2)…(ξ-j) / t^j (terms built by running products)."""
    ln_q, dln_q = log_gamma_q_with(xi, rho * t, lgamma_xi, digamma_xi)
    ln_g = xi * math.log(rho) + (xi - 1.0) * math.log(t) - rho * t - lgamma_xi
    dln_g = math.log(rho * t) - digamma_xi
    ratio = -1.0 / (rho * t)  # (1/t) / (-ρ): from (-ρ)^(n-j) t^-j to (-ρ)^(n-j-1) t^-(j+1)
    corr, dcorr = 0.0, 0.0
    coeff, lead = 1.0, 1.0  # σ^(2k) / (2^k k!), (-ρ)^n
    for k in range(1, SF_TAIL_ORDER + 1):
        n = 2 * k - 1
        coeff *= 0.5 * sigma * sigma / k
        lead *= -rho if k == 1 else rho * rho
        g_n, dg_n = lead, 0.0
        w, fall, dfall = lead, 1.0, 0.0  # w = C(n, j) (-ρ)^(n-j) / t^j; fall = (ξ-1)…(ξ-j)
        for j in range(1, n + 1):
            w *= ratio * (n - j + 1.0) / j
            dfall = dfall * (xi - j) + fall
            fall *= xi - j
            g_n += w * fall
            dg_n += w * dfall
        corr += coeff * g_n
        dcorr += coeff * dg_n
    scale = math.exp(ln_g - ln_q)
    rel = -scale * corr
    drel = -scale * ((dln_g - dln_q) * corr + dcorr)
    return ln_q + math.log1p(rel), dln_q + drel / (1.0 + rel)


@njit(cache=True, error_model="numpy")
def cpandel_log(t: float, xi: float, rho: float, sigma: float,
                with_sf: bool) -> tuple[float, float, float, float, float, float]:
    """(ln p_σ, ∂ ln p_σ/∂t, ∂ ln p_σ/∂ξ, ∂² ln p_σ/∂t², ln S_σ, ∂ ln S_σ/∂ξ) at residual t [ns], shape
    ξ, rate ρ [1/ns], jitter σ [ns]; the survival terms are 0 unless ``with_sf``.

    With r = J(ξ+1)/J(ξ): ∂ ln p_σ/∂t = -ρ + (r - μ)/σ, ∂² ln p_σ/∂t² = (∂² ln J/∂μ²)/σ²;
    ∂ ln S_σ/∂t = -p_σ/S_σ exactly."""
    c = rho * sigma
    mu = t / sigma - c
    l0, l1, d0, d1, curvature = gauss_power_integral(xi, mu)
    lnc = math.log(c)
    lgamma_xi, digamma_xi = math.lgamma(xi), digamma(xi)
    lnp = xi * lnc - math.log(sigma) - lgamma_xi - LN_SQRT_2PI + 0.5 * c * c - rho * t + l0
    dlnp_dt = -rho + (math.exp(l1 - l0) - mu) / sigma
    d2lnp_dt2 = curvature / (sigma * sigma)
    dlnp_dxi = lnc - digamma_xi + d0
    if not with_sf:
        return lnp, dlnp_dt, dlnp_dxi, d2lnp_dt2, 0.0, 0.0
    if mu < SF_TAIL_MIN_MU and rho * t < xi + 3.0 + 3.0 * math.sqrt(xi):
        f, df = _sf_series(t, xi, rho, sigma, l1 - l0, d1 - d0, l1, d1, lgamma_xi, digamma_xi)
        if f <= 1.0 - SF_SERIES_MIN:
            return lnp, dlnp_dt, dlnp_dxi, d2lnp_dt2, math.log1p(-f), -df / (1.0 - f)
    lns, dlns = _sf_tail(t, xi, rho, sigma, lgamma_xi, digamma_xi)
    return lnp, dlnp_dt, dlnp_dxi, d2lnp_dt2, lns, dlns


# -- array wrappers ------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _cpandel_arrays(t: np.ndarray, xi: np.ndarray, rho: float, sigma: float,
                    with_sf: bool) -> tuple[np.ndarray, np.ndarray]:
    lnp = np.empty(t.size)
    lns = np.empty(t.size)
    for i in range(t.size):
        lnp[i], _, _, _, lns[i], _ = cpandel_log(t[i], xi[i], rho, sigma, with_sf)
    return lnp, lns


def _broadcast(t_ns: np.ndarray, d_eff_m: np.ndarray, scattering_length_m: float) -> tuple[np.ndarray, np.ndarray]:
    t, d = np.broadcast_arrays(np.asarray(t_ns, np.float64), np.asarray(d_eff_m, np.float64))
    return np.ascontiguousarray(t).ravel(), np.ascontiguousarray(d).ravel() / scattering_length_m


def cpandel_pdf(t_ns: np.ndarray, d_eff_m: np.ndarray, rho_per_ns: float, scattering_length_m: float,
                sigma_ns: float) -> np.ndarray:
    """Convolved Pandel PDF p_σ(t) [1/ns] at residuals t [ns] and effective distances d_eff [m]."""
    t, xi = _broadcast(t_ns, d_eff_m, scattering_length_m)
    lnp, _ = _cpandel_arrays(t, xi, rho_per_ns, sigma_ns, False)
    return np.exp(lnp).reshape(np.broadcast_shapes(np.shape(t_ns), np.shape(d_eff_m)))


def cpandel_sf(t_ns: np.ndarray, d_eff_m: np.ndarray, rho_per_ns: float, scattering_length_m: float,
               sigma_ns: float) -> np.ndarray:
    """Survival S_σ(t) = ∫_t^∞ p_σ of the convolved Pandel PDF."""
    t, xi = _broadcast(t_ns, d_eff_m, scattering_length_m)
    _, lns = _cpandel_arrays(t, xi, rho_per_ns, sigma_ns, True)
    return np.exp(lns).reshape(np.broadcast_shapes(np.shape(t_ns), np.shape(d_eff_m)))
