import math

import healpy as hp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skymap_scanner.pixels.choose import (
    NSideProgression,
    NSideProgressionError,
    children,
    choose_pixels,
    pixel_of_radec,
    pixels_in_disc,
    pointed_pixels,
    refinement_radius,
)
from skymap_scanner.pixels.types import NSidesDict, RecoPixelFinal


def final(nside: int, pixel: int, llh: float) -> RecoPixelFinal:
    return RecoPixelFinal(nside, pixel, llh, 0, 0, 0, 0, 0, 0, 0)


def test_default_progression_parses():
    p = NSideProgression.parse("8:0 64:12 512:24")
    assert p.steps == ((8, 0), (64, 12), (512, 24))
    assert NSideProgression.parse(["8:0", "64:12"]).nsides == [8, 64]
    assert NSideProgression.parse("8:0,64:12").nsides == [8, 64]
    assert p.n_recos_estimate() == 768 + 12 * 64 + 24 * 64


@pytest.mark.parametrize("text", ["", "8:1", "8:0 4:2", "8:0 64:0", "8:0 60:12", "8", "8:0 64:-1", "a:b"])
def test_invalid_progressions_are_refused(text):
    with pytest.raises(NSideProgressionError):
        NSideProgression.parse(text)


def test_slice_plus_one():
    p = NSideProgression.parse("8:0 64:12 512:24")
    assert p.slice_plus_one(None) == [(8, 0)]
    assert p.slice_plus_one(8) == [(8, 0), (64, 12)]
    assert p.slice_plus_one(512) == list(p.steps)


def test_refinement_radii_match_upstream():
    assert math.degrees(refinement_radius(8, 12)) == pytest.approx(14.324, abs=1e-3)
    assert math.degrees(refinement_radius(64, 24)) == pytest.approx(2.532, abs=1e-3)


@given(st.integers(0, hp.nside2npix(8) - 1))
def test_children_lie_inside_parent(pixel):
    kids = children(8, np.array([pixel]), 64)
    assert len(kids) == 64
    theta, phi = hp.pix2ang(64, kids)
    assert np.all(hp.ang2pix(8, theta, phi) == pixel)


def test_first_round_is_full_sky():
    p = NSideProgression.parse("8:0 64:12")
    chosen = choose_pixels(p, None, NSidesDict())
    assert sorted(chosen) == [(8, i) for i in range(768)]


def test_refinement_surrounds_the_minimum_and_ignores_nan():
    p = NSideProgression.parse("8:0 64:12")
    collected = NSidesDict({8: {i: final(8, i, 100.0 + (i % 7)) for i in range(768)}})
    collected[8][0] = final(8, 0, math.nan)  # a NaN must never win (upstream defect D2)
    minimum = 300
    collected[8][minimum] = final(8, minimum, 1.0)
    chosen = choose_pixels(p, 8, collected)
    assert {n for n, _ in chosen} == {64}
    parents = {int(hp.ang2pix(8, *hp.pix2ang(64, pix))) for _, pix in chosen}
    assert minimum in parents and 0 not in parents
    assert 9 <= len(parents) <= 13  # upstream: 9-13 nside-8 pixels in the 14.3 deg disc
    assert len(chosen) == 64 * len(parents)


def test_all_failed_gives_nothing_to_refine():
    p = NSideProgression.parse("8:0 64:12")
    collected = NSidesDict({8: {1: final(8, 1, math.nan)}})
    assert choose_pixels(p, 8, collected) == []


@pytest.mark.parametrize(("nside", "low", "high"), [(8, 1, 1), (64, 35, 55), (512, 2800, 3000)])
def test_pointed_counts_match_upstream(nside, low, high):
    ra, dec = math.radians(224.4), math.radians(40.7)
    pix = pointed_pixels(nside, ra, dec, math.radians(3.5))
    assert low <= len(pix) <= high
    assert pixel_of_radec(nside, ra, dec) in pix


def test_disc_is_strict():
    centre = np.array(hp.pix2vec(64, 1000))
    inside = pixels_in_disc(64, centre, math.radians(3))
    vecs = np.array(hp.pix2vec(64, inside)).T
    assert np.all(vecs @ centre > math.cos(math.radians(3)))


def _parents(chosen, nside=8):
    return {int(hp.ang2pix(nside, *hp.pix2ang(64, pix))) for n, pix in chosen if n == 64}


def test_seed_region_is_refined_when_the_minimum_is_elsewhere():
    p = NSideProgression.parse("8:0 64:12 512:24")
    collected = NSidesDict({8: {i: final(8, i, 100.0) for i in range(768)}})
    collected[8][300] = final(8, 300, 1.0)
    theta, phi = hp.pix2ang(8, 600)  # far from pixel 300
    seed = (phi, math.pi / 2 - theta)
    alone = _parents(choose_pixels(p, 8, collected))
    both = _parents(choose_pixels(p, 8, collected, seed_direction=seed))
    assert 600 not in alone and 600 in both
    assert alone < both and 18 <= len(both) <= 26  # two disjoint discs of 9-13 parents
    # a seed inside the minimum's region adds nothing
    theta, phi = hp.pix2ang(8, 300)
    assert _parents(choose_pixels(p, 8, collected, seed_direction=(phi + 0.05, math.pi / 2 - theta))) == alone


def test_seed_region_is_not_refined_at_finer_steps():
    p = NSideProgression.parse("8:0 64:12 512:24")
    collected = NSidesDict({8: {i: final(8, i, 100.0) for i in range(768)}})
    collected[8][300] = final(8, 300, 1.0)
    kids = children(8, np.array([300]), 64)
    collected[64] = {int(k): final(64, int(k), 50.0) for k in kids}
    theta, phi = hp.pix2ang(8, 600)
    seed = (phi, math.pi / 2 - theta)
    at512 = [pix for n, pix in choose_pixels(p, 64, collected, seed_direction=seed) if n == 512]
    seed_pix = hp.ang2pix(512, theta, phi)
    assert at512
    near_seed = hp.query_disc(512, hp.ang2vec(theta, phi), math.radians(5))
    assert not set(at512) & set(near_seed) and seed_pix not in at512


@pytest.mark.parametrize("text", ["1024:0", "256:0", "8:0 1024:100000"])
def test_progression_planning_too_many_pixels_is_refused(text):
    from skymap_scanner.pixels.choose import NSideProgression, NSideProgressionError

    with pytest.raises(NSideProgressionError, match=r"plan \d+ pixels, at most 200000"):
        NSideProgression.parse(text)
    assert NSideProgression.parse("8:0 64:12 512:24 1024:24").n_recos_estimate() < 200_000
