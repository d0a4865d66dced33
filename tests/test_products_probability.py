"""Probability density maps: tiling, normalisation, credible regions = the policy's contours."""

import math

import healpy
import numpy as np
import pytest
from products_inputs import SIGMA_DEG, dummy_result

from skymap_scanner.postprocess import probability as P
from skymap_scanner.postprocess.calibration import WILKS, contour_areas, load_calibration

CALIBRATED = load_calibration("mpe_pandel_100TeV")
POLICIES = {"wilks": WILKS, "mpe_pandel_100TeV": CALIBRATED}


@pytest.fixture(scope="module")
def result():
    return dummy_result(200.0, 30.0)


def test_tiling_covers_the_sky_once_at_scanned_sizes(result):
    tiling = P.llh_tiling(result)
    assert np.sum(tiling.area_sr) == pytest.approx(4 * np.pi, rel=1e-12)
    assert len(np.unique(tiling.uniq)) == len(tiling.uniq)
    # every point of a fine grid lies in exactly one pixel: descendants at the finest order are disjoint
    nest, counts = P._descendants(tiling.uniq, tiling.max_order)
    assert len(np.unique(nest)) == len(nest) == healpy.nside2npix(512)
    # pixels refined further (12 at nside 8, 24 at nside 64) are replaced, all others kept
    for nside, n_refined in ((8, 12), (64, 24), (512, 0)):
        rows = result.result[f"nside-{nside}"]
        kept = np.isin(P.to_uniq(int(math.log2(nside)), healpy.ring2nest(nside, rows["index"])), tiling.uniq)
        assert kept.sum() == len(rows) - n_refined


def test_partly_refined_parent_is_split_and_keeps_its_value():
    result = dummy_result(10.0, -40.0, progression=((8, 0), (16, 1)))
    rows = result.result["nside-16"]
    kept = rows[:2].copy()  # scan only 2 of the 4 children of the refined pixel
    partial = type(result)({"nside-8": result.result["nside-8"], "nside-16": kept})
    tiling = P.llh_tiling(partial)
    assert np.sum(tiling.area_sr) == pytest.approx(4 * np.pi)
    parent_ring = healpy.nest2ring(8, healpy.ring2nest(16, kept["index"][0]) // 4)
    parent_llh = result.result["nside-8"]["llh"][parent_ring]
    at16 = P.uniq_order(tiling.uniq) == 4
    assert at16.sum() == 4
    scanned = P.to_uniq(4, healpy.ring2nest(16, kept["index"]))
    values16 = dict(zip(tiling.uniq[at16], tiling.values[at16], strict=True))
    assert sorted(values16[u] for u in scanned) == sorted(kept["llh"])
    assert sorted(v for u, v in values16.items() if u not in scanned) == [parent_llh, parent_llh]


@pytest.mark.parametrize("name", POLICIES)
def test_density_is_normalised(result, name):
    density = P.probability_density(result, POLICIES[name])
    assert np.sum(density.values * density.area_sr) == pytest.approx(1.0, abs=1e-12)
    assert np.all(density.values >= 0)


def test_wilks_density_is_exp_minus_delta_llh(result):
    tiling = P.llh_tiling(result)
    density = P.probability_density(result, WILKS)
    expected = np.exp(-(tiling.values - tiling.values.min()))
    np.testing.assert_allclose(density.values, expected / np.sum(expected * tiling.area_sr), rtol=1e-12)


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("key,containment", [("50%", 0.5), ("90%", 0.9)])
def test_credible_area_is_the_policy_contour_area(result, name, key, containment):
    policy = POLICIES[name]
    density = P.probability_density(result, policy)
    area = P.credible_area_deg2(density, containment)
    counted = P.contour_area_deg2(P.llh_tiling(result), policy.levels[key])
    contoured = contour_areas(result, policy)[key]  # skyreader/meander contours, independent code
    assert area == pytest.approx(counted, rel=0.05)
    assert area == pytest.approx(contoured, rel=0.05)
    if policy is CALIBRATED:  # exact by construction: the region is the contour's pixels
        assert area == pytest.approx(counted, rel=1e-9)
        region = P.credible_region(density, containment)
        inside = P.two_delta_llh(P.llh_tiling(result)) < policy.levels[key]
        assert np.array_equal(region, inside)


def test_wilks_area_matches_the_dummy_analytic_area(result):
    density = P.probability_density(result, WILKS)
    for containment, level in ((0.5, 1.39), (0.9, 4.61)):
        analytic = math.pi * (SIGMA_DEG * math.sqrt(level)) ** 2
        assert P.credible_area_deg2(density, containment) == pytest.approx(analytic, rel=0.02)


def test_calibrated_density_decreases_with_delta_llh(result):
    density = P.probability_density(result, CALIBRATED)
    x = P.two_delta_llh(P.llh_tiling(result))
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(density.values[order]) <= 1e-12 * density.values.max())


def test_smoothing_widens_like_a_convolution():
    result = dummy_result(120.0, -20.0, progression=((8, 0), (64, 12), (256, 24)))
    sharp = P.probability_density(result, WILKS)
    smooth = P.probability_density(result, WILKS, smooth_deg=0.5)
    assert np.sum(smooth.values * smooth.area_sr) == pytest.approx(1.0, abs=1e-12)
    # Gaussian ⊗ Gaussian: σ² adds; 90 % area π σ² · 4.61 (small-angle)
    expected = math.pi * (SIGMA_DEG**2 + 0.5**2) * -2 * math.log(0.1)
    assert P.credible_area_deg2(smooth, 0.9) == pytest.approx(expected, rel=0.05)
    assert P.credible_area_deg2(sharp, 0.9) < P.credible_area_deg2(smooth, 0.9)
    assert np.array_equal(P.probability_density(result, WILKS, smooth_deg=0.0).values, sharp.values)


def test_locate_finds_the_pixel_of_a_direction(result):
    density = P.probability_density(result, WILKS)
    ra, dec = density.centres_rad()
    assert np.array_equal(density.locate(ra, dec), np.arange(len(ra)))


def test_no_decreasing_density_falls_back_to_the_widest_level(result, caplog):
    narrow = type(CALIBRATED)({"50%": 4.0, "90%": 4.2}, "90 % barely wider than 50 %")
    density = P.probability_density(result, narrow)
    assert "no decreasing density" in caplog.text
    assert P.credible_area_deg2(density, 0.9) == pytest.approx(
        P.contour_area_deg2(P.llh_tiling(result), 4.2), rel=1e-9)
