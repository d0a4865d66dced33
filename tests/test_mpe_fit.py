"""The batched MPE track fitter (direction fixed; transverse vertex and time fitted)."""

import math

import numpy as np
import pytest

from skymap_scanner.fit import DomHits, MpeSettings, TrackFitter
from skymap_scanner.fit import track as tr
from skymap_scanner.recos.mpe_pandel import cylinder_variations
from skymap_scanner.server.seeds import rotation_to
from skymap_scanner.simulation.synthetic import synthetic_event
from skymap_scanner.sky import direction_vector


@pytest.fixture(scope="module")
def event():
    return synthetic_event(zenith=1.9, azimuth=4.0, seed=3)


@pytest.fixture(scope="module")
def fitter(event):
    return TrackFitter(DomHits.from_event(event))


def truth_frame(event):
    mu = event.truth["muon"]
    return mu, direction_vector(mu.zenith, mu.azimuth)


def cylinder_seeds(direction, base):
    return base + (rotation_to(direction[None])[0] @ cylinder_variations().T).T


def test_dom_hits_group_pulses(event):
    hits = DomHits.from_event(event)
    assert len(hits) == event.pulses.n_channels
    assert hits.charge_pe.sum() == pytest.approx(event.pulses.charge.sum())
    assert np.all(hits.first_time_ns <= np.array([event.pulses.time[event.pulses.dom_keys() == k].min()
                                                  for k in np.unique(event.pulses.dom_keys())]) + 1e-9)


@pytest.mark.parametrize("tabulated", [True, False])
def test_objective_gradient(event, tabulated):
    fitter = TrackFitter(DomHits.from_event(event), MpeSettings(tabulated=tabulated))
    _, p = truth_frame(event)
    frame = tr.track_frame(*p)
    s_ref = fitter.hits.center_m @ p
    args = (fitter.hits.position_m, fitter.hits.first_time_ns, fitter._n_photons, frame, s_ref, fitter._model,
            fitter._table, fitter._grid)
    for a, b, t0 in ((5.0, -3.0, 10_100.0), (60.0, 40.0, 9_900.0), (-150.0, 10.0, 10_400.0)):
        f, ga, gb, gt, *_ = tr.objective(a, b, t0, *args)
        for grad, step in ((ga, (1e-4, 0, 0)), (gb, (0, 1e-4, 0)), (gt, (0, 0, 1e-4))):
            up = tr.objective(a + step[0], b + step[1], t0 + step[2], *args)[0]
            down = tr.objective(a - step[0], b - step[1], t0 - step[2], *args)[0]
            assert grad == pytest.approx((up - down) / 2e-4, rel=1e-4, abs=1e-5)


def test_true_direction_recovers_the_track(event, fitter):
    mu, p = truth_frame(event)
    true_vertex = np.array([mu.x, mu.y, mu.z])
    seeds = cylinder_seeds(p, true_vertex + np.array([40.0, -25.0, 10.0]))
    result = fitter.fit(np.repeat(p[None], 7, axis=0), seeds[:, None, :])
    assert np.ptp(result.llh) < 1e-3  # all seven seeds reach the same minimum
    offset = result.vertex_m[0] - true_vertex
    transverse = np.linalg.norm(offset - (offset @ p) * p)
    assert transverse < 10.0  # m (the synthetic event's delays are not Pandel; 125 m string spacing)
    true_time = mu.time + (offset @ p) / tr.C_VACUUM_M_PER_NS
    # the synthetic delays are single-photon exponentials measured from a phase-index arrival time, not
    # MPE-Pandel: t0 absorbs part of the mismatch
    assert abs(result.time_ns[0] - true_time) < 100.0  # ns


def test_llh_is_lowest_near_the_true_direction(event, fitter):
    mu, _ = truth_frame(event)
    offsets = np.radians([0.0, 2.0, 5.0, 20.0])
    dirs = direction_vector(mu.zenith + offsets, np.full(4, mu.azimuth))
    seeds = np.stack([cylinder_seeds(d, np.array([mu.x, mu.y, mu.z])) for d in dirs])
    llh = fitter.fit(dirs, seeds).llh
    assert np.all(np.diff(llh) > 0)


def test_along_track_seed_shift_changes_nothing(event, fitter):
    mu, p = truth_frame(event)
    seed = np.array([mu.x + 30, mu.y, mu.z])
    a = fitter.fit(p[None], seed[None, None])
    b = fitter.fit(p[None], (seed + 170.0 * p)[None, None])
    assert a.llh[0] == pytest.approx(b.llh[0], rel=1e-12)
    assert np.allclose(a.vertex_m, b.vertex_m, rtol=0, atol=1e-6)
    assert a.time_ns[0] == pytest.approx(b.time_ns[0], abs=1e-6)


def test_missing_seeds(event, fitter):
    mu, p = truth_frame(event)
    seed = np.array([mu.x, mu.y, mu.z])
    both = fitter.fit(p[None], np.stack([seed, seed + 150.0 * np.cross(p, [0, 0, 1])])[None])
    one = fitter.fit(p[None], np.stack([seed, np.full(3, np.nan)])[None])
    none = fitter.fit(p[None], np.full((1, 2, 3), np.nan))
    assert both.llh[0] <= one.llh[0] + 1e-9 and one.evaluations[0] < both.evaluations[0]
    assert math.isnan(none.llh[0]) and none.evaluations[0] == 0


def test_settings_reach_the_kernels(event):
    hits = DomHits.from_event(event)
    mu, p = truth_frame(event)
    seed = np.array([[[mu.x, mu.y, mu.z]]])
    base = TrackFitter(hits).fit(p[None], seed).llh[0]
    wide = TrackFitter(hits, MpeSettings(jitter_ns=15.0)).fit(p[None], seed).llh[0]
    capped = TrackFitter(hits, MpeSettings(max_iterations=1)).fit(p[None], seed)
    assert wide != base and capped.evaluations[0] <= 1 + tr.MAX_BACKTRACKS
