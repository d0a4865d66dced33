"""The scan plan: how each pixel inherits its seed from its parent, rotated variations, pointed rounds."""

import math

import healpy as hp
import numpy as np
import pytest

from skymap_scanner.pixels.choose import NSideProgression, choose_pixels, pixel_of_radec, radec_of_pixels
from skymap_scanner.pixels.types import NSidesDict, RecoPixelFinal
from skymap_scanner.recos import direction_seed
from skymap_scanner.server.plan import ScanPlan
from skymap_scanner.server.seeds import rotation_to
from skymap_scanner.simulation.synthetic import synthetic_event
from skymap_scanner.sky import angular_distance, direction_vector


@pytest.fixture(scope="module")
def event():
    return synthetic_event(seed=3)


def parent_fit(nside, pixel, x=1.0, y=2.0, z=3.0, time=4.0, energy=5.0):
    return RecoPixelFinal(nside, pixel, 10.0, 0.0, 0.0, x, y, z, time, energy)


def child_of(nside, pixel, next_nside):
    """A pixel at ``next_nside`` whose centre lies in (nside, pixel) (RING indices)."""
    nest = hp.ring2nest(nside, pixel) * (next_nside // nside) ** 2
    return int(hp.nest2ring(next_nside, nest))


def rotated(plan, item):
    """The plan's variations turned so that their z axis lies along the pixel's track (rotating recos)."""
    if not plan.reco_cls.rotate_vertex:
        return plan.variations
    rotation = rotation_to(direction_vector(np.array([item.zenith]), np.array([item.azimuth])))[0]
    return plan.variations @ rotation.T


def test_pixel_without_parent_is_seeded_from_the_event(event):
    plan = ScanPlan.build(event, "dummy", {"variations": "3"})
    items = plan.requests([(8, 100)], NSidesDict())
    assert [v.posvar_id for v in items] == [0, 1, 2]
    for v, offset in zip(items, rotated(plan, items[0]), strict=True):
        np.testing.assert_allclose((v.x, v.y, v.z), plan.seed.position + offset, atol=1e-9)
        assert v.t == plan.seed.time and math.isnan(v.energy) and math.isnan(v.fallback_x)


def test_child_inherits_its_parents_best_fit(event):
    plan = ScanPlan.build(event, "dummy", {"variations": "2"})
    collected = NSidesDict({8: {100: parent_fit(8, 100)}})
    child = child_of(8, 100, 64)
    items = plan.requests([(64, child)], collected)
    for v, offset in zip(items, rotated(plan, items[0]), strict=True):  # dummy: 20 m apart, rotated
        np.testing.assert_allclose((v.x, v.y, v.z), np.array([1.0, 2.0, 3.0]) + offset, atol=1e-9)
    assert {v.t for v in items} == {4.0} and {v.energy for v in items} == {5.0}
    ra, dec = radec_of_pixels(64, np.array([child]))
    assert items[0].ra == ra[0] and items[0].dec == dec[0]


def test_grandchild_skips_a_missing_nside(event):
    """Halving the nside until a collected pixel holds the direction: nside 512 without an nside-64
    parent is seeded from nside 8 (upstream PixelsToReco)."""
    plan = ScanPlan.build(event, "dummy")  # one variation: no offset
    collected = NSidesDict({8: {100: parent_fit(8, 100, x=-7.0)}, 64: {}})
    pixel = child_of(8, 100, 512)
    assert plan.requests([(512, pixel)], collected)[0].x == -7.0
    other = child_of(8, 101, 512)  # its nside-8 ancestor was not collected: the event seed
    assert plan.requests([(512, other)], collected)[0].x == pytest.approx(plan.seed.x)


def test_track_variations_rotate_with_the_pixel_and_get_a_fallback(event):
    plan = ScanPlan.build(event, "mpe_pandel")
    assert plan.n_variations == 7
    collected = NSidesDict({8: {5: parent_fit(8, 5)}})
    child = child_of(8, 5, 64)
    items = plan.requests([(64, child)], collected)
    for v, offset in zip(items, rotated(plan, items[0]), strict=True):
        np.testing.assert_allclose((v.x, v.y, v.z), np.array([1.0, 2.0, 3.0]) + offset, atol=1e-9)
        np.testing.assert_allclose((v.fallback_x, v.fallback_y, v.fallback_z), plan.seed.position + offset,
                                   atol=1e-9)
        assert v.fallback_t == plan.seed.time
    no_parent = plan.requests([(8, 6)], NSidesDict())
    assert all(math.isnan(v.fallback_x) for v in no_parent)  # base = event seed: no second seed


def test_pointed_reco_starts_around_the_online_fit(event):
    plan = ScanPlan.build(event, "mpe_pandel_pointed", pointing_radius_deg=20.0)
    assert plan.pointing == direction_seed(plan.event)
    assert plan.pointing_radius_rad == pytest.approx(math.radians(20.0))
    progression = NSideProgression.parse("8:0 64:12")
    first = choose_pixels(progression, None, NSidesDict(), plan.pointing, plan.pointing_radius_rad)
    assert {n for n, _ in first} == {8} and 1 < len(first) < 768
    centre = radec_of_pixels(8, np.array([pixel_of_radec(8, *plan.pointing)]))
    ra, dec = radec_of_pixels(8, np.array([p for _, p in first]))
    assert np.all(angular_distance(ra, dec, centre[0][0], centre[1][0]) <= math.radians(20.0) + 1e-9)
    assert ScanPlan.build(event, "mpe_pandel").pointing is None


def test_refine_seed_off_drops_the_seed_direction(event):
    assert ScanPlan.build(event, "dummy").seed_direction == direction_seed(event)
    assert ScanPlan.build(event, "dummy", refine_seed=False).seed_direction is None


def test_fit_at_a_direction_matches_the_reco(event):
    plan = ScanPlan.build(event, "dummy")
    ra, dec = direction_seed(plan.event)
    (fit,) = plan.fit_at(ra, dec, NSidesDict())
    assert fit.llh == pytest.approx(1000.0, abs=1e-6)  # the dummy's minimum is the direction seed
