"""Binned likelihood and energy unfolding (fit/losses.py, docs/physics.md §17.6): −ln L against a brute-force
sum, exact and statistical recovery of known energies, E ≥ 0, the binning rules, and the likelihood and
deposited energy of simulated 100 TeV cascades at and away from the truth."""

import math

import numpy as np
import pytest
from scipy import stats

from skymap_scanner.fit import losses as L


def _toy(rng, n_bins=40, n_src=4, scale=50.0):
    a = rng.uniform(0.0, 1.0, (n_bins, n_src)) ** 3 * scale / 1e3  # PE per GeV, a spread of sizes
    noise = rng.uniform(0.01, 0.5, n_bins)
    return a, noise


@pytest.mark.parametrize("eps", [0.0, 0.1, 1.0])
def test_nll_equals_brute_force_sum(eps):
    rng = np.random.default_rng(1)
    a, noise = _toy(rng, n_bins=7, n_src=2)
    e = np.array([300.0, 1200.0])
    mu = a @ e + noise
    k = np.array([0, 1, 3, 0, 12, 7, 40])
    if eps == 0.0:
        brute = -sum(stats.poisson.logpmf(kb, mb) for kb, mb in zip(k, mu, strict=True))
    else:
        alpha = 1 / eps**2
        brute = -sum(stats.nbinom.logpmf(kb, alpha, alpha / (alpha + mb)) for kb, mb in zip(k, mu, strict=True))
    assert L.negative_log_likelihood(k, mu, eps) == pytest.approx(brute, rel=1e-10)
    unf = L.unfold_energies(a, k.astype(float), noise, rel_uncertainty=eps)
    assert unf.nll == pytest.approx(L.negative_log_likelihood(k, a @ unf.energies + noise, eps), rel=1e-12)
    # a maximum: no feasible small step lowers −ln L
    for j in range(2):
        for step in (-1.0, 1.0):
            trial = unf.energies.copy()
            trial[j] = max(trial[j] + step, 0.0)
            assert L.negative_log_likelihood(k, a @ trial + noise, eps) >= unf.nll - 1e-9


@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_noiseless_data_are_recovered_exactly(eps):
    rng = np.random.default_rng(2)
    a, noise = _toy(rng, n_bins=60, n_src=5)
    truth = np.array([2e3, 0.0, 5e4, 8e2, 1e4])  # one source without light: the bound is active there
    k = a @ truth + noise
    unf = L.unfold_energies(a, k, noise, rel_uncertainty=eps)
    assert np.all(unf.energies >= 0.0)
    np.testing.assert_allclose(unf.energies, truth, rtol=1e-6, atol=1e-3)


def test_poisson_data_are_recovered_within_their_errors():
    rng = np.random.default_rng(3)
    a, noise = _toy(rng, n_bins=80, n_src=3, scale=200.0)
    truth = np.array([3e3, 1e4, 6e3])
    mu = a @ truth + noise
    fisher = (a / mu[:, None]).T @ a
    sigma = np.sqrt(np.diag(np.linalg.inv(fisher)))
    pulls = []
    for _ in range(200):
        k = rng.poisson(mu).astype(float)
        unf = L.unfold_energies(a, k, noise, rel_uncertainty=0.0)
        pulls.append((unf.energies - truth) / sigma)
    pulls = np.array(pulls)
    assert np.all(np.abs(pulls.mean(axis=0)) < 0.25)
    assert np.all((0.8 < pulls.std(axis=0)) & (pulls.std(axis=0) < 1.2))


def test_energies_are_never_negative():
    rng = np.random.default_rng(4)
    for trial in range(30):
        a, noise = _toy(rng, n_bins=30, n_src=6)
        truth = rng.choice([0.0, 1e2, 3e3], size=6)
        k = rng.poisson(a @ truth + noise).astype(float)
        if trial % 5 == 0:
            k = rng.poisson(noise).astype(float)  # noise only
        for eps, lam in ((0.0, 0.0), (0.1, 0.0), (0.1, 1e-8)):
            unf = L.unfold_energies(a, k, noise, rel_uncertainty=eps, regularisation=lam)
            assert np.all(unf.energies >= 0.0) and math.isfinite(unf.nll)
    a, noise = _toy(rng, n_bins=10, n_src=3)
    a[:, 1] = 0.0  # a source no DOM sees gets 0
    assert L.unfold_energies(a, np.ones(10), noise).energies[1] == 0.0


# -- simulated events ---------------------------------------------------------------------------------------
VERTEX = (150.0, 0.0, -300.0)  # clear ice, 25 m from a string


@pytest.fixture(scope="module")
def cascades():
    from skymap_scanner.simulation import SimulationConfig, icecube86_like, simulate_event

    detector = icecube86_like()
    config = SimulationConfig(energy_gev=1e5, interaction="cascade", vertex=VERTEX, inelasticity=0.0, noise=False)
    return detector, [simulate_event(config, seed=7, event_id=i, detector=detector) for i in range(2)]


def _truth(event):
    from skymap_scanner.sky import direction_vector

    truth = event.truth["em_cascade"]
    return truth, direction_vector(truth.zenith, truth.azimuth)


def test_time_bins_rules(cascades):
    detector, events = cascades
    event = events[0]
    bins = L.time_bins(event, efficiency=detector.efficiency, noise_rate_hz=detector.noise_rate_hz)
    n_used = len(bins.keys)
    assert np.all(bins.keys // 1000 < 79) and len(bins.excluded["deepcore"]) == 8 * 60
    assert n_used == len(detector.geometry) - 480 - len(bins.excluded["bright"])
    assert np.all(np.diff(bins.dom_start) >= 1) and bins.dom_start[-1] == len(bins)
    assert np.all(bins.t1 > bins.t0) and np.all(bins.charge >= 0.0)
    lo, hi = bins.window_ns
    first = bins.t0[bins.dom_start[:-1]]
    assert np.all(first == lo)  # every DOM's bins start at the window start
    per_dom = np.diff(bins.dom_start)
    unhit = per_dom == 1
    assert np.all(bins.t1[bins.dom_start[:-1][unhit]] <= hi)
    # charge: in bins + late / outside pulses + excluded DOMs = all
    excluded = np.isin(event.pulses.dom_keys(), bins.keys, invert=True)
    total = bins.charge.sum() + bins.dropped_charge_pe + event.pulses.charge[excluded].sum()
    assert total == pytest.approx(event.pulses.charge.sum(), rel=1e-12)
    # pulse bins: ≥ PHOTONS_PER_BIN unless a DOM's last, ≥ MIN_TIME_WIDTH_NS
    last = np.zeros(len(bins), bool)
    last[bins.dom_start[1:] - 1] = True
    pulse_bin = bins.charge > 0
    assert np.all(bins.charge[pulse_bin & ~last] >= L.PHOTONS_PER_BIN)
    assert np.all(bins.t1[pulse_bin] - bins.t0[pulse_bin] >= L.MIN_TIME_WIDTH_NS)
    # bright rule
    keep_all = L.time_bins(event, bright_dom_threshold=None)
    assert len(keep_all.excluded["bright"]) == 0 and len(keep_all.keys) == n_used + len(bins.excluded["bright"])


@pytest.mark.parametrize("bright", [L.BRIGHT_DOM_THRESHOLD, None])
def test_llh_prefers_the_true_cascade(cascades, bright):
    """The truth beats a vertex 30 m away along each axis and a time 100 ns late (with the bright DOMs
    excluded, 100 ns early is not checked: the minimum in time then lies ≈ 50 ns early, §17.6)."""
    detector, events = cascades
    for event in events:
        truth, p = _truth(event)
        bins = L.time_bins(event, efficiency=detector.efficiency, noise_rate_hz=detector.noise_rate_hz,
                           bright_dom_threshold=bright)
        best = L.losses_llh(bins, truth.position, truth.time, p).nll
        offsets = [(np.array(d, float), 0.0) for d in np.vstack([30 * np.eye(3), -30 * np.eye(3)])]
        offsets += [(np.zeros(3), 100.0)] + ([(np.zeros(3), -100.0)] if bright is None else [])
        for dv, dt in offsets:
            other = L.losses_llh(bins, truth.position + dv, truth.time + dt, p).nll
            assert other - best > 50.0, (dv, dt, other - best)


def test_deposited_energy_of_a_contained_cascade(cascades):
    detector, events = cascades
    for event in events:
        truth, p = _truth(event)
        bins = L.time_bins(event, efficiency=detector.efficiency, noise_rate_hz=detector.noise_rate_hz)
        cascade = L.losses_llh(bins, truth.position, truth.time, p)
        assert cascade.e_tot == cascade.e_in and len(cascade.energies) == 1
        assert 1 / 1.5 < cascade.e_tot / truth.energy < 1.5, cascade.e_tot / truth.energy
        track = L.losses_llh(bins, truth.position, truth.time, p, spacing_m=10.0)
        assert len(track.energies) > 10 and np.all(track.energies >= 0.0)
        assert track.e_in <= track.e_tot
        assert 1 / 1.5 < track.e_in / truth.energy < 1.5, track.e_in / truth.energy
        assert track.nll <= cascade.nll + 1e-6 * abs(cascade.nll)  # more freedom, never worse


def test_line_missing_the_detector(cascades):
    detector, events = cascades
    bins = L.time_bins(events[0])
    far = L.losses_llh(bins, np.array([5000.0, 5000.0, 0.0]), 0.0, np.array([0.0, 0.0, -1.0]), spacing_m=5.0)
    assert far.e_in == far.e_tot == 0.0 and len(far.energies) == 0 and math.isfinite(far.nll)
