"""Physics pieces of the simulation against docs/physics.md anchors and their own models."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import quad

from skymap_scanner.event.model import FLAG_LC
from skymap_scanner.simulation.constants import (
    CF,
    EFCR,
    FF_M_PER_GEV,
    LOSS_A_GEV_PER_M,
    LOSS_B_PER_M,
    NOISE_RATE_HQE_HZ,
    NOISE_RATE_STANDARD_HZ,
)
from skymap_scanner.simulation.detector import detector_from_table, icecube86_like
from skymap_scanner.simulation.ice import homogeneous, spice3_layered
from skymap_scanner.simulation.light import angular_acceptance, continuous_yield_per_m, line_flux
from skymap_scanner.simulation.muon import propagate, throughgoing_track
from skymap_scanner.simulation.photons import (
    SPE_MEAN_PE,
    diffusion_parameters,
    inverse_gaussian_sf,
    local_coincidence,
    merge_pulses,
    noise_photons,
    scattering_delays,
    spe_charges,
)

DISTANCES_M = np.array([10.0, 20, 40, 60, 80, 100, 125, 150, 200])


def _line_pe(light_per_m: np.ndarray) -> np.ndarray:
    """Expected PE of docs/physics.md §7.1's table: homogeneous l_e = 25 m, l_a = 110 m, cos η = 0, ε = 1."""
    return (light_per_m * line_flux(DISTANCES_M, 25.0, 110.0)
            * angular_acceptance(np.zeros_like(DISTANCES_M), DISTANCES_M, 25.0) * EFCR)


def test_line_source_reproduces_the_table_of_physics_md():
    radiative_1tev = [2.7, 1.2, 0.41, 0.16, 0.070, 0.031, 0.011, 0.0043, 6e-4]
    continuous_1tev = [2.0, 0.93, 0.31, 0.13, 0.054, 0.024, 0.0088, 0.0033, 5e-4]
    radiative = _line_pe(np.full(9, CF * FF_M_PER_GEV * LOSS_B_PER_M * 1e3))
    continuous = _line_pe(continuous_yield_per_m(np.full(9, 1e3)))
    np.testing.assert_allclose(radiative, radiative_1tev, rtol=0.08)
    np.testing.assert_allclose(continuous, continuous_1tev, rtol=0.08)


def test_acceptance_values_of_physics_md():
    near = angular_acceptance(np.array([-1.0, 0.0, 1.0]), np.zeros(3), 25.0)
    np.testing.assert_allclose(near, [0.005, 0.33, 0.20], atol=0.005)
    peak = angular_acceptance(np.linspace(0.7, 0.8, 11), np.zeros(11), 25.0)
    assert np.all((peak > 0.68) & (peak < 0.75))  # "0.70 (0.7-0.8)"
    far = angular_acceptance(np.array([-1.0, 1.0]), np.full(2, 1000.0), 25.0)
    np.testing.assert_allclose(far, 0.338, atol=1e-3)


def test_spice3_layers_match_the_detector_averages():
    ice = spice3_layered()
    depth = np.arange(1450.5, 2450.0, 1.0)
    z = 1948.07 - depth
    l_e, l_a = ice.path_lengths(z, z)
    assert 1 / np.mean(1 / l_e) == pytest.approx(23.9, abs=1.0)  # docs/physics.md §7.1: 23.9 m (SPICE-3)
    assert 1 / np.mean(1 / l_a) == pytest.approx(87.0, abs=3.0)  # 87 m
    dust = (depth > 2000) & (depth < 2100)
    assert l_e[dust].max() < 13.0 and l_a[dust].max() < 41.0
    clear = (depth > 2250) & (depth < 2300)
    assert l_e[clear].min() > 60.0 and l_a[clear].min() > 200.0


def test_path_average_is_symmetric_and_exact_in_uniform_ice():
    ice = spice3_layered()
    a = ice.path_lengths(np.array([100.0]), np.array([-300.0]))
    b = ice.path_lengths(np.array([-300.0]), np.array([100.0]))
    np.testing.assert_allclose(a, b)
    l_e, l_a = homogeneous(30.0, 120.0).path_lengths(np.array([400.0, 0.0]), np.array([-400.0, 0.0]))
    np.testing.assert_allclose(l_e, 30.0)
    np.testing.assert_allclose(l_a, 120.0)


def test_mean_radiative_loss_follows_a_plus_bE():
    e0, rng = 1e5, np.random.default_rng(5)
    totals, lengths = [], []
    for _ in range(60):
        track = throughgoing_track(e0, 1.0, 2.0, rng, impact_radius_m=0.0)
        totals.append(propagate(track, rng).energy_gev.sum())
        lengths.append(track.length_m)
    a, b, length = LOSS_A_GEV_PER_M, LOSS_B_PER_M, lengths[0]
    expected = e0 - ((e0 + a / b) * math.exp(-b * length) - a / b) - a * length
    assert np.mean(totals) == pytest.approx(expected, rel=0.15)
    assert np.median(totals) < np.mean(totals)  # few large losses: a heavy tail


def test_detector_generator_layout():
    det = icecube86_like()
    g = det.geometry
    assert len(g) == 5160 and len(np.unique(g.string)) == 86
    standard = g.string <= 78
    xy = np.unique(np.column_stack([g.x, g.y])[standard], axis=0)
    nearest = np.sort(np.linalg.norm(xy[:, None] - xy[None], axis=2), axis=1)[:, 1]
    np.testing.assert_allclose(nearest, 125.0)
    assert np.hypot(*xy.T).max() == pytest.approx(575.0, abs=10.0)
    depth = 1948.07 - g.z[standard]
    assert depth.min() == pytest.approx(1450.0) and depth.max() == pytest.approx(1450.0 + 59 * 17.0)
    assert set(det.efficiency[~standard]) == {1.35} and set(det.efficiency[standard]) == {1.0}
    assert set(det.noise_rate_hz[~standard]) == {NOISE_RATE_HQE_HZ}
    deep = 1948.07 - g.z[~standard]
    assert not np.any((deep > 2000.0) & (deep < 2100.0))  # the dust layer is not instrumented


@pytest.mark.shared_data
def test_detector_from_the_real_table(geometry_table):
    det = detector_from_table(geometry_table)
    assert 5000 < len(det) <= 5160
    assert det.geometry.om.max() == 60
    assert np.sum(det.efficiency > 1) > 300  # DeepCore and HQE DOMs


def test_delays_follow_the_truncated_inverse_gaussian():
    path, l_e, l_a = 60.0, 25.0, 100.0
    rng = np.random.default_rng(11)
    delays = scattering_delays(np.full(4000, path), np.full(4000, l_e), np.full(4000, l_a), rng)
    assert delays.min() >= 0.0
    mean, shape, direct = (float(v) for v in diffusion_parameters(np.array(path), np.array(l_e), np.array(l_a)))
    s0 = float(inverse_gaussian_sf(np.array(direct), np.array(mean), np.array(shape)))

    def cdf(x: np.ndarray) -> np.ndarray:
        return 1.0 - inverse_gaussian_sf(direct + np.asarray(x), np.array(mean), np.array(shape)) / s0

    assert stats.kstest(delays, cdf).pvalue > 0.01
    density = stats.invgauss(mean / shape, scale=shape)
    expected_mean = quad(lambda t: (t - direct) * density.pdf(t), direct, np.inf)[0] / s0
    assert delays.mean() == pytest.approx(expected_mean, rel=0.05)


def test_delays_grow_with_distance_and_with_scattering():
    rng = np.random.default_rng(2)
    n = 2000

    def median_delay(path_m: float, scattering_m: float, absorption_m: float) -> float:
        full = np.full(n, 1.0)
        return float(np.median(scattering_delays(path_m * full, scattering_m * full, absorption_m * full, rng)))

    assert median_delay(20.0, 25.0, 100.0) < median_delay(100.0, 25.0, 100.0) < median_delay(100.0, 10.0, 100.0)
    # strong absorption removes the late photons (survivor bias): shorter delays at equal scattering
    assert median_delay(100.0, 10.0, 35.0) < median_delay(100.0, 10.0, 100.0)


def test_noise_rate_and_uniform_times():
    rates = np.full(5000, NOISE_RATE_STANDARD_HZ)
    window = 20_000.0
    dom, time = noise_photons(rates, window, np.random.default_rng(3))
    expected = rates.sum() * 1e-9 * window
    assert abs(len(dom) - expected) < 4 * math.sqrt(expected)
    assert stats.kstest(time / window, "uniform").pvalue > 0.01


def test_spe_charges_mean_and_threshold_losses():
    q = spe_charges(100_000, np.random.default_rng(4))
    assert q.min() > 0
    assert q.mean() == pytest.approx(SPE_MEAN_PE, rel=0.01)
    assert np.mean(q < 0.25) == pytest.approx(0.12, abs=0.01)  # computed from the mixture


def test_merge_pulses_windows_and_threshold():
    dom = np.array([0, 0, 0, 1, 1])
    time = np.array([10.0, 12.0, 30.0, 5.0, 100.0])
    charge = np.array([1.0, 0.5, 0.1, 0.8, 1.2])
    d, t, q = merge_pulses(dom, time, charge)
    np.testing.assert_array_equal(d, [0, 1, 1])
    np.testing.assert_allclose(t, [10.0, 5.0, 100.0])
    np.testing.assert_allclose(q, [1.5, 0.8, 1.2])  # the 0.1 PE pulse is below the discriminator


def test_local_coincidence_flags():
    string = np.array([1, 1, 1, 2, 1])
    om = np.array([10, 12, 30, 11, 40])
    time = np.array([1000.0, 1900.0, 1000.0, 1000.0, 5000.0])
    flags = local_coincidence(string, om, time)
    np.testing.assert_array_equal(flags, [FLAG_LC, FLAG_LC, 0, 0, 0])
    far_in_time = local_coincidence(np.array([1, 1]), np.array([10, 11]), np.array([0.0, 1500.0]))
    np.testing.assert_array_equal(far_in_time, [0, 0])
