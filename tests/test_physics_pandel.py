"""Pandel and convolved-Pandel kernels: docs/physics.md §4–§5 tables, normalisation, survival, regions, no NaN."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit
from scipy import integrate, special

from skymap_scanner.physics import pandel as pd
from skymap_scanner.physics.constants import PANDEL_H2
from skymap_scanner.physics.pandel import cpandel_pdf, cpandel_sf
from skymap_scanner.physics.special import digamma, gauss_power_integral

RHO, LAM = PANDEL_H2.rho_per_ns, PANDEL_H2.scattering_length_m

#: docs/physics.md §5 validation table: (t_res [ns], d_eff [m], σ [ns], p_σ [1/ns])
VALIDATION = [
    (-20, 20, 15, "1.4401e-03"), (-5, 20, 15, "4.7541e-03"), (0, 20, 15, "5.9166e-03"), (20, 20, 15, "7.0998e-03"),
    (100, 20, 15, "2.6375e-03"), (300, 20, 15, "7.5010e-04"), (0, 50, 15, "4.3253e-04"), (100, 50, 15, "1.9261e-03"),
    (-5, 50, 4, "3.7668e-05"), (0, 50, 4, "2.3326e-04"), (20, 50, 4, "1.1861e-03"), (100, 50, 4, "1.9363e-03"),
    (300, 50, 4, "1.4953e-03"), (300, 100, 15, "8.8359e-04"), (-5, 20, 4, "2.8240e-03"), (0, 20, 4, "1.0273e-02"),
    (5, 20, 4, "1.2814e-02"), (100, 20, 4, "2.6076e-03"), (300, 20, 4, "7.4748e-04"),
]


def pdf(t, d, sigma):
    return float(cpandel_pdf(t, d, RHO, LAM, sigma))


def sf(t, d, sigma):
    return float(cpandel_sf(t, d, RHO, LAM, sigma))


def test_h2_rate():
    assert RHO == pytest.approx(0.0040517, abs=5e-8)  # docs/physics.md §4: 1/ρ = 246.8 ns


@pytest.mark.parametrize(("t", "d", "sigma", "expected"), VALIDATION)
def test_validation_table_to_four_digits(t, d, sigma, expected):
    assert f"{pdf(t, d, sigma):.4e}" == expected


def test_deep_tail_follows_the_closed_form():
    # docs/physics.md: closed form 1.1644e-8, quadrature 1.1581e-8 (0.5 % apart); ours is exact
    assert pdf(-20, 20, 4) == pytest.approx(1.1644e-8, rel=2e-4)


@pytest.mark.parametrize(("d", "sigma"), [(20, 15), (50, 4), (5, 4), (300, 4)])
def test_normalised(d, sigma):
    pieces = [(-400, 0), (0, 50), (50, 500), (500, 5000), (5000, 2e5)]
    total = sum(integrate.quad(pdf, a, b, args=(d, sigma), epsabs=1e-14, epsrel=1e-12, limit=400)[0]
                for a, b in pieces)
    assert abs(total - 1.0) < 1e-8


@pytest.mark.parametrize(("d", "mean_ns"), [(5, 37.1), (20, 148.3), (50, 370.7), (100, 741.4)])
def test_mean_delay(d, mean_ns):
    """The Gaussian has mean 0, so the convolved mean is the Pandel mean ξ/ρ (docs/physics.md §4 table)."""
    mean = sum(integrate.quad(lambda t: t * pdf(t, d, 4), a, b, epsabs=1e-12, epsrel=1e-12, limit=400)[0]
               for a, b in [(-200, 0), (0, 100), (100, 2000), (2000, 2e5)])
    assert mean == pytest.approx(mean_ns, abs=0.05)


@pytest.mark.parametrize("d", [3, 20, 100, 600])
def test_survival_is_the_integral_of_the_pdf(d):
    for t in (-40.0, -5.0, 0.0, 10.0, 45.0, 300.0, 3000.0):
        upper = [(t, t + 50), (t + 50, t + 2000), (t + 2000, t + 3e5)]
        expected = sum(integrate.quad(pdf, a, b, args=(d, 4), epsabs=0, epsrel=1e-12, limit=400)[0] for a, b in upper)
        assert sf(t, d, 4) == pytest.approx(expected, rel=1e-7)


def test_small_jitter_approaches_pandel():
    for d in (10, 80):
        xi = d / LAM
        for t in (50.0, 400.0):
            assert pdf(t, d, 0.05) == pytest.approx(math.exp(pd.pandel_log_pdf(t, xi, RHO)), rel=1e-4)
            assert sf(t, d, 0.05) == pytest.approx(special.gammaincc(xi, RHO * t), rel=1e-4)
    assert pd.pandel_log_pdf(-1.0, 1.0, RHO) == -math.inf and pd.pandel_log_sf(-1.0, 1.0, RHO) == 0.0


@njit
def _grid(t, xi, sigma):
    out = np.empty((t.size, xi.size, 6))
    for i in range(t.size):
        for j in range(xi.size):
            out[i, j] = pd.cpandel_log(t[i], xi[j], RHO, sigma, True)
    return out


T_GRID = np.concatenate([-np.logspace(5, -3, 120), [0.0], np.logspace(-3, 6, 160)])
XI_GRID = np.logspace(math.log10(2.25 / LAM), math.log10(5000 / LAM), 60)


@pytest.mark.parametrize("sigma", [1.0, 4.0, 15.0, 50.0])
def test_finite_everywhere_and_survival_monotone(sigma):
    out = _grid(T_GRID, XI_GRID, sigma)
    assert np.all(np.isfinite(out))
    ln_s = out[..., 4]
    assert np.all(ln_s <= 1e-12) and np.all(np.diff(ln_s, axis=0) <= 1e-12)


@pytest.mark.parametrize("sigma", [4.0, 15.0])
def test_continuous_across_regions(sigma):
    """On a fine t grid no step of ln p or ln S is out of line with its neighbours (a jump where two
    evaluation regions meet would be)."""
    t = np.linspace(-40 * sigma, 80 * sigma, 24001)
    out = _grid(t, np.logspace(-1.2, 2.0, 40), sigma)
    for k in (0, 4):
        step = np.abs(np.diff(out[..., k], axis=0))
        ratio = step[1:-1] / (0.5 * (step[:-2] + step[2:]) + 1e-12)
        assert ratio[step[1:-1] > 1e-9].max() < 1.02


@pytest.mark.parametrize("sigma", [4.0, 15.0])
@pytest.mark.parametrize("xi", [0.07, 0.3, 1.0, 4.0, 20.0])
def test_series_and_tail_survival_agree_where_they_switch(xi, sigma):
    """S_σ = 1 - F (series in J) and S_σ = Q + Δ (σ² expansion) at both switching points."""
    switch_t = (pd.SF_TAIL_MIN_MU + RHO * sigma) * sigma, (xi + 3.0 + 3.0 * math.sqrt(xi)) / RHO
    for t in switch_t:
        l0, l1, d0, d1, _ = gauss_power_integral(xi, t / sigma - RHO * sigma)
        f, df = pd._sf_series(t, xi, RHO, sigma, l1 - l0, d1 - d0, l1, d1, math.lgamma(xi), digamma(xi))
        ln_s, dln_s = pd._sf_tail(t, xi, RHO, sigma, math.lgamma(xi), digamma(xi))
        if f < 1.0 - 1e-6:
            assert math.log1p(-f) == pytest.approx(ln_s, rel=1e-8, abs=1e-10)
            assert -df / (1 - f) == pytest.approx(dln_s, rel=1e-6, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(t=st.floats(-3000, 20000), d=st.floats(2.25, 2000), sigma=st.floats(1.0, 30.0))
def test_derivatives_match_finite_differences(t, d, sigma):
    xi = d / LAM
    lnp, dp_dt, dp_dxi, d2p_dt2, lns, ds_dxi = pd.cpandel_log(t, xi, RHO, sigma, True)
    h_t, h_xi = 1e-3 * sigma, 1e-5 * xi
    up, down = pd.cpandel_log(t + h_t, xi, RHO, sigma, True), pd.cpandel_log(t - h_t, xi, RHO, sigma, True)
    assert dp_dt == pytest.approx((up[0] - down[0]) / (2 * h_t), rel=1e-4, abs=1e-7)
    h2 = 0.01 * sigma + 1e-4 * abs(t)  # wide enough for the second difference of ln p to beat rounding
    up2, down2 = pd.cpandel_log(t + h2, xi, RHO, sigma, False), pd.cpandel_log(t - h2, xi, RHO, sigma, False)
    assert d2p_dt2 == pytest.approx((up2[0] - 2 * lnp + down2[0]) / h2**2, rel=2e-3, abs=1e-9)
    assert -math.exp(lnp - lns) == pytest.approx((up[4] - down[4]) / (2 * h_t), rel=1e-4, abs=1e-9)
    right, left = pd.cpandel_log(t, xi + h_xi, RHO, sigma, True), pd.cpandel_log(t, xi - h_xi, RHO, sigma, True)
    assert dp_dxi == pytest.approx((right[0] - left[0]) / (2 * h_xi), rel=1e-4, abs=1e-6)
    assert ds_dxi == pytest.approx((right[4] - left[4]) / (2 * h_xi), rel=1e-4, abs=1e-7)
