"""Special functions behind the Gaussian-convolved Pandel PDF, as scalar numba kernels.

The central function is the Gaussian power integral

    J(ξ, μ) = ∫_0^∞ v^(ξ-1) exp(-(v - μ)² / 2) dv = Γ(ξ) e^(-μ²/4) D_(-ξ)(-μ)

(D = parabolic cylinder function). The convolved Pandel PDF is an elementary factor times J, and its
survival function a fast series in J(ξ+m, μ) (``pandel.py``). J is returned in log form together with
J(ξ+1, μ) and the ξ-derivatives of both logs, because the fit needs d/dt and d/dξ. Evaluation by region,
every branch accurate to about 1e-9 relative (tests/test_physics_special.py):

- large μ: the asymptotic expansion J ≈ √(2π) μ^(ξ-1) Σ_k (ξ-1)(ξ-2)…(ξ-2k) / (2^k k! μ^(2k)), used only
  when it has converged;
- the integrand's mode far (``AGH_MIN_SEPARATION`` widths) from the end point v = 0: adaptive
  Gauss–Hermite quadrature centred at the mode (any sign of μ);
- otherwise μ ≥ -``ALTERNATING_MAX_Z``: the power series in μ, whose terms are all positive for μ ≥ 0;
- otherwise (μ = -z, z > 0): the Wronskian of the two solutions J(ξ, ±μ) of J'' + μ J' + (1 - ξ) J = 0,
  W = -√(2π) Γ(ξ) e^(-μ²/2), which gives J(ξ, -z) = √(2π) Γ(ξ) e^(-z²/2) / [J(ξ+1, z) + r J(ξ, z)] with
  only positive terms; r = J(ξ+1, -z) / J(ξ, -z) is the minimal solution of the ratio recurrence
  r_k = (ξ + k) / (z + r_(k+1)), evaluated backwards (stable).

Also the regularised upper incomplete gamma function Q(s, y) in log form with its s-derivative (series
or Lentz continued fraction, Numerical Recipes §6.2, differentiated forward) and the digamma function.
Only ``math`` functions and scalar arithmetic are used, so the same kernels compile for CUDA devices.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

LN_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
LN2 = math.log(2.0)

#: adaptive Gauss–Hermite: nodes/weights for ∫ e^(-x²/2) f(x) dx; weights pre-multiplied by e^(x²/2)
AGH_NODES = 16
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(AGH_NODES)
_GH_WE = _GH_W * np.exp(0.5 * _GH_X**2)
#: AGH is used when the mode lies at least this many Gaussian widths above v = 0 (errors < 1e-9 in
#: ln J, < 1e-8 in its ξ-derivative)
AGH_MIN_SEPARATION = 7.0
#: the asymptotic expansion is tried from this μ on, with at most this many terms
ASYMPTOTIC_MIN_MU = 12.0
ASYMPTOTIC_MAX_TERMS = 12
#: the power series is used for negative μ down to -this (its cancellation stays below ~1e-8)
ALTERNATING_MAX_Z = 1.5
SERIES_MAX_TERMS = 600
SERIES_TOL = 1e-16
GAMMA_CF_MAX_ITER = 500
GAMMA_EPS = 1e-15
_FPMIN = 1e-300


@njit(cache=True, error_model="numpy")
def digamma(x: float) -> float:
    """ψ(x) for x > 0: upward recurrence to x ≥ 6, then the asymptotic series (error < 1e-14)."""
    r = 0.0
    while x < 6.0:
        r -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    tail = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))))
    return r + math.log(x) - 0.5 / x - tail


# -- J(ξ, μ) by region ---------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def integrand_mode(xi: float, mu: float) -> tuple[float, float, float]:
    """(v*, h, v*/h): mode of v^(ξ-1) e^(-(v-μ)²/2), its Gaussian width, and their ratio
    (0 when the integrand has no interior mode)."""
    a = xi - 1.0
    disc = mu * mu + 4.0 * a
    if disc <= 0.0:
        return 0.0, 0.0, 0.0
    vs = 0.5 * (mu + math.sqrt(disc))
    if vs <= 0.0:
        return 0.0, 0.0, 0.0
    curvature = 1.0 + a / (vs * vs)
    if curvature <= 0.0:
        return 0.0, 0.0, 0.0
    h = 1.0 / math.sqrt(curvature)
    return vs, h, vs / h


@njit(cache=True, error_model="numpy")
def _agh(xi: float, mu: float, vs: float, h: float) -> tuple[float, float, float, float]:
    """Adaptive Gauss–Hermite quadrature at the mode v*, width h."""
    a = xi - 1.0
    phi0 = a * math.log(vs) - 0.5 * (vs - mu) ** 2
    s0 = s1 = e0 = e1 = 0.0
    for k in range(AGH_NODES):
        v = vs + h * _GH_X[k]
        if v <= 0.0:
            continue
        lv = math.log(v)
        f = _GH_WE[k] * math.exp(a * lv - 0.5 * (v - mu) ** 2 - phi0)
        s0 += f
        s1 += f * v
        e0 += f * lv
        e1 += f * v * lv
    base = phi0 + math.log(h)
    return base + math.log(s0), base + math.log(s1), e0 / s0, e1 / s1


@njit(cache=True, error_model="numpy")
def _series(xi: float, mu: float) -> tuple[float, float, float, float]:
    """Power series J(ξ) = e^(-μ²/2) Σ_k μ^k G_k / k!, G_k = 2^((ξ+k)/2-1) Γ((ξ+k)/2), and the same
    with G_(k+1) for J(ξ+1). Terms relative to G_0; d ln G_k/dξ = P_k with P_(k+2) = P_k + 1/(ξ+k)."""
    lg0 = (0.5 * xi - 1.0) * LN2 + math.lgamma(0.5 * xi)
    ratio10 = math.exp(0.5 * LN2 + math.lgamma(0.5 * (xi + 1.0)) - math.lgamma(0.5 * xi))
    p0 = 0.5 * LN2 + 0.5 * digamma(0.5 * xi)
    p1 = 0.5 * LN2 + 0.5 * digamma(0.5 * (xi + 1.0))
    mu2 = mu * mu
    # a_k = μ^k G_k/(k! G_0) with weight P_k; b_k = μ^k G_(k+1)/(k! G_0) with weight P_(k+1)
    a_2, a_1, pa_2, pa_1 = 1.0, mu * ratio10, p0, p1
    b_2, b_1, pb_2, pb_1 = ratio10, mu * xi, p1, p0 + 1.0 / xi
    sa, sb = a_2 + a_1, b_2 + b_1
    da, db = a_2 * pa_2 + a_1 * pa_1, b_2 * pb_2 + b_1 * pb_1
    for k in range(2, SERIES_MAX_TERMS):
        step = mu2 / (k * (k - 1.0))
        a = a_2 * step * (xi + k - 2.0)
        b = b_2 * step * (xi + k - 1.0)
        pa = pa_2 + 1.0 / (xi + k - 2.0)
        pb = pb_2 + 1.0 / (xi + k - 1.0)
        sa += a
        sb += b
        da += a * pa
        db += b * pb
        if k > mu2 and abs(a) + abs(a_1) < SERIES_TOL * abs(sa) and abs(b) + abs(b_1) < SERIES_TOL * abs(sb):
            break
        a_2, a_1, pa_2, pa_1 = a_1, a, pa_1, pa
        b_2, b_1, pb_2, pb_1 = b_1, b, pb_1, pb
    base = lg0 - 0.5 * mu2
    return base + math.log(sa), base + math.log(sb), da / sa, db / sb


@njit(cache=True, error_model="numpy")
def _asymptotic_sum(s: float, mu: float) -> tuple[bool, float, float, float]:
    """T = Σ_k a_k μ^(-2k), a_k = (s-1)(s-2)…(s-2k) / (2^k k!): (converged, T, ∂T/∂s, ∂² ln T/∂μ²)."""
    inv_mu2 = 1.0 / (mu * mu)
    term, dterm = 1.0, 0.0
    total, dtotal, dmu, d2mu = 1.0, 0.0, 0.0, 0.0
    for k in range(1, ASYMPTOTIC_MAX_TERMS + 1):
        f1, f2 = s - 2.0 * k + 1.0, s - 2.0 * k
        scale = inv_mu2 / (2.0 * k)
        dterm = (dterm * f1 * f2 + term * (f1 + f2)) * scale
        term = term * f1 * f2 * scale
        total += term
        dtotal += dterm
        dmu -= 2.0 * k * term / mu
        d2mu += 2.0 * k * (2.0 * k + 1.0) * term * inv_mu2
        if abs(term) < 1e-13 * abs(total) and abs(dterm) < 1e-12 * (1.0 + abs(dtotal)):
            return total > 0.0, total, dtotal, d2mu / total - (dmu / total) ** 2
    return False, total, dtotal, 0.0


@njit(cache=True, error_model="numpy")
def _asymptotic(xi: float, mu: float) -> tuple[bool, float, float, float, float, float]:
    """Large-μ expansion J(s) ≈ √(2π) μ^(s-1) T(s, μ) for s = ξ and ξ + 1, and ∂² ln J(ξ)/∂μ²
    = -(ξ-1)/μ² + ∂² ln T/∂μ² (free of the cancellation in ξ - 1 + r (μ - r))."""
    ok0, t0, dt0, curv_t = _asymptotic_sum(xi, mu)
    ok1, t1, dt1, _ = _asymptotic_sum(xi + 1.0, mu)
    if not (ok0 and ok1):
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    lmu = math.log(mu)
    return (True, LN_SQRT_2PI + (xi - 1.0) * lmu + math.log(t0), LN_SQRT_2PI + xi * lmu + math.log(t1),
            lmu + dt0 / t0, lmu + dt1 / t1, -(xi - 1.0) / (mu * mu) + curv_t)


@njit(cache=True, error_model="numpy")
def _agh_or_series(xi: float, mu: float) -> tuple[float, float, float, float]:
    """Adaptive Gauss–Hermite when the mode is far from v = 0, else the power series."""
    vs, h, sep = integrand_mode(xi, mu)
    if sep >= AGH_MIN_SEPARATION:
        return _agh(xi, mu, vs, h)
    return _series(xi, mu)


@njit(cache=True, error_model="numpy")
def _positive(xi: float, mu: float) -> tuple[float, float, float, float]:
    """J for μ ≥ -ALTERNATING_MAX_Z: asymptotic expansion where it converges, else AGH or series."""
    if mu >= ASYMPTOTIC_MIN_MU:
        ok, l0, l1, d0, d1, _ = _asymptotic(xi, mu)
        if ok:
            return l0, l1, d0, d1
    return _agh_or_series(xi, mu)


@njit(cache=True, error_model="numpy")
def _ratio_cf(xi: float, z: float) -> tuple[float, float]:
    """r = J(ξ+1, -z) / J(ξ, -z) and dr/dξ for z > 0: backward recurrence r_k = (ξ+k) / (z + r_(k+1))
    started deep (k = N) at the mean of the k-th integrand, v* + a v* / (a + v*²)²."""
    n = 12 + int(min(60.0 / (z * z), 200.0))
    a = xi + n - 1.0
    root = math.sqrt(z * z + 4.0 * a)
    v = 0.5 * (root - z)
    r = v + a * v / (a + v * v) ** 2
    dr = 1.0 / root
    for k in range(n - 1, -1, -1):
        den = z + r
        r_new = (xi + k) / den
        dr = (1.0 - r_new * dr) / den
        r = r_new
    return r, dr


@njit(cache=True, error_model="numpy")
def _wronskian(xi: float, z: float) -> tuple[float, float, float, float]:
    """J(ξ, -z) for z > 0 from J(ξ, z), J(ξ+1, z) and the minimal ratio r (no cancellation)."""
    lp0, lp1, dp0, dp1 = _positive(xi, z)
    r, dr = _ratio_cf(xi, z)
    q = math.exp(lp1 - lp0)
    ln_den = lp0 + math.log(q + r)
    dln_den = (q * dp1 + dr + r * dp0) / (q + r)
    l0 = LN_SQRT_2PI + math.lgamma(xi) - 0.5 * z * z - ln_den
    d0 = digamma(xi) - dln_den
    return l0, l0 + math.log(r), d0, d0 + dr / r


@njit(cache=True, error_model="numpy")
def gauss_power_integral(xi: float, mu: float) -> tuple[float, float, float, float, float]:
    """(ln J(ξ, μ), ln J(ξ+1, μ), ∂ ln J(ξ, μ)/∂ξ, ∂ ln J(ξ+1, μ)/∂ξ, ∂² ln J(ξ, μ)/∂μ²) for ξ > 0, any μ.

    From ∂J(ξ)/∂μ = J(ξ+1) - μ J(ξ) and J(ξ+2) = μ J(ξ+1) + ξ J(ξ): ∂² ln J/∂μ² = ξ - 1 + r (μ - r),
    r = J(ξ+1)/J(ξ) (taken from the expansion itself at large μ, where this form cancels)."""
    if mu >= ASYMPTOTIC_MIN_MU:
        ok, l0, l1, d0, d1, curvature = _asymptotic(xi, mu)
        if ok:
            return l0, l1, d0, d1, curvature
    if mu >= -ALTERNATING_MAX_Z:
        l0, l1, d0, d1 = _agh_or_series(xi, mu)
    else:
        l0, l1, d0, d1 = _wronskian(xi, -mu)
    r = math.exp(l1 - l0)
    return l0, l1, d0, d1, xi - 1.0 + r * (mu - r)


# -- incomplete gamma function -------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _gamma_p_series(s: float, y: float, lgamma_s: float, digamma_s: float) -> tuple[float, float]:
    """(ln P(s, y), ∂ ln P/∂s) by the series P = y^s e^(-y) / Γ(s+1) Σ_n y^n / ((s+1)…(s+n))."""
    term, dterm = 1.0, 0.0
    total, dtotal = 1.0, 0.0
    for n in range(1, GAMMA_CF_MAX_ITER):
        inv = 1.0 / (s + n)
        dterm = (dterm - term * inv) * y * inv
        term = term * y * inv
        total += term
        dtotal += dterm
        if term < GAMMA_EPS * total:
            break
    ln_y = math.log(y)
    ln_p = -y + s * ln_y - lgamma_s - math.log(s) + math.log(total)
    return ln_p, ln_y - digamma_s - 1.0 / s + dtotal / total


@njit(cache=True, error_model="numpy")
def _gamma_q_cf(s: float, y: float, lgamma_s: float, digamma_s: float) -> tuple[float, float]:
    """(ln Q(s, y), ∂ ln Q/∂s) by the modified Lentz continued fraction, differentiated forward."""
    b, db = y + 1.0 - s, -1.0
    c, dc = 1.0 / _FPMIN, 0.0
    d = 1.0 / b
    dd = -db * d * d
    h, dh = d, dd
    for i in range(1, GAMMA_CF_MAX_ITER):
        an, dan = -i * (i - s), float(i)
        b += 2.0
        den = an * d + b
        dden = dan * d + an * dd + db
        if abs(den) < _FPMIN:
            den = _FPMIN
        c_new = b + an / c
        dc = db + dan / c - an * dc / (c * c)
        c = c_new if abs(c_new) >= _FPMIN else _FPMIN
        d = 1.0 / den
        dd = -dden * d * d
        delta = d * c
        ddelta = dd * c + d * dc
        dh = dh * delta + h * ddelta
        h *= delta
        if abs(delta - 1.0) < GAMMA_EPS and abs(ddelta) < GAMMA_EPS * (1.0 + abs(dh / h)):
            break
    ln_y = math.log(y)
    return -y + s * ln_y - lgamma_s + math.log(h), ln_y - digamma_s + dh / h


@njit(cache=True, error_model="numpy")
def log_gamma_q_with(s: float, y: float, lgamma_s: float, digamma_s: float) -> tuple[float, float]:
    """:func:`log_gamma_q` given ln Γ(s) and ψ(s) (callers that already have them)."""
    if y <= 0.0:
        return 0.0, 0.0
    if y < s + 1.0:
        ln_p, dln_p = _gamma_p_series(s, y, lgamma_s, digamma_s)
        p = math.exp(ln_p)
        return math.log1p(-p), -p * dln_p / (1.0 - p)
    return _gamma_q_cf(s, y, lgamma_s, digamma_s)


@njit(cache=True, error_model="numpy")
def log_gamma_q(s: float, y: float) -> tuple[float, float]:
    """(ln Q(s, y), ∂ ln Q/∂s): regularised upper incomplete gamma function, Q = 1 for y ≤ 0."""
    return log_gamma_q_with(s, y, math.lgamma(s), digamma(s))
