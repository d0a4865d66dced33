"""The ``mpe_pandel`` / ``mpe_pandel_pointed`` recos: preparation, seeds, results, a small embedded scan."""

import json
import math

import numpy as np
import pytest
from skyreader import SkyScanResult

from skymap_scanner.api import scan
from skymap_scanner.fit import DomHits, MpeSettings, TrackFitter
from skymap_scanner.io.events import load_event
from skymap_scanner.pixels.types import PixelVariation
from skymap_scanner.postprocess.products import scan_context
from skymap_scanner.recos import get_reco_class
from skymap_scanner.recos.mpe_pandel import MpePandel, MpePandelOptions, cylinder_variations
from skymap_scanner.server.seeds import rotation_to
from skymap_scanner.simulation.synthetic import synthetic_event
from skymap_scanner.sky import angular_distance, dir_to_equa, direction_vector, equa_to_dir

GOLD = "run00136766-evt000007637140-GOLD.pkl"


@pytest.fixture(scope="module")
def gold(shared_data, geometry_table):
    event = load_event(shared_data / "events" / GOLD, geometry_table=geometry_table)
    return MpePandel.prepare_event(event, MpePandelOptions())


def test_discovered_with_upstream_flags():
    full, pointed = get_reco_class("mpe_pandel"), get_reco_class("mpe_pandel_pointed")
    assert full.rotate_vertex and full.add_fallback_position and not full.pointed
    assert pointed.pointed and pointed.pointing_radius_deg == 3.5 and issubclass(pointed, full)


def test_cylinder_variations_are_upstreams():
    v = cylinder_variations()
    assert v.shape == (7, 3) and np.array_equal(v[0], [0, 0, 0])
    assert np.allclose(np.hypot(v[1:, 0], v[1:, 1]), 150.0) and np.array_equal(v[1:, 2], [-40] * 3 + [40] * 3)
    angles = np.degrees(np.arctan2(v[1:, 1], v[1:, 0])) % 360
    assert np.allclose(angles, [0, 120, 240, 60, 180, 300])


def test_prepare_event_reproduces_the_online_cleaning(gold):
    # docs/i3-format.md §10: cleaned, DeepCore removed: 1641 pulses, 239 DOMs, 2745.525 PE = the alert message
    assert len(gold.pulses) == 1641 and gold.pulses.n_channels == 239
    assert gold.pulses.charge.sum() == pytest.approx(2745.525, abs=1e-3)
    assert gold.pulses.string.max() < 79
    assert np.allclose(gold.seeds["vertex"].position, [158.94, -345.23, -504.39], atol=0.01)


def test_pointing_is_the_online_fit(gold):
    ra, dec = get_reco_class("mpe_pandel_pointed").pointing(gold)
    assert math.degrees(ra) == pytest.approx(224.396, abs=0.01) and math.degrees(dec) == pytest.approx(40.686, abs=0.01)
    assert get_reco_class("mpe_pandel").pointing(gold) is None


def test_reconstruct_fills_every_field(gold):
    reco = MpePandel(gold, {"refine_fallback": True})
    seed = gold.seeds["direction"]
    ra, dec = dir_to_equa(seed.zenith, seed.azimuth, gold.metadata.mjd)
    v = gold.seeds["vertex"]
    common = dict(nside=64, pixel_id=1, ra=float(ra), dec=float(dec), zenith=seed.zenith, azimuth=seed.azimuth,
                  t=v.time)
    batch = [PixelVariation(posvar_id=0, x=v.x, y=v.y, z=v.z, **common),
             PixelVariation(posvar_id=1, x=v.x + 100, y=v.y, z=v.z, fallback_x=v.x, fallback_y=v.y, fallback_z=v.z,
                            fallback_t=v.time, **common)]
    results = reco.reconstruct(batch)
    assert [r.posvar_id for r in results] == [0, 1]
    for r in results:
        assert np.isfinite([r.llh, r.x, r.y, r.z, r.time]).all() and r.reco_losses_inside == r.reco_losses_total == 0
    assert results[1].llh <= results[0].llh + 1e-6  # the second variation also tried the first one's seed


def test_refine_fallback_off_fits_the_seed_only(gold):
    seed, v = gold.seeds["direction"], gold.seeds["vertex"]
    ra, dec = dir_to_equa(seed.zenith, seed.azimuth, gold.metadata.mjd)
    common = dict(nside=64, pixel_id=1, ra=float(ra), dec=float(dec), zenith=seed.zenith, azimuth=seed.azimuth,
                  t=v.time, fallback_x=v.x, fallback_y=v.y, fallback_z=v.z, fallback_t=v.time)
    batch = [PixelVariation(posvar_id=k, x=v.x + 60 * k, y=v.y - 30 * k, z=v.z, **common) for k in range(3)]
    both = MpePandel(gold).reconstruct(batch)
    seed_only = MpePandel(gold, {"refine_fallback": False}).reconstruct(batch)
    fitter = TrackFitter(DomHits.from_event(gold))
    direction = direction_vector(seed.zenith, seed.azimuth)
    alone = fitter.fit(np.repeat(direction[None], 3, axis=0), np.array([[(b.x, b.y, b.z)] for b in batch])).llh
    assert [r.llh for r in seed_only] == alone.tolist()
    assert all(b.llh <= s.llh for b, s in zip(both, seed_only, strict=True))


def test_gold_minimum_is_near_the_online_fit(gold):
    """A 0.25 deg grid around the online SplineMPE direction: the best point is within 0.5 deg of it."""
    seed, v = gold.seeds["direction"], gold.seeds["vertex"]
    mjd = gold.metadata.mjd
    ra0, dec0 = dir_to_equa(seed.zenith, seed.azimuth, mjd)
    step = np.radians(np.arange(-1.0, 1.01, 0.25))
    ra = ra0 + step[:, None] / math.cos(dec0) + 0 * step[None, :]
    dec = dec0 + 0 * step[:, None] + step[None, :]
    zenith, azimuth = equa_to_dir(ra.ravel(), dec.ravel(), mjd)
    directions = direction_vector(zenith, azimuth)
    seeds = v.position + np.einsum("nij,vj->nvi", rotation_to(directions), cylinder_variations())
    llh = TrackFitter(DomHits.from_event(gold)).fit(np.repeat(directions, 7, axis=0), seeds.reshape(-1, 1, 3)).llh
    best = np.argmin(llh.reshape(-1, 7).min(axis=1))
    assert math.degrees(angular_distance(ra.ravel()[best], dec.ravel()[best], ra0, dec0)) < 0.5


def test_tabulated_pdf_fits_like_the_exact_kernels(gold):
    """GOLD fits within 2 deg of the online fit, 7 cylinder seeds each: the tabulated convolved Pandel (the
    default) and the exact kernels reach the same minima to ≈ 1e-4 in -ln L (the table's 1e-6-level error
    summed over ≈ 240 DOMs) and the same best direction; a seed may settle in another local minimum."""
    seed, v = gold.seeds["direction"], gold.seeds["vertex"]
    rng = np.random.default_rng(8)
    offsets = np.radians(rng.uniform(-2.0, 2.0, (60, 2)))
    directions = direction_vector(seed.zenith + offsets[:, 0], seed.azimuth + offsets[:, 1])
    seeds = (v.position + np.einsum("nij,vj->nvi", rotation_to(directions), cylinder_variations())).reshape(-1, 1, 3)
    hits = DomHits.from_event(gold)
    fits = {tab: TrackFitter(hits, MpeSettings(tabulated=tab)).fit(np.repeat(directions, 7, axis=0), seeds)
            for tab in (True, False)}
    delta = fits[True].llh - fits[False].llh
    assert np.median(np.abs(delta)) < 1e-3
    assert np.mean(np.abs(delta) < 1e-2) > 0.9
    best = {tab: fits[tab].llh.reshape(-1, 7).min(axis=1) for tab in fits}
    assert np.argmin(best[True]) == np.argmin(best[False])
    assert abs(best[True].min() - best[False].min()) < 1e-3


def test_small_scan_finds_the_synthetic_track(tmp_path):
    event = synthetic_event(zenith=2.2, azimuth=1.0, seed=5)
    out = scan(event, "mpe_pandel", "4:0 8:4", workers=2, output_dir=tmp_path, progress=False)
    result = SkyScanResult.read_json(out.files["json"])
    assert result.nsides == [4, 8] and len(result.result["nside-4"]) == 192
    assert out.manifest["progress"]["tallies"]["overall"]["failed_pixels"] == 0 and not out.failed_pixels
    for n in (4, 8):
        rows = result.result[f"nside-{n}"]
        assert np.isfinite(rows["llh"]).all() and not rows["E_in"].any() and not rows["E_tot"].any()
    ra, dec = result.best_dir
    true_ra, true_dec = dir_to_equa(2.2, 1.0, event.metadata.mjd)
    assert math.degrees(angular_distance(ra, dec, true_ra, true_dec)) < 8.0  # nside-8 pixels are 7.3 deg
    # the deposited energy at the best fit: in the result, its manifest file and the circular
    energy = out.deposited_energy
    assert energy is not None and 0 < energy.e_in_gev <= energy.e_tot_gev
    assert json.loads(out.files["manifest"].read_text())["scan_metadata"]["deposited_energy"] == energy.as_dict()
    assert f"{energy.e_in_gev / 1e3:.1f} TeV in the detector" in out.products.circular
    assert scan_context(out.files["json"], result).deposited_energy == energy  # `report` reads it back
