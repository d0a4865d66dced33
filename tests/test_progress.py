"""The manifest's progress numbers: predicted totals, rate over the recent window, ETA."""

import pytest

from skymap_scanner.event.model import EventMetadata
from skymap_scanner.pixels.choose import NSideProgression
from skymap_scanner.pixels.types import RecoPixelVariation, SentPixelVariation
from skymap_scanner.server import progress as progress_module
from skymap_scanner.server.collector import Collector
from skymap_scanner.server.progress import Progress

META = EventMetadata(1, 2, "synthetic", 60000.5, False)
PROGRESSION = NSideProgression.parse("8:0 64:12 512:24")


class Clock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(progress_module.time, "time", c)
    return c


def test_predicted_total_uses_upstream_estimates_until_sent():
    p = Progress(META, PROGRESSION, 7, "s", "dummy")
    c = Collector(7, PROGRESSION.nsides)
    assert p.predicted_total(c) == (768 + 12 * 64 + 24 * 64) * 7
    c.register_sent([SentPixelVariation(8, i, k) for i in range(768) for k in range(7)])
    c.register_sent([SentPixelVariation(64, i, k) for i in range(1000) for k in range(7)])  # more than estimated
    assert p.predicted_total(c) == (768 + 1000 + 24 * 64) * 7


def test_rate_and_eta_from_arrivals(clock):
    p = Progress(META, PROGRESSION, 1, "s", "dummy", start=clock.t)
    c = Collector(1, PROGRESSION.nsides)
    c.register_sent([SentPixelVariation(8, i, 0) for i in range(768)])
    assert p.rate(c) is None
    for i in range(500):  # 10 variations per second
        clock.t += 0.1
        c.collect(RecoPixelVariation(8, i, 0, 1.0, 0, 0, 0, 0, 0, 0, 0), (8, i, 0))
        p.record_result(1, 0.05)
    assert p.rate(c) == pytest.approx(10.0)  # window max(0.25 x 500, 400) = 400 arrivals
    m = p.manifest(c)["progress"]
    remaining = p.predicted_total(c) - 500
    assert m["runtime"]["eta_s"] == pytest.approx(remaining / 10.0)
    assert m["rate"]["worker_s_per_variation_mean"] == pytest.approx(0.05)
    assert m["runtime"]["elapsed_s"] == pytest.approx(50.0)
    assert m["tallies"]["nsides"]["8"] == {"variations_sent": 768, "pixels_sent": 768, "pixels_done": 500,
                                           "pixels_in_result": 500, "done_fraction": pytest.approx(500 / 768)}
    assert not m["finished"] and m["best_fit"]["nside"] == 8


def test_finished_scan_has_no_eta(clock):
    p = Progress(META, NSideProgression.parse("8:0"), 1, "s", "dummy", start=clock.t)
    c = Collector(1, [8])
    c.register_sent([SentPixelVariation(8, 0, 0)])
    c.collect(RecoPixelVariation(8, 0, 0, 1.0, 0, 0, 0, 0, 0, 0, 0), (8, 0, 0))
    p.end = clock.t + 5
    m = p.manifest(c)["progress"]
    assert m["finished"] and m["runtime"]["eta_s"] is None and m["runtime"]["elapsed_s"] == pytest.approx(5.0)
    assert "scan finished" in m["summary"]
