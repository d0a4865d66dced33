"""The tabulated convolved Pandel (``physics/cpandel_table.py``) against the exact kernels: values within the
stated tolerance, derivatives that are the interpolant's own (C¹ across cells), the exact kernels outside
the grid, and the same track fits."""

import math

import numpy as np
import pytest
from numba import njit

from skymap_scanner.physics.constants import JITTER_MPE_NS, JITTER_SPE_NS, NOISE_FLOOR_PER_NS, PANDEL_H0, PANDEL_H2
from skymap_scanner.physics.cpandel_table import (
    NO_TABLE,
    T_MAX_NS,
    T_MIN_SIGMAS,
    TABLE_TOLERANCE,
    XI_MAX,
    XI_MIN,
    build_table,
    cached_table,
    cpandel_log_table,
)
from skymap_scanner.physics.likelihood import FLOOR_GAP, mpe_dom_loglike, mpe_dom_loglike_tabulated
from skymap_scanner.physics.pandel import cpandel_log

LN_FLOOR = math.log(NOISE_FLOOR_PER_NS)


@njit(cache=True)
def _both(t, xi, rho, sigma, table, grid):
    """Rows (exact ln p, ∂t, ∂ξ, ln S, ∂t ln S, ∂ξ ln S | the table's, and whether inside)."""
    out = np.empty((t.size, 13))
    for k in range(t.size):
        lnp, dp_dt, dp_dxi, _, lns, ds_dxi = cpandel_log(t[k], xi[k], rho, sigma, True)
        inside, tp, tp_dt, tp_dxi, _, ts, ts_dt, ts_dxi, _ = cpandel_log_table(t[k], xi[k], table, grid, True)
        row = (lnp, dp_dt, dp_dxi, lns, -math.exp(lnp - lns), ds_dxi, tp, tp_dt, tp_dxi, ts, ts_dt, ts_dxi,
               1.0 if inside else 0.0)
        for j in range(13):
            out[k, j] = row[j]
    return out


def random_points(rng, n, sigma):
    """Residuals [ns] from the Gaussian tail to the late gamma tail, shapes over the whole grid."""
    t = np.concatenate([rng.uniform(T_MIN_SIGMAS * sigma, 100.0, n // 2),
                        np.exp(rng.uniform(0.0, math.log(T_MAX_NS), n - n // 2))])
    xi = np.exp(rng.uniform(math.log(XI_MIN), math.log(XI_MAX), n))
    return t, xi


@pytest.mark.parametrize(("ice", "sigma"), [(PANDEL_H2, JITTER_MPE_NS), (PANDEL_H0, JITTER_SPE_NS)])
def test_values_within_tolerance_of_the_exact_kernels(ice, sigma):
    table, grid = build_table(ice.rho_per_ns, sigma)
    t, xi = random_points(np.random.default_rng(5), 100_000, sigma)
    r = _both(t, xi, ice.rho_per_ns, sigma, table, grid)
    assert r[:, 12].all()
    # where the physics term can matter against the noise floor: absolute error in both logs
    relevant = r[:, 0] > LN_FLOOR - 10.0
    assert relevant.mean() > 0.3
    assert np.abs(r[relevant, 6] - r[relevant, 0]).max() < TABLE_TOLERANCE
    assert np.abs(r[relevant, 9] - r[relevant, 3]).max() < TABLE_TOLERANCE
    # in the deep Gaussian and gamma tails (ln p down to ≈ -450): relative error
    assert (np.abs(r[:, 6] - r[:, 0]) / np.maximum(1.0, np.abs(r[:, 0]))).max() < TABLE_TOLERANCE
    # typical errors are far smaller than the bound
    assert np.median(np.abs(r[relevant, 6] - r[relevant, 0])) < 1e-7
    # derivatives: those of the interpolant, close to the exact ones
    for exact, tab in ((1, 7), (2, 8), (4, 10), (5, 11)):
        err = np.abs(r[relevant, tab] - r[relevant, exact]) / np.maximum(1.0, np.abs(r[relevant, exact]))
        assert err.max() < 1e-4, (exact, err.max())


def test_derivatives_are_the_interpolants_own_and_continuous():
    table, grid = cached_table(PANDEL_H2.rho_per_ns, JITTER_MPE_NS)
    rng = np.random.default_rng(6)
    t, xi = random_points(rng, 2000, JITTER_MPE_NS)
    for dt, dxi, col in ((1e-4, 0.0, 2), (0.0, 1e-6, 3), (1e-4, 0.0, 6), (0.0, 1e-6, 7)):
        points = list(zip(t, xi, strict=True))
        hi = np.array([cpandel_log_table(a + dt, b + dxi, table, grid, True) for a, b in points], float)
        lo = np.array([cpandel_log_table(a - dt, b - dxi, table, grid, True) for a, b in points], float)
        mid = np.array([cpandel_log_table(a, b, table, grid, True) for a, b in points], float)
        value = 1 if col in (2, 3) else 5
        numeric = (hi[:, value] - lo[:, value]) / (2.0 * (dt or dxi))
        np.testing.assert_allclose(mid[:, col], numeric, rtol=1e-5, atol=1e-5)
    # across a cell boundary in s (node i) and in v (node j): value and first derivatives continuous
    sigma, s0, hs, _, v0, hv, _ = grid
    for s_node, v in ((s0 + 300 * hs, v0 + 50.37 * hv), (s0 + 400.61 * hs, v0 + 90 * hv)):
        for eps_s, eps_v in ((1e-9, 0.0), (0.0, 1e-9)):
            a = cpandel_log_table(sigma * math.sinh(s_node - eps_s), math.exp(v - eps_v), table, grid, True)
            b = cpandel_log_table(sigma * math.sinh(s_node + eps_s), math.exp(v + eps_v), table, grid, True)
            np.testing.assert_allclose(np.array(a[1:8], float), np.array(b[1:8], float), rtol=1e-6, atol=1e-6)


def test_outside_the_grid_and_without_a_table_the_exact_kernels_run():
    table, grid = cached_table(PANDEL_H2.rho_per_ns, JITTER_MPE_NS)
    rho = PANDEL_H2.rho_per_ns
    for t, xi, n in ((-500.0, 3.0, 4.0), (5e4, 10.0, 2.0), (200.0, 150.0, 7.0), (30.0, 2.0, 1.0)):
        exact = mpe_dom_loglike(t, xi, n, rho, JITTER_MPE_NS, LN_FLOOR)
        assert mpe_dom_loglike_tabulated(t, xi, n, math.log(n), rho, JITTER_MPE_NS, LN_FLOOR, *NO_TABLE) == exact
        inside = cpandel_log_table(t, xi, table, grid, True)[0]
        tabulated = mpe_dom_loglike_tabulated(t, xi, n, math.log(n), rho, JITTER_MPE_NS, LN_FLOOR, table, grid)
        if not inside:
            assert tabulated == exact
        else:
            np.testing.assert_allclose(tabulated, exact, rtol=1e-4, atol=1e-5)


def test_table_is_cached_and_read_only():
    a = cached_table(PANDEL_H2.rho_per_ns, JITTER_MPE_NS)
    assert cached_table(PANDEL_H2.rho_per_ns, JITTER_MPE_NS) is a
    with pytest.raises(ValueError):
        a[0][0, 0, 0] = 1.0


def test_deep_gaussian_tail_is_the_floor_alone():
    """Where the bound N φ(t/σ)/σ on L is below e^-40 of the floor, the tabulated likelihood skips the physics
    term: the exact kernels give the same value and derivatives to double precision."""
    table, grid = cached_table(PANDEL_H2.rho_per_ns, JITTER_MPE_NS)
    rho, sigma = PANDEL_H2.rho_per_ns, JITTER_MPE_NS
    checked = 0
    for t in np.linspace(-200.0, -20.0, 181):
        for xi, n in ((0.07, 1.0), (1.0, 3.0), (5.0, 40.0), (30.0, 2000.0)):
            bound = math.log(n) - 0.5 * (t / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)
            if bound >= LN_FLOOR - FLOOR_GAP:
                continue
            checked += 1
            exact = mpe_dom_loglike(t, xi, n, rho, sigma, LN_FLOOR)
            tabulated = mpe_dom_loglike_tabulated(t, xi, n, math.log(n), rho, sigma, LN_FLOOR, table, grid)
            assert tabulated == (LN_FLOOR, 0.0, 0.0, 0.0)
            np.testing.assert_allclose(exact, tabulated, rtol=0, atol=1e-15)
    assert checked > 400
