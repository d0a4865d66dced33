"""Per-DOM MPE / SPE likelihoods with the noise floor (docs/physics.md §6)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skymap_scanner.physics.constants import NOISE_FLOOR_PER_NS, PANDEL_H2
from skymap_scanner.physics.likelihood import mpe_dom_loglike, mpe_loglike, mpe_photon_count, spe_loglike
from skymap_scanner.physics.pandel import cpandel_pdf, cpandel_sf

RHO, LAM = PANDEL_H2.rho_per_ns, PANDEL_H2.scattering_length_m
LN_FLOOR = math.log(NOISE_FLOOR_PER_NS)


def test_photon_count_rounds_like_rpdf():
    assert [mpe_photon_count(q) for q in (0.2, 1.49, 1.5, 2.49, 7.6)] == [1, 1, 2, 2, 8]


def test_mpe_is_first_of_n_photons_plus_floor():
    t = np.array([-8.0, 0.0, 12.0, 150.0, 900.0])
    d = np.array([15.0, 40.0, 40.0, 120.0, 60.0])
    q = np.array([3.2, 1.0, 12.0, 2.0, 1.4])
    n = np.floor(q + 0.5)
    p, s = cpandel_pdf(t, d, RHO, LAM, 4.0), cpandel_sf(t, d, RHO, LAM, 4.0)
    expected = np.log(n * p * s ** (n - 1) + NOISE_FLOOR_PER_NS)
    assert np.allclose(mpe_loglike(t, d, q, PANDEL_H2, 4.0), expected, rtol=1e-12, atol=1e-12)
    assert np.allclose(spe_loglike(t, d, PANDEL_H2, 4.0), np.log(p + NOISE_FLOOR_PER_NS), rtol=1e-12)


def test_floor_caps_outliers():
    assert mpe_loglike(np.array([-500.0, 5e5]), 30.0, 50.0, PANDEL_H2, 4.0) == pytest.approx(LN_FLOOR, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(t=st.floats(-200, 8000), d=st.floats(2.25, 600), n=st.integers(1, 400), sigma=st.sampled_from([4.0, 15.0]))
def test_derivatives(t, d, n, sigma):
    xi = d / LAM
    value, d_dt, d_dxi, d2_dt2 = mpe_dom_loglike(t, xi, float(n), RHO, sigma, LN_FLOOR)
    assert value >= LN_FLOOR and np.isfinite([value, d_dt, d_dxi, d2_dt2]).all()
    h, hx = 1e-4 * sigma, 1e-5 * xi
    up, down = mpe_dom_loglike(t + h, xi, n, RHO, sigma, LN_FLOOR), mpe_dom_loglike(t - h, xi, n, RHO, sigma, LN_FLOOR)
    assert d_dt == pytest.approx((up[0] - down[0]) / (2 * h), rel=1e-4, abs=1e-7)
    assert d2_dt2 == pytest.approx((up[1] - down[1]) / (2 * h), rel=1e-3, abs=1e-6)
    right = mpe_dom_loglike(t, xi + hx, n, RHO, sigma, LN_FLOOR)
    left = mpe_dom_loglike(t, xi - hx, n, RHO, sigma, LN_FLOOR)
    assert d_dxi == pytest.approx((right[0] - left[0]) / (2 * hx), rel=1e-4, abs=1e-6)
