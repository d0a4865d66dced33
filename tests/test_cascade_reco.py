"""The ``cascade_losses`` reco (docs/cascade-reco.md): discovery, seed, fitted vertex and energy of a simulated
100 TeV contained cascade, the true direction beating the opposite one, and a 12-pixel embedded scan."""

import math

import numpy as np
import pytest

from skymap_scanner.api import scan
from skymap_scanner.pixels.types import PixelVariation
from skymap_scanner.recos import available_recos, get_reco_class
from skymap_scanner.recos.cascade_losses import CascadeLosses, CascadeLossesOptions
from skymap_scanner.sky import angular_distance, dir_to_equa

VERTEX = (150.0, 0.0, -300.0)  # clear ice, 25 m from a string


@pytest.fixture(scope="module")
def cascade():
    from skymap_scanner.simulation import SimulationConfig, icecube86_like, simulate_event

    config = SimulationConfig(energy_gev=1e5, interaction="cascade", vertex=VERTEX, inelasticity=0.0, noise=False)
    return simulate_event(config, seed=7, event_id=0, detector=icecube86_like())


@pytest.fixture(scope="module")
def fits(cascade):
    """Fits from the event seed at the true direction and at the opposite one."""
    event = CascadeLosses.prepare_event(cascade, CascadeLossesOptions())
    seed, truth = event.seeds["vertex"], event.truth["em_cascade"]
    reco = CascadeLosses(event)
    directions = [(truth.zenith, truth.azimuth), (math.pi - truth.zenith, (truth.azimuth + math.pi) % (2 * math.pi))]
    batch = [PixelVariation(1, k, 0, 0.0, 0.0, zen, azi, seed.x, seed.y, seed.z, seed.time)
             for k, (zen, azi) in enumerate(directions)]
    return truth, seed, reco.reconstruct(batch)


def test_found_by_name():
    assert "cascade_losses" in available_recos()
    cls = get_reco_class("cascade_losses")
    assert cls is CascadeLosses and cls.rotate_vertex
    v = cls.vertex_variations(CascadeLossesOptions())
    assert np.array_equal(v, [[0, 0, 0], [0, 0, 20], [0, 0, -20]])
    assert len(cls.vertex_variations(cls.parse_options({"variations": 1}))) == 1


def test_seed_near_the_vertex(fits):
    truth, seed, _ = fits
    assert np.linalg.norm(seed.position - truth.position) < 50.0
    assert -200.0 < seed.time - truth.time < 50.0


def test_true_direction_beats_the_opposite(fits):
    _, _, (true_dir, opposite) = fits
    assert true_dir.llh < opposite.llh - 50.0, (true_dir.llh, opposite.llh)


def test_vertex_and_energy_at_the_true_direction(fits):
    truth, _, (fit, _) = fits
    assert np.linalg.norm(np.array([fit.x, fit.y, fit.z]) - truth.position) < 15.0
    assert 1 / 1.5 < fit.reco_losses_total / truth.energy < 1.5, fit.reco_losses_total / truth.energy
    assert fit.reco_losses_inside == fit.reco_losses_total == fit.energy  # a contained single cascade
    assert abs(fit.time - truth.time) < 150.0


def test_nside1_scan_points_near_the_truth(cascade):
    """12 pixels, one variation, a cheap fit (150 evaluations, no restart): ≈ 10 s."""
    out = scan(cascade, "cascade_losses", "1:0", transport="inprocess", progress=False, variations=1,
               max_evaluations=150, refine=False)
    truth = cascade.truth["em_cascade"]
    ra, dec = dir_to_equa(truth.zenith, truth.azimuth, cascade.metadata.mjd)
    best = out.best_fit
    angle = math.degrees(angular_distance(math.radians(best.ra_deg), math.radians(best.dec_deg), float(ra),
                                          float(dec)))
    assert angle < 60.0, angle
    assert out.pixels.n_pixels() == 12 and not out.failed_pixels
    # the best pixel's own energies are the scan's deposited energy (no track estimate for a cascade reco)
    energy = out.deposited_energy
    best_pixel = out.pixels[best.nside][best.pixel]
    assert (energy.e_in_gev, energy.e_tot_gev, energy.n_sources) == (best_pixel.reco_losses_inside,
                                                                     best_pixel.reco_losses_total, 1)
    assert "cascade_losses" in energy.hypothesis and "TeV in the detector" in out.products.circular
