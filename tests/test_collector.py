import math

import pytest

from skymap_scanner.pixels.types import RecoPixelVariation, SentPixelVariation
from skymap_scanner.server.collector import Collector, CollectorError, nside_thresholds


def reco(nside, pixel, posvar, llh):
    return RecoPixelVariation(nside, pixel, posvar, llh, 0, 0, 1.0 * posvar, 0, 0, 0, 0)


def make(n_posvar=3, nsides=(8, 64), pst=1.0, pixels=4):
    c = Collector(n_posvar, list(nsides), pst)
    c.register_sent([SentPixelVariation(8, p, v) for p in range(pixels) for v in range(n_posvar)])
    return c


def test_best_variation_ignores_nan_arriving_first():
    c = make()
    c.collect(reco(8, 0, 0, math.nan), (8, 0, 0))
    c.collect(reco(8, 0, 1, 5.0), (8, 0, 1))
    c.collect(reco(8, 0, 2, 3.0), (8, 0, 2))
    assert c.results[8][0].llh == 3.0
    assert c.results[8][0].x == 2.0
    assert c.n_failed_variations == 1


def test_all_failed_pixel_is_excluded_and_reported():
    c = make()
    for v in range(3):
        c.collect(None, (8, 1, v), "boom")
    assert 1 not in c.results.get(8, {})
    assert [(f.nside, f.pixel_id, f.reasons) for f in c.failed_pixels] == [(8, 1, ["boom"])]


def test_duplicates_and_strays_are_counted_and_dropped():
    c = make()
    c.collect(reco(8, 0, 0, 1.0), (8, 0, 0))
    c.collect(reco(8, 0, 0, 0.5), (8, 0, 0))
    c.collect(reco(8, 99, 0, 0.1), (8, 99, 0))
    c.collect(reco(64, 5, 0, 0.1), (64, 5, 0))
    assert c.n_duplicates == 1 and c.n_strays == 2 and c.n_received == 1


def test_thresholds_follow_upstream():
    assert nside_thresholds(0.65, False) == [0.65, 0.7, 0.8, 0.9, 1.0]
    assert nside_thresholds(0.65, True) == [1.0]
    assert nside_thresholds(0.1, False)[0] == 0.1  # 0.1 accepted (upstream defect D13)
    with pytest.raises(CollectorError):
        Collector(1, [8], 0.05)


def test_threshold_event_when_nside_complete():
    c = make(n_posvar=1, pixels=4)
    events = [c.collect(reco(8, p, 0, 1.0), (8, p, 0)) for p in range(4)]
    assert events == [None, None, None, 8]
    assert c.collected_all_sent()


def test_predictive_threshold_fires_early():
    c = make(n_posvar=1, pixels=10, pst=0.5)
    events = [c.collect(reco(8, p, 0, 1.0), (8, p, 0)) for p in range(10)]
    assert events.index(8) == 4  # 5 of 10 done = 0.5
    assert events.count(8) == 6  # 0.5, 0.6, ..., 1.0
