"""The O(N log N) SeededRT equals the plain O(N²) definition on random small events.

The reference below builds the full pulse-pair matrix, as the first implementation did: two pulses
are linked when their DOMs' squared distance is ≤ 150² m² and the later time is < the earlier time
+ 1000 ns; HLC core = HLC pulses with HLC partners on ≥ 2 distinct DOMs; each growth iteration adds
every pulse linked to a selected one. Positions on a 30 m lattice and times on a 250 ns lattice
give many pairs exactly at 150 m and exactly 1000 ns apart.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from skymap_scanner.event.model import FLAG_LC, MAX_ABS_TIME_NS, Geometry, Pulses
from skymap_scanner.physics.constants import FIRST_DEEPCORE_STRING
from skymap_scanner.prepare.cleaning import (
    RT_ITERATIONS,
    RT_RADIUS,
    RT_TIME,
    RTLinks,
    best_time_window,
    dom_pairs_within,
    online_l2_cleaning,
    seeded_rt,
)


def reference_links(time: np.ndarray, position: np.ndarray) -> np.ndarray:
    """(N, N) bool: pulses i ≠ j RT-linked."""
    near = np.sum((position[:, None, :] - position[None, :, :]) ** 2, axis=2) <= RT_RADIUS**2
    late, early = np.maximum(time[:, None], time[None, :]), np.minimum(time[:, None], time[None, :])
    linked = near & (late < early + RT_TIME)
    np.fill_diagonal(linked, False)
    return linked


def reference_seeded_rt(time: np.ndarray, position: np.ndarray, hlc: np.ndarray, dom: np.ndarray,
                        iterations: int = RT_ITERATIONS) -> np.ndarray:
    linked = reference_links(time, position)
    core = [bool(hlc[p]) and len(set(dom[linked[p] & hlc].tolist())) >= 2 for p in range(len(time))]
    selected = np.array(core, bool)
    for _ in range(iterations):
        selected = selected | linked[selected].any(axis=0)
    return selected


coordinate = st.one_of(st.integers(-10, 10).map(lambda k: 30.0 * k), st.floats(-300, 300))
offset = st.sampled_from([0.0, 0.5, 1e5, 7.357e8, 1e20])  # at 1e20 ns, t + 1000 ns == t


@st.composite
def events(draw):
    """(time [ns], position (N, 3) [m], hlc, dom): up to 12 DOMs, up to 40 pulses."""
    n_dom = draw(st.integers(1, 12))
    doms = np.array(draw(st.lists(st.tuples(coordinate, coordinate, coordinate), min_size=n_dom,
                                  max_size=n_dom)), float).reshape(n_dom, 3)
    n = draw(st.integers(0, 40))
    dom = np.array(draw(st.lists(st.integers(0, n_dom - 1), min_size=n, max_size=n)), np.int64)
    base = draw(offset)
    steps = draw(st.lists(st.one_of(st.integers(0, 24).map(lambda k: 250.0 * k), st.floats(0, 6000)),
                          min_size=n, max_size=n))
    time = base + np.array(steps, float)
    hlc = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    return time, doms[dom], hlc, dom * 7 + 1000  # any per-DOM id


@settings(max_examples=400, deadline=None)
@given(events(), st.integers(0, 4))
def test_seeded_rt_equals_the_pairwise_definition(event, iterations):
    time, position, hlc, dom = event
    np.testing.assert_array_equal(seeded_rt(time, position, hlc, dom, iterations),
                                  reference_seeded_rt(time, position, hlc, dom, iterations))


@settings(max_examples=300, deadline=None)
@given(events(), st.data())
def test_link_counts_equal_the_pairwise_definition(event, data):
    time, position, _, dom = event
    flagged = np.array(data.draw(st.lists(st.booleans(), min_size=len(time), max_size=len(time))), bool)
    linked = reference_links(time, position) & flagged[None, :]
    links = RTLinks(time, position, dom)
    np.testing.assert_array_equal(links.count_linked(flagged), linked.sum(axis=1))
    partner_doms = np.array([len(set(dom[row].tolist())) for row in linked], np.int64)
    np.testing.assert_array_equal(links.count_partner_doms(flagged), partner_doms)
    query = np.array(data.draw(st.lists(st.booleans(), min_size=len(time), max_size=len(time))), bool)
    at_most = data.draw(st.integers(1, 3))
    for counted, full in ((links.count_linked(flagged, query, at_most), linked.sum(axis=1)),
                          (links.count_partner_doms(flagged, query, at_most), partner_doms)):
        np.testing.assert_array_equal(counted[~query], 0)
        np.testing.assert_array_equal(np.minimum(counted, at_most)[query], np.minimum(full, at_most)[query])
        assert np.all(counted[query] <= full[query])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(coordinate, coordinate, coordinate), max_size=60))
def test_dom_pairs_equal_the_pairwise_distances(points):
    position = np.array(points, float).reshape(-1, 3)
    a, b = dom_pairs_within(position)
    near = np.sum((position[:, None, :] - position[None, :, :]) ** 2, axis=2) <= RT_RADIUS**2
    expected = np.argwhere(near)
    np.testing.assert_array_equal(np.column_stack([a, b]).reshape(-1, 2), expected)


def test_dom_pairs_at_exactly_150_m_and_across_cells():
    # 90-120-150 triangles, a point on a cell edge, one non-finite position (no pairs)
    position = np.array([[0, 0, 0], [90, 120, 0], [0, 90, 120], [151.5, 0, 0], [1.5, 0, 0], [0, 0, 150.0001],
                         [np.nan, 0, 0]])
    pairs = set(zip(*map(np.ndarray.tolist, dom_pairs_within(position)), strict=True))
    assert {(0, 1), (0, 2), (3, 4), (0, 4)} <= pairs
    assert not {(0, 3), (0, 5), (6, 6)} & pairs


@settings(max_examples=150, deadline=None)
@given(events(), st.lists(st.integers(FIRST_DEEPCORE_STRING - 2, FIRST_DEEPCORE_STRING + 1), min_size=12,
                          max_size=12))
def test_online_l2_cleaning_equals_the_pairwise_definition(event, strings):
    time, position, hlc, dom = event
    assume(np.all(np.abs(time) <= MAX_ABS_TIME_NS))  # Pulses refuses larger times (the kernels above do not)
    index = (dom - 1000) // 7
    string, om = np.array(strings)[index], index + 1
    first = np.unique(index, return_index=True)[1]
    geometry = Geometry(string[first], om[first], *position[first].T)
    pulses = Pulses(string, om, time, np.ones(len(time)), np.where(hlc, FLAG_LC, 0))
    result = online_l2_cleaning(pulses, geometry)
    sorted_position = geometry.lookup(pulses.string, pulses.om)
    rt = reference_seeded_rt(pulses.time, sorted_position, pulses.hlc, pulses.dom_keys())
    np.testing.assert_array_equal(result.seeded_rt, rt)
    np.testing.assert_array_equal(result.cleaned, best_time_window(pulses.time, rt)
                                  & (pulses.string < FIRST_DEEPCORE_STRING))
