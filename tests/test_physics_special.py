"""The Gaussian power integral J(ξ, μ), the incomplete gamma function and digamma against references."""

import math

import numpy as np
import pytest
from scipy import integrate, special

from skymap_scanner.physics import special as sp


def reference_j(xi: float, mu: float) -> tuple[float, float]:
    """(ln J, E[ln v]) by adaptive quadrature: v = w^(1/ξ) near 0 (removes the singularity), plain v beyond."""
    vs, h, sep = sp.integrand_mode(xi, mu)
    centre = vs if sep > 0 else max(mu, 0.0) + 1.0
    shift = (xi - 1.0) * math.log(centre) - 0.5 * (centre - mu) ** 2

    def f(v: float, power: int) -> float:
        return math.log(v) ** power * math.exp((xi - 1.0) * math.log(v) - 0.5 * (v - mu) ** 2 - shift)

    def g(w: float, power: int) -> float:
        v = w ** (1.0 / xi)
        return math.log(v) ** power * math.exp(-0.5 * (v - mu) ** 2 - shift) / xi if w > 0 else 0.0

    cut = min(1e-3, 0.5 * centre)
    top = centre + 60.0 * max(h, 1.0) + 20.0
    opts = {"epsabs": 0.0, "epsrel": 1e-13, "limit": 2000}
    points = [centre] if cut < centre < top else None
    parts = [[integrate.quad(g, 0.0, cut**xi, args=(k,), **opts)[0]
              + integrate.quad(f, cut, top, args=(k,), points=points, **opts)[0]] for k in (0, 1)]
    return shift + math.log(parts[0][0]), parts[1][0] / parts[0][0]


XI = [0.068, 0.3, 1.0, 2.5, 10.0, 30.0, 80.0]
MU = [-30.0, -6.6, -2.5, -1.4, 0.0, 2.0, 6.4, 6.6, 11.9, 12.1, 60.0]


@pytest.mark.parametrize("xi", XI)
def test_gauss_power_integral_matches_quadrature(xi):
    for mu in MU:
        l0, l1, d0, d1, curvature = sp.gauss_power_integral(xi, mu)
        r0, e0 = reference_j(xi, mu)
        r1, e1 = reference_j(xi + 1.0, mu)
        assert abs(l0 - r0) < 5e-9 and abs(l1 - r1) < 5e-9, (xi, mu)
        assert abs(d0 - e0) < 5e-8 and abs(d1 - e1) < 5e-8, (xi, mu)


def test_closed_forms_at_integer_shape():
    for mu in (-8.0, -2.0, 0.0, 1.5, 9.0):
        l0, l1, _, _, _ = sp.gauss_power_integral(1.0, mu)
        assert math.exp(l0) == pytest.approx(math.sqrt(2 * math.pi) * special.ndtr(mu), rel=1e-9)
        j2 = math.exp(-0.5 * mu * mu) + mu * math.sqrt(2 * math.pi) * special.ndtr(mu)
        assert math.exp(l1) == pytest.approx(j2, rel=1e-8)


@pytest.mark.parametrize("xi", [0.07, 0.5, 2.0, 8.0, 25.0])
def test_regions_agree_where_they_switch(xi):
    """Every pair of methods that meet at a region boundary gives the same values there."""
    for mu in (sp.ASYMPTOTIC_MIN_MU, 20.0):  # asymptotic expansion vs adaptive Gauss–Hermite
        ok, *asym, curvature = sp._asymptotic(xi, mu)
        vs, h, _ = sp.integrand_mode(xi, mu)
        if ok:
            agh = sp._agh(xi, mu, vs, h)
            assert np.allclose(asym, agh, rtol=0, atol=1e-9)
            r = math.exp(agh[1] - agh[0])
            assert curvature == pytest.approx(xi - 1 + r * (mu - r), rel=1e-5, abs=1e-8)
    checked = 0
    for mu in np.linspace(-sp.ALTERNATING_MAX_Z, 9.0, 60):  # series vs adaptive Gauss–Hermite above the threshold
        vs, h, sep = sp.integrand_mode(xi, mu)
        if sp.AGH_MIN_SEPARATION <= sep < sp.AGH_MIN_SEPARATION + 1.0:
            assert np.allclose(sp._series(xi, mu), sp._agh(xi, mu, vs, h), rtol=0, atol=1e-8)
            checked += 1
    assert checked > 0
    z = sp.ALTERNATING_MAX_Z  # alternating series vs Wronskian
    assert np.allclose(sp._series(xi, -z), sp._wronskian(xi, z), rtol=0, atol=1e-8)


def test_incomplete_gamma_and_its_shape_derivative():
    for s in (0.07, 0.5, 1.0, 3.0, 10.0, 40.0):
        for y in (1e-3, 0.5, 2.0, 5.0, 20.0, 100.0, 600.0):
            ln_q, dln_q = sp.log_gamma_q(s, y)
            q = special.gammaincc(s, y)
            if q > 1e-300:
                assert ln_q == pytest.approx(math.log(q), rel=1e-11, abs=1e-12)
            h = 1e-5 * s
            fd = (sp.log_gamma_q(s + h, y)[0] - sp.log_gamma_q(s - h, y)[0]) / (2 * h)
            assert dln_q == pytest.approx(fd, rel=1e-6, abs=1e-7), (s, y)
    assert sp.log_gamma_q(2.0, 0.0) == (0.0, 0.0) and sp.log_gamma_q(2.0, -3.0) == (0.0, 0.0)


def test_digamma():
    x = np.linspace(0.02, 60.0, 997)
    assert np.max(np.abs([sp.digamma(v) for v in x] - special.digamma(x))) < 1e-11
