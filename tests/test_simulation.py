"""Simulated events: reproducibility, scaling, noise, timing, truth round trip, CLI."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from skymap_scanner.cli import cli
from skymap_scanner.event.io import read_event, write_event
from skymap_scanner.event.model import SEED_DIRECTION
from skymap_scanner.simulation import SimulationConfig, icecube86_like, simulate_event
from skymap_scanner.simulation.constants import C_VACUUM_M_PER_NS, JITTER_NS, N_GROUP, SIN_CHERENKOV, TAN_CHERENKOV
from skymap_scanner.simulation.muon import CLOSEST_APPROACH_TIME_NS
from skymap_scanner.sky import direction_vector

FIXED = {"zenith": 2.0, "azimuth": 1.0, "impact_radius_m": 100.0}


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return math.degrees(math.acos(float(np.clip(a @ b, -1.0, 1.0))))


def _first_hit_residuals(event) -> tuple[np.ndarray, np.ndarray]:
    """(first-pulse time residual [ns] w.r.t. the true track's direct light, distance [m]) per DOM."""
    mu = event.truth["muon"]
    p = direction_vector(mu.zenith, mu.azimuth)
    first = event.pulses.first_per_dom()
    rel = event.hit_positions()[first] - mu.position
    along = rel @ p
    d = np.linalg.norm(rel - np.outer(along, p), axis=1)
    t_geo = mu.time + (along + d * (N_GROUP / SIN_CHERENKOV - 1 / TAN_CHERENKOV)) / C_VACUUM_M_PER_NS
    return event.pulses.time[first] - t_geo, d


def test_same_seed_same_event_other_seed_other_event():
    config = SimulationConfig(energy_gev=1e4, **FIXED)
    a, b = simulate_event(config, seed=7), simulate_event(config, seed=7)
    np.testing.assert_array_equal(a.pulses.time, b.pulses.time)
    np.testing.assert_array_equal(a.pulses.charge, b.pulses.charge)
    np.testing.assert_array_equal(a.truth_losses, b.truth_losses)
    assert a.truth == b.truth and a.metadata == b.metadata
    c = simulate_event(config, seed=8)
    assert len(c.pulses) != len(a.pulses) or not np.array_equal(c.pulses.time, a.pulses.time)
    assert simulate_event(config, seed=7, event_id=1).metadata.event_id == 1


def test_truth_describes_the_requested_muon():
    event = simulate_event(SimulationConfig(energy_gev=2e4, mjd=60400.25, **FIXED), seed=1)
    mu = event.truth["muon"]
    assert (mu.zenith, mu.azimuth, mu.energy, mu.shape) == (2.0, 1.0, 2e4, "InfiniteTrack")
    assert event.metadata.mjd == 60400.25 and event.metadata.event_type == "simulated"
    assert not event.metadata.is_real_event
    p = direction_vector(mu.zenith, mu.azimuth)
    impact = mu.position - (mu.position @ p) * p
    assert np.linalg.norm(impact) <= 100.0
    t_closest = mu.time + float(-(mu.position @ p)) / C_VACUUM_M_PER_NS
    assert t_closest == pytest.approx(CLOSEST_APPROACH_TIME_NS)
    losses = event.truth_losses
    assert losses.shape[1] == 5 and np.all(losses[:, 4] > 0)
    along = (losses[:, :3] - mu.position) @ p
    np.testing.assert_allclose(losses[:, 3], mu.time + along / C_VACUUM_M_PER_NS)  # losses lie on the track


def test_starting_event_has_a_cascade_at_the_vertex():
    event = simulate_event(SimulationConfig(energy_gev=1e4, starting=True, zenith=1.2, azimuth=0.5), seed=3)
    mu, cascade = event.truth["muon"], event.truth["cascade"]
    assert mu.shape == "StartingTrack" and cascade.energy > 0
    np.testing.assert_allclose(cascade.position, mu.position)
    assert np.hypot(mu.x, mu.y) < 450.0 and abs(mu.z) < 400.0
    assert np.any(np.all(np.isclose(event.truth_losses[:, :3], mu.position), axis=1))


def test_total_charge_grows_linearly_with_energy():
    energies = np.array([1e4, 1e5, 1e6])
    mean_charge = [np.mean([simulate_event(SimulationConfig(energy_gev=e, noise=False, **FIXED), seed=s)
                            .pulses.charge.sum() for s in range(3)]) for e in energies]
    slope = np.polyfit(np.log10(energies), np.log10(mean_charge), 1)[0]
    assert 0.85 < slope < 1.1
    # docs/physics.md §7.1: ≈ 7000 PE for 100 TeV through the centre, normalisation uncertain by a factor ~2;
    # here 100 TeV is the energy 1 km before the centre and the ice is layered
    assert 1000 < mean_charge[1] < 10_000


def test_noise_pulses_before_the_light_match_the_dark_rate():
    det = icecube86_like()
    n_events, early_ns = 6, 4000.0  # light arrives ≥ 10 µs - 1 km / c ≈ 6.7 µs
    count = sum(np.sum(simulate_event(SimulationConfig(energy_gev=1e3, **FIXED), seed=s, detector=det)
                       .pulses.time < early_ns) for s in range(n_events))
    above_threshold = 0.88  # 1 - P(SPE charge < 0.25 PE) of the SPE mixture
    expected = n_events * det.noise_rate_hz.sum() * 1e-9 * early_ns * above_threshold
    assert abs(count - expected) < 4 * math.sqrt(expected)
    quiet = simulate_event(SimulationConfig(energy_gev=1e3, noise=False, **FIXED), seed=0, detector=det)
    assert np.all(quiet.pulses.time > early_ns)


def test_first_hits_are_causal_and_later_with_distance():
    event = simulate_event(SimulationConfig(energy_gev=3e5, noise=False, **FIXED), seed=4)
    residual, distance = _first_hit_residuals(event)
    assert residual.min() > -5 * JITTER_NS - 0.01 * distance.max()  # only jitter (and group-vs-phase) early
    near, far = residual[distance < 30], residual[(distance > 80) & (distance < 150)]
    assert len(near) > 5 and len(far) > 20
    assert np.median(near) < 60.0 < np.median(far)


def test_pulses_pass_the_discriminator_and_bright_tracks_are_mostly_hlc():
    event = simulate_event(SimulationConfig(energy_gev=1e5, noise=False, **FIXED), seed=5)
    assert np.all(event.pulses.charge >= 0.25)
    assert event.pulses.hlc.mean() > 0.8


def test_linefit_seed_is_close_but_not_the_truth():
    event = simulate_event(SimulationConfig(energy_gev=1e5, **FIXED), seed=6)
    mu, seed = event.truth["muon"], event.seeds[SEED_DIRECTION]
    error = _angle_deg(direction_vector(mu.zenith, mu.azimuth), direction_vector(seed.zenith, seed.azimuth))
    assert 0.0 < error < 10.0
    assert seed.shape == "LineFit"


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_truth_round_trips_through_the_event_format(tmp_path: Path, suffix: str):
    event = simulate_event(SimulationConfig(energy_gev=1e4, starting=True, **FIXED), seed=2)
    back = read_event(write_event(event, tmp_path / f"event{suffix}"))
    assert back.truth == event.truth and back.seeds == event.seeds and back.metadata == event.metadata
    np.testing.assert_array_equal(back.truth_losses, event.truth_losses)
    np.testing.assert_array_equal(back.pulses.time, event.pulses.time)
    np.testing.assert_array_equal(back.pulses.flags, event.pulses.flags)


def test_cli_simulate_single_and_batch(tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "one.npz"
    result = runner.invoke(cli, ["simulate", "--energy", "2e4", "--zenith", "100", "--azimuth", "30",
                                 "--seed", "5", "--output", str(out)])
    assert result.exit_code == 0, result.output
    truth = read_event(out).truth["muon"]
    assert math.degrees(truth.zenith) == pytest.approx(100.0) and truth.energy == 2e4
    result = runner.invoke(cli, ["simulate", "--energy", "1e4", "--n-events", "2", "--seed", "5",
                                 "--no-noise", "--output", str(tmp_path / "batch")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "batch").glob("*.npz"))) == 2


def test_cli_simulate_rejects_half_a_direction(tmp_path: Path):
    result = CliRunner().invoke(cli, ["simulate", "--zenith", "10", "--output", str(tmp_path / "x.npz")])
    assert result.exit_code == 2 and "azimuth" in result.output
