"""Neutrino interactions in the simulation (issue 15): cascades, starting tracks, truth.

The fingerprints below are those of the simulator *before* interactions were added (commit fe8327a~1,
``simulate_event(SimulationConfig(energy_gev=1e5), seed, 0)``, seeds 1-3): the muon simulation must
stay the same. Times are hashed rounded to 1e-6 ns and charges to 1e-9 PE, so that last-bit
differences of numpy/numba releases (seen: numpy 2.4.6) do not count as changes; they were
re-taken from that commit under numpy 2.4.6 / numba 0.68.1 on 2026-12-02.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from skymap_scanner.simulation import SimulationConfig, simulate_event

MUON_FINGERPRINTS = {
    1: (1133, "2f4cfd2afd2a906efd4a1b3915d47864e75d2f234da8d33e3784497603543c23"),
    2: (1854, "db3c1d11c146a998757c6f9e7a8609b05e48a4e6ad3a688ce3d592b32b3f3fe9"),
    3: (4757, "19e90699ffd4320fba535fd84a35d1fca402c12306ac7adf4e5b428894a5ada5"),
}


def _fingerprint(event) -> tuple[int, str]:
    p = event.pulses
    h = hashlib.sha256()
    for a, decimals in ((p.time, 6), (p.charge, 9)):
        h.update(np.round(np.asarray(a, np.float64), decimals).tobytes())
    for a in (p.string, p.om):
        h.update(np.ascontiguousarray(a, np.int64).tobytes())
    return len(p), h.hexdigest()


@pytest.mark.parametrize("seed", sorted(MUON_FINGERPRINTS))
def test_muon_events_unchanged(seed):
    assert _fingerprint(simulate_event(SimulationConfig(energy_gev=1e5), seed, 0)) == MUON_FINGERPRINTS[seed]


# -- neutrino interactions -------------------------------------------------------------------------

import math  # noqa: E402

from scipy import stats  # noqa: E402

from skymap_scanner.event.io import read_event, write_event  # noqa: E402
from skymap_scanner.event.model import dom_key  # noqa: E402
from skymap_scanner.simulation import cascade as cascade_model  # noqa: E402
from skymap_scanner.simulation import icecube86_like, spice3_layered  # noqa: E402
from skymap_scanner.simulation.interactions import (  # noqa: E402
    Cascade,
    InstrumentedVolume,
    deposited_energies,
    mean_inelasticity,
    sample_inelasticity,
)
from skymap_scanner.simulation.light import cascade_emission  # noqa: E402
from skymap_scanner.simulation.photons import diffusion_parameters, inverse_gaussian_sf  # noqa: E402
from skymap_scanner.simulation.simulate import (  # noqa: E402
    _cascade_emissions,
    _cascade_photons,
    cascade_expected_charge,
)
from skymap_scanner.sky import direction_vector  # noqa: E402

DET = icecube86_like()
ICE = spice3_layered()
#: a horizontal cascade between strings (≥ 20 m from every DOM) in the deep clear ice
ZEN, AZI = math.pi / 2, 0.4
VERTEX = (40.0, 30.0, -250.0)
AXIS = direction_vector(ZEN, AZI)


def _config(interaction="cascade", energy=1e5, **kw):
    base = {"zenith": ZEN, "azimuth": AZI, "vertex": VERTEX, "noise": False}
    return SimulationConfig(energy_gev=energy, interaction=interaction, **(base | kw))


def _em(energy, vertex=VERTEX, light_factor=1.0, kind="em"):
    return [Cascade("c", kind, np.asarray(vertex, float), 0.0, energy, light_factor)]


def test_vertex_is_away_from_doms():
    assert np.min(np.linalg.norm(DET.positions - np.array(VERTEX), axis=1)) > 20.0


def test_seeded_reproducibility():
    for interaction in ("cascade", "nc", "starting", "tau"):
        cfg = SimulationConfig(energy_gev=3e4, interaction=interaction)
        a, b = simulate_event(cfg, 7, 2, DET, ICE), simulate_event(cfg, 7, 2, DET, ICE)
        assert _fingerprint(a) == _fingerprint(b)
        assert a.truth == b.truth and a.truth_info == b.truth_info
        np.testing.assert_array_equal(a.truth_losses, b.truth_losses)
        assert _fingerprint(simulate_event(cfg, 7, 3, DET, ICE)) != _fingerprint(a)


def test_charge_proportional_to_deposited_energy():
    """EM cascades (νe CC with y = 0) over a decade: Q = slope · E with the slope of the yield model."""
    energies = np.array([1e4, 3e4, 1e5])
    charge = np.array([simulate_event(_config(energy=e, inelasticity=0.0), 1, 0, DET, ICE).pulses.charge.sum()
                       for e in energies])
    model = np.array([cascade_expected_charge(_em(e), AXIS, DET, ICE).sum() for e in energies])
    np.testing.assert_allclose(charge / model, 1.0, atol=0.04)  # discriminator, Poisson
    slope = np.polyfit(energies, charge, 1)[0]
    model_slope = np.polyfit(energies, model, 1)[0]
    assert slope == pytest.approx(model_slope, rel=0.04)
    # the model is linear up to the log-energy growth of the longitudinal profile
    assert model[2] / model[0] == pytest.approx(10.0, rel=0.03)


def test_hadronic_light_factor_and_fluctuation():
    rng = np.random.default_rng(3)
    e = 1e4
    f = np.array([cascade_model.sample_light_factor(e, "hadronic", rng) for _ in range(4000)])
    mean, sigma = cascade_model.hadronic_factor_mean(e), cascade_model.hadronic_factor_sigma(e)
    assert mean == pytest.approx(0.882, abs=0.002)  # 1 - (1e4/0.1879)^-0.1627 (1 - 0.3097)
    assert sigma / mean == pytest.approx(0.0472, abs=0.0005)  # 0.959 ln(1e4)^-1.356
    assert f.mean() == pytest.approx(mean, abs=4 * sigma / math.sqrt(len(f)))
    assert f.std() == pytest.approx(sigma, rel=0.06)
    assert cascade_model.sample_light_factor(e, "em", rng) == 1.0


def test_hadronic_cascades_give_less_light():
    """NC with y = 1 (all energy in a hadronic cascade) vs νe CC with y = 0 (all EM), same place:
    Q_had / Q_em = the drawn F of each event, within Poisson."""
    e = 3e4
    em_model = cascade_expected_charge(_em(e), AXIS, DET, ICE).sum()
    had_model = cascade_expected_charge(_em(e, kind="hadronic"), AXIS, DET, ICE).sum()
    ratios, factors = [], []
    for event_id in range(6):
        ev = simulate_event(_config("nc", e, inelasticity=1.0), 5, event_id, DET, ICE)
        ratios.append(ev.pulses.charge.sum() / had_model)
        factors.append(ev.truth_info["hadronic_light_factor"])
    ratios, factors = np.array(ratios), np.array(factors)
    poisson = 1.5 / math.sqrt(em_model)  # relative charge scatter incl. the SPE charge spread
    np.testing.assert_allclose(ratios, factors, atol=4 * poisson + 0.02)
    assert np.mean(ratios) == pytest.approx(cascade_model.hadronic_factor_mean(e), abs=0.04)
    assert np.std(factors) > 0  # fluctuates event by event


def _asymmetry(charge_per_dom):
    forward = (DET.positions - np.array(VERTEX)) @ AXIS > 0
    f, b = charge_per_dom[forward].sum(), charge_per_dom[~forward].sum()
    return (f - b) / (f + b)


def test_cascade_light_is_forward_peaked():
    """Charge in the DOMs ahead of the vertex vs behind it: measured asymmetry = model asymmetry, and
    larger than for isotropic emission in the same geometry and ice."""
    model = cascade_expected_charge(_em(1e5), AXIS, DET, ICE)
    ev = simulate_event(_config(inelasticity=0.0), 2, 0, DET, ICE)
    measured = np.zeros(len(DET))
    np.add.at(measured, np.searchsorted(DET.geometry.keys(), dom_key(ev.pulses.string, ev.pulses.om)),
              ev.pulses.charge)
    where, when, energy = cascade_model.cascade_sources(np.array(VERTEX), 0.0, AXIS, 1e5, "em", 1.0)
    iso = cascade_emission(DET.positions, DET.efficiency, where, when, energy, np.zeros(len(energy), bool), AXIS,
                           ICE, profile=lambda cos_psi, d, l_e: np.ones_like(cos_psi),
                           track_m_per_gev=1.0).expected_charge_pe.sum(axis=0)
    a_model, a_meas, a_iso = _asymmetry(model), _asymmetry(measured), _asymmetry(iso)
    print(f"forward/backward asymmetry: model {a_model:.3f}, simulated {a_meas:.3f}, isotropic {a_iso:.3f}")
    assert a_meas == pytest.approx(a_model, abs=0.03)
    assert a_model > a_iso + 0.15
    assert cascade_model.forward_fraction() > 0.9  # photons emitted forward, before scattering


def test_photon_times_follow_the_model():
    """Arrival times of a cascade's photons at single DOMs (before jitter) against the model: the
    mixture over the longitudinal points of direct time + truncated inverse-Gaussian delay."""
    cascades = _em(1e5)
    emission = list(_cascade_emissions(cascades, AXIS, DET, ICE))[0]
    photons = _cascade_photons(cascades, AXIS, DET, ICE, np.random.default_rng(11))[0]
    mu = emission.expected_charge_pe  # (sources, DOMs)
    dist = np.linalg.norm(DET.positions - np.array(VERTEX), axis=1)
    candidates = np.flatnonzero((dist > 40) & (dist < 120) & (mu.sum(axis=0) > 100))
    assert len(candidates) >= 3
    for dom in candidates[:4]:
        times = photons.time_ns[photons.dom == dom]
        mean, shape, direct = diffusion_parameters(emission.path_m[:, dom], emission.scattering_m[:, dom],
                                                   emission.absorption_m[:, dom])
        emit = emission.direct_time_ns[:, dom] - direct
        w = mu[:, dom] / mu[:, dom].sum()

        def cdf(t, mean=mean, shape=shape, direct=direct, emit=emit, w=w):
            t = np.atleast_1d(t)[:, None] - emit[None, :]
            sf = inverse_gaussian_sf(np.maximum(t, direct), mean, shape) / inverse_gaussian_sf(direct, mean, shape)
            return np.sum(w * np.where(t >= direct, 1.0 - sf, 0.0), axis=1)

        p = stats.kstest(times, cdf).pvalue
        assert p > 1e-3, (dom, len(times), p)


def test_hese_scale_charge():
    """A 100 TeV contained cascade gives of order 10^4 PE: IceCube's HESE selection (total charge
    ≥ 6000 PE, Science 342 (2013) 1242856) starts at deposited energies of a few tens of TeV."""
    charge = [simulate_event(SimulationConfig(energy_gev=1e5, interaction="cascade", inelasticity=0.0),
                             9, i, DET, ICE) for i in range(6)]
    contained = [ev.pulses.charge.sum() for ev in charge if ev.truth_info["vertex_contained"]]
    assert len(contained) >= 3
    median = float(np.median(contained))
    print(f"100 TeV contained cascades: total charge {sorted(round(q) for q in contained)} PE, median {median:.0f}")
    assert 4e3 < median < 5e4


def test_inelasticity_distribution():
    rng = np.random.default_rng(1)
    for e in (1e3, 1e5, 1e7):
        y = np.array([sample_inelasticity(e, rng) for _ in range(20000)])
        assert np.all((y >= 0) & (y <= 1))
        assert y.mean() == pytest.approx(mean_inelasticity(e), abs=0.006)
    assert mean_inelasticity(1e5) == pytest.approx(0.332)


def test_deposited_energy_in_volume():
    volume = InstrumentedVolume.of(DET.geometry)
    assert volume.contains(np.zeros(3)) and not volume.contains(np.array([800.0, 0.0, 0.0]))
    down = direction_vector(0.0, 0.0)  # travelling down
    e_tot, e_in = deposited_energies(volume, np.zeros(3), 0.0, down, np.array([0.0, 0.0]), np.array([5.0, 7.0]))
    assert (e_tot, e_in) == (12.0, 12.0)
    # a loss 1 km past the bottom of the detector along the line is not "in"
    e_tot, e_in = deposited_energies(volume, np.zeros(3), 0.0, down, np.array([0.0, 1500 / 0.299792458]),
                                     np.array([5.0, 7.0]))
    assert (e_tot, e_in) == (12.0, 5.0)
    # a line that misses the volume: E_in = 0
    horizontal = direction_vector(math.pi / 2, 0.0)
    assert deposited_energies(volume, np.array([0.0, 0.0, 900.0]), 0.0, horizontal,
                              np.array([0.0]), np.array([3.0])) == (3.0, 0.0)


@pytest.mark.parametrize("interaction", ["cascade", "nc", "starting", "tau"])
def test_interaction_truth(interaction, tmp_path):
    ev = simulate_event(SimulationConfig(energy_gev=2e5, interaction=interaction, zenith=2.0, azimuth=1.0,
                                         vertex=(10.0, -20.0, -100.0)), 4, 1, DET, ICE)
    info, truth = ev.truth_info, ev.truth
    assert info["interaction"] == {"cascade": "nue_cc", "nc": "nc", "starting": "numu_cc", "tau": "nutau_cc"}[
        interaction]
    primary = truth["primary"]
    assert primary.energy == info["neutrino_energy_gev"] == 2e5
    assert (primary.x, primary.y, primary.z) == (10.0, -20.0, -100.0) and primary.zenith == 2.0
    y = info["inelasticity"]
    assert 0.0 <= y <= 1.0 and truth["cascade"].energy == pytest.approx(y * 2e5)
    assert truth["cascade"].shape == "HadronicCascade"
    assert info["deposited_energy_gev"] == pytest.approx(ev.truth_losses[:, 4].sum())
    assert 0.0 < info["deposited_energy_in_gev"] <= info["deposited_energy_gev"] + 1e-9
    assert len(ev.truth_loss_types) == len(ev.truth_losses) and "hadronic" in ev.truth_loss_types
    assert np.all(np.diff(ev.truth_losses[:, 3]) >= 0)  # sorted by time
    if interaction == "cascade":
        assert truth["em_cascade"].energy == pytest.approx((1 - y) * 2e5)
        assert info["deposited_energy_gev"] == pytest.approx(2e5)
    if interaction == "nc":
        assert info["deposited_energy_gev"] == pytest.approx(y * 2e5)
    if interaction == "starting":
        assert truth["muon"].energy == pytest.approx((1 - y) * 2e5) and truth["muon"].shape == "StartingTrack"
        assert {"pair", "radiative"} <= set(ev.truth_loss_types)
    if interaction == "tau":
        assert truth["tau"].shape == "TauTrack" and info["tau_decay_channel"] in ("hadrons", "electron", "muon",
                                                                                   "outside")
    for suffix in (".npz", ".json"):
        back = read_event(write_event(ev, tmp_path / f"ev{suffix}"))
        assert back.truth == ev.truth
        assert back.truth_loss_types == ev.truth_loss_types
        np.testing.assert_array_equal(back.truth_losses, ev.truth_losses)
        assert back.truth_info.keys() == ev.truth_info.keys()
        for k, v in ev.truth_info.items():
            same_nan = isinstance(v, float) and math.isnan(v) and math.isnan(back.truth_info[k])
            assert back.truth_info[k] == v or same_nan


def test_muon_events_keep_their_truth_and_gain_loss_kinds():
    ev = simulate_event(SimulationConfig(energy_gev=1e5), 1, 0)
    assert set(ev.truth) == {"muon"} and ev.truth_info["interaction"] == "muon"
    assert set(ev.truth_loss_types) <= {"pair", "radiative"}
    assert 0 < ev.truth_info["deposited_energy_in_gev"] <= ev.truth_info["deposited_energy_gev"]


def test_config_validation():
    with pytest.raises(ValueError, match="interaction"):
        SimulationConfig(interaction="glashow")
    with pytest.raises(ValueError, match="vertex"):
        SimulationConfig(vertex=(0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="starting"):
        SimulationConfig(interaction="cascade", starting=True)
    with pytest.raises(ValueError, match="inelasticity"):
        SimulationConfig(interaction="nc", inelasticity=1.5)


def test_cli_simulate_interaction(tmp_path):
    from click.testing import CliRunner

    from skymap_scanner.cli import cli

    out = tmp_path / "nc.npz"
    result = CliRunner().invoke(cli, ["simulate", "--interaction", "nc", "--energy", "2e4", "--zenith", "60",
                                      "--azimuth", "10", "--vertex", "0,50,-100", "--seed", "2", "--output", str(out)])
    assert result.exit_code == 0, result.output
    ev = read_event(out)
    assert ev.truth_info["interaction"] == "nc" and ev.truth["primary"].z == -100.0
    bad = CliRunner().invoke(cli, ["simulate", "--vertex", "1,2", "--output", str(tmp_path / "x.npz")])
    assert bad.exit_code != 0
