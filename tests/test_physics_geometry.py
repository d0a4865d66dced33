"""Cherenkov geometry (docs/physics.md §3): arrival time, photon direction, effective distance."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skymap_scanner.physics import cherenkov as ch
from skymap_scanner.physics import constants as k
from skymap_scanner.physics.cherenkov import direct_arrival_time, dom_effective_distance, track_geometry
from skymap_scanner.physics.constants import PANDEL_H2

unit = st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1)).filter(lambda v: np.linalg.norm(v) > 0.1)
point = st.tuples(*(st.floats(-600, 600),) * 3)


def test_constants():
    assert math.degrees(math.acos(k.COS_CHERENKOV)) == pytest.approx(40.72, abs=0.005)
    assert k.CHERENKOV_PATH_FACTOR == pytest.approx(0.9173, abs=1e-4)
    assert k.TAN_CHERENKOV == pytest.approx(0.8609, abs=1e-4)
    # the single-index form (d_t + d tan θc)/c is early by 0.188 ns per metre of d (docs/physics.md §3)
    assert (k.CHERENKOV_PATH_FACTOR - k.TAN_CHERENKOV) / k.C_VACUUM_M_PER_NS == pytest.approx(0.188, abs=5e-4)


@settings(max_examples=200, deadline=None)
@given(p=unit, vertex=point, dom=point, t0=st.floats(-1e4, 1e4))
def test_direct_light_reaches_the_dom_at_the_cherenkov_angle(p, vertex, dom, t0):
    """Brute force: emit at s_e = d_t - d/tan θc with the muon at speed c, travel d/sin θc at c/n_g,
    at angle θc to the track; η is the photon's angle to vertical."""
    p = np.array(p) / np.linalg.norm(p)
    vertex, dom = np.array(vertex), np.array(dom)
    along, d, cos_eta = (a[0] for a in track_geometry(dom, vertex, p))
    rel = dom - vertex
    d_exact = np.linalg.norm(rel - (rel @ p) * p)
    assert along == pytest.approx(rel @ p, abs=1e-9)
    assert d == pytest.approx(math.hypot(d_exact, k.DOM_RADIUS_M), rel=1e-12)
    if d_exact < 1.0:
        return
    emission = vertex + (along - d_exact / k.TAN_CHERENKOV) * p
    photon = dom - emission
    assert photon @ p / np.linalg.norm(photon) == pytest.approx(k.COS_CHERENKOV, abs=1e-9)
    t_emit = t0 + (along - d_exact / k.TAN_CHERENKOV) / k.C_VACUUM_M_PER_NS
    t_arrive = t_emit + np.linalg.norm(photon) * k.N_GROUP / k.C_VACUUM_M_PER_NS
    t_geo = direct_arrival_time(dom, vertex, t0, p)[0]
    regularisation = k.CHERENKOV_PATH_FACTOR * (d - d_exact) / k.C_VACUUM_M_PER_NS
    assert t_geo == pytest.approx(t_arrive + regularisation, abs=1e-6)
    eta_exact = photon[2] / np.linalg.norm(photon)
    assert cos_eta == pytest.approx(eta_exact, abs=k.SIN_CHERENKOV * (1 - d_exact / d) + 1e-9)


def test_photon_direction_sign():
    """A down-going track (p = -z): photons move down (cos η < 0); an up-going one: up."""
    dom = np.array([[30.0, 0.0, 0.0]])
    assert track_geometry(dom, np.zeros(3), np.array([0.0, 0.0, -1.0]))[2][0] == pytest.approx(-k.COS_CHERENKOV)
    assert track_geometry(dom, np.zeros(3), np.array([0.0, 0.0, 1.0]))[2][0] == pytest.approx(k.COS_CHERENKOV)


def test_effective_distance_h2():
    # docs/physics.md §3: d_eff = 0.8395 d + 3.094 - 3.946 cos η + 4.636 cos² η
    assert dom_effective_distance(np.array([50.0]), np.array([0.5]), PANDEL_H2)[0] == pytest.approx(
        0.8395 * 50 + 3.094 - 3.946 * 0.5 + 4.636 * 0.25)
    cos_eta = np.linspace(-1, 1, 2001)
    assert dom_effective_distance(np.zeros_like(cos_eta), cos_eta, PANDEL_H2).min() > 2.25


@settings(max_examples=100, deadline=None)
@given(p=unit)
def test_transverse_basis_is_orthonormal_and_right_handed(p):
    p = np.array(p) / np.linalg.norm(p)
    b = ch.transverse_basis(*p)
    e1, e2 = np.array(b[:3]), np.array(b[3:])
    assert np.allclose([e1 @ e1, e2 @ e2, e1 @ e2, e1 @ p, e2 @ p], [1, 1, 0, 0, 0], atol=1e-12)
    assert np.allclose(np.cross(e1, e2), p, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(u1=st.floats(-300, 300), u2=st.floats(-300, 300), p=unit)
def test_transverse_geometry_derivatives(u1, u2, p):
    p = np.array(p) / np.linalg.norm(p)
    _, _, e1z, _, _, e2z = ch.transverse_basis(*p)
    d, c, dd1, dd2, dc1, dc2 = ch.transverse_geometry(u1, u2, e1z, e2z, p[2])
    h = 1e-5 * (1 + math.hypot(u1, u2))
    for i, (dd, dc) in enumerate(((dd1, dc1), (dd2, dc2))):
        du = (h, 0.0) if i == 0 else (0.0, h)
        plus = ch.transverse_geometry(u1 + du[0], u2 + du[1], e1z, e2z, p[2])
        minus = ch.transverse_geometry(u1 - du[0], u2 - du[1], e1z, e2z, p[2])
        assert dd == pytest.approx((plus[0] - minus[0]) / (2 * h), abs=1e-6)
        assert dc == pytest.approx((plus[1] - minus[1]) / (2 * h), abs=1e-6)
