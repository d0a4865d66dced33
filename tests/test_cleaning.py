"""OnlineL2 cleaning and the VHESelfVeto vertex seed: IceTray's masks, the message, the seeds."""

from __future__ import annotations

import numpy as np
import pytest

from skymap_scanner.event.model import FLAG_LC, Geometry, Pulses
from skymap_scanner.i3.alert import read_alert_event, read_alert_packet
from skymap_scanner.prepare.cleaning import (
    RTLinks,
    best_time_window,
    online_l2_cleaning,
    seeded_rt,
)
from skymap_scanner.prepare.seed_vertex import vhe_self_veto_seed, vhe_self_veto_vertex

EVENTS = {
    "GOLD": "run00136766-evt000007637140-GOLD.pkl",
    "BRONZE": "run00136662-evt000035405932-BRONZE.pkl",
    "HESE": "hese_event_01.json",
}
#: (after SeededRT, after the time window, npulses, nch, qtot) — docs/i3-format.md §10
CLEANED = {"GOLD": (1714, 1674, 1641, 239, 2745.525006), "BRONZE": (701, 668, 668, 133, 1326.45),
           "HESE": (None, None, 320, 36, 1958.70)}
MASK_KEYS = ("SplitRTCleanedInIcePulses", "CleanedMuonPulses", "CleanedMuonPulsesIC")
VERTEX = {"GOLD": ((158.94, -345.23, -504.39), 735564.0), "BRONZE": ((22.11, 509.50, 199.662), 31674.0),
          "HESE": ((-369.279, -210.286, 358.082), 9965.0)}


@pytest.fixture(scope="module")
def events(shared_data, geometry_table):
    return {k: read_alert_event(shared_data / "events" / f, geometry_table=geometry_table) for k, f in EVENTS.items()}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", EVENTS)
def test_cleaning_reproduces_the_golden_counts_and_the_message(events, shared_data, name):
    event = events[name]
    result = online_l2_cleaning(event.pulses, event.geometry)
    rt, window, npulses, nch, qtot = CLEANED[name]
    if rt is not None:
        assert (int(result.seeded_rt.sum()), int(result.time_window.sum())) == (rt, window)
    assert (result.npulses, result.nch) == (npulses, nch)
    assert result.qtot == pytest.approx(qtot, abs=1e-5)
    message = read_alert_packet(shared_data / "events" / EVENTS[name]).metadata
    if message:
        assert (result.npulses, result.nch, round(result.qtot, 5)) == (
            message["npulses"], message["nch"], message["qtot"])


def _dom_times(pulses: Pulses) -> set[tuple[int, int, float]]:
    return set(zip(pulses.string.tolist(), pulses.om.tolist(), pulses.time.tolist(), strict=True))


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["GOLD", "BRONZE"])
def test_cleaning_equals_icetrays_masks_pulse_for_pulse(shared_data, geometry_table, name):
    path = shared_data / "reference" / "cleaning_masks" / f"splinempe-{name}-startup.json"
    event = read_alert_event(path, geometry_table=geometry_table)
    packet = read_alert_packet(path)
    result = online_l2_cleaning(event.pulses, event.geometry)
    for key, mask in zip(MASK_KEYS, (result.seeded_rt, result.time_window, result.cleaned), strict=True):
        reference = packet.stack.pulses(key).in_ice().to_pulses()
        assert _dom_times(event.pulses.select(mask)) == _dom_times(reference), key
    hlc = packet.stack.pulses("SplitUncleanedInIcePulsesHLC").to_pulses()
    assert _dom_times(event.pulses.select(event.pulses.hlc)) == _dom_times(hlc)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", EVENTS)
def test_vhe_self_veto_seed_reproduces_icetray(events, name):
    event = events[name]
    seed = vhe_self_veto_seed(event.pulses, event.geometry)
    (x, y, z), t = VERTEX[name]
    assert (seed.x, seed.y, seed.z, seed.time) == pytest.approx((x, y, z, t), abs=1e-3)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["GOLD", "BRONZE"])
def test_seed_equals_the_startup_packets_seed(shared_data, events, name):
    packet = read_alert_packet(shared_data / "reference" / "cleaning_masks" / f"splinempe-{name}-startup.json")
    seed = vhe_self_veto_seed(events[name].pulses, events[name].geometry)
    assert (seed.x, seed.y, seed.z) == pytest.approx(packet.stack.get("SeedVertexPos"), abs=1e-9)
    assert seed.time == packet.stack.get("SeedVertexTime")


# -- the rules on small hand-made inputs --------------------------------------------------------------
def _line(n: int, spacing: float) -> np.ndarray:
    return np.column_stack([np.arange(n) * spacing, np.zeros(n), np.zeros(n)])


def test_rt_link_limits_are_150_m_inclusive_and_1000_ns_strict():
    pos = np.array([[0, 0, 0], [150, 0, 0], [150.01, 0, 0], [0, 0, 0]], float)
    links = RTLinks(np.array([0.0, 999.9, 0.0, 1000.0]), pos, np.array([0, 1, 2, 0]))
    # links (0, 1), (1, 2), (1, 3); not (0, 3): same DOM but |dt| = 1000 is not < 1000
    assert links.count_linked(np.ones(4, bool)).tolist() == [1, 3, 1, 1]
    assert links.count_linked(np.array([0, 1, 0, 0], bool)).tolist() == [1, 0, 1, 1]
    assert links.count_partner_doms(np.ones(4, bool)).tolist() == [1, 2, 1, 1]  # 1: DOMs 0 and 2


def test_seed_needs_hlc_partners_on_two_doms_and_growth_stops_after_three_iterations():
    # a chain of DOMs 100 m apart (only neighbours are linked); HLC on the first three
    pos = _line(8, 100.0)
    hlc = np.array([1, 1, 1, 0, 0, 0, 0, 0], bool)
    selected = seeded_rt(np.zeros(8), pos, hlc, np.arange(8))
    # only pulse 1 sees HLC pulses on two DOMs; three growth steps reach pulse 4
    assert selected.tolist() == [True] * 5 + [False] * 3
    assert not seeded_rt(np.zeros(2), pos[:2], np.ones(2, bool), np.arange(2)).any()  # one partner DOM only


def test_self_coincidence_counts_for_the_seed():
    # DOM 0 has two HLC pulses; with one more HLC DOM nearby, each pulse on DOM 0 sees two DOMs
    pos = np.array([[0, 0, 0], [0, 0, 0], [100, 0, 0]], float)
    selected = seeded_rt(np.array([0.0, 10.0, 20.0]), pos, np.ones(3, bool), np.array([7, 7, 9]))
    assert selected.all()


def test_time_window_keeps_the_first_fullest_window():
    # windows of 3 pulses start at 7000 and at 20000 (its end 26000 included): the first wins
    t = np.array([0.0, 100.0, 7000.0, 7100.0, 7200.0, 20000.0, 20100.0, 26000.0])
    assert best_time_window(t, np.ones(8, bool)).tolist() == [False] * 2 + [True] * 3 + [False] * 3
    later = np.ones(8, bool)
    later[2] = False  # now only the window at 20000 holds 3
    assert best_time_window(t, later).tolist() == [False] * 5 + [True] * 3
    assert best_time_window(t, np.zeros(8, bool)).tolist() == [False] * 8


def test_cleaning_skips_doms_without_geometry_and_removes_deepcore():
    geometry = Geometry([1, 1, 80, 80], [1, 2, 1, 2], [0, 0, 50, 50], [0, 0, 0, 0], [0, 17, 0, 10])
    pulses = Pulses([1, 1, 80, 80, 2], [1, 2, 1, 2, 1], [0, 5, 10, 15, 20], [1, 2, 3, 4, 5], [FLAG_LC] * 5)
    result = online_l2_cleaning(pulses, geometry)  # pulses sort by DOM: (2, 1) has no position
    assert result.seeded_rt.tolist() == [True, True, False, True, True]
    assert result.cleaned.tolist() == [True, True, False, False, False]
    assert (result.npulses, result.nch, result.qtot) == (2, 2, 3.0)


def test_vertex_ignores_balloon_doms_and_needs_the_threshold():
    pos = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0]], float)
    t = np.array([0.0, 100.0, 200.0])
    q = np.array([1000.0, 30.0, 30.0])  # DOM 0 holds > 90 % of the charge
    assert vhe_self_veto_vertex(t, q, pos, np.arange(3), threshold=40.0) == (pytest.approx([5, 5, 0]), 200.0)
    assert vhe_self_veto_vertex(t, q, pos, np.arange(3), threshold=60.0) is None
    far = np.array([0.0, 100.0, 3101.0])  # the window of 3000 ns no longer holds both
    assert vhe_self_veto_vertex(far, q, pos, np.arange(3), threshold=40.0) is None
