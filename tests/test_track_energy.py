"""Deposited energy of a track with losses at a scan's best fit (postprocess/energy.py)."""

import math

import numpy as np
import pytest

from skymap_scanner.api import simulate
from skymap_scanner.event.model import SEED_DIRECTION
from skymap_scanner.io.events import load_event
from skymap_scanner.postprocess.energy import DepositedEnergy, track_deposited_energy
from skymap_scanner.server.plan import ScanPlan
from skymap_scanner.sky import dir_to_equa

GOLD = "run00136766-evt000007637140-GOLD.pkl"


def fitted(event, zenith, azimuth):
    plan = ScanPlan.build(event, "mpe_pandel")
    ra, dec = dir_to_equa(zenith, azimuth, event.metadata.mjd)
    best = min(plan.fit_at(float(ra), float(dec), {}, zenith_azimuth=(zenith, azimuth)), key=lambda r: r.llh)
    return (best.x, best.y, best.z), best.time


@pytest.mark.parametrize(("energy", "event_id"), [(1e6, 0), (1e6, 3)])
def test_simulated_muon_losses_inside_match_the_truth(energy, event_id):
    """At 1 PeV the unfolded E_in is within 25 % of the simulator's (benchmarks/track_energy.py: median 0.93)."""
    event = simulate(energy_gev=energy, seed=77, event_id=event_id)
    muon = event.truth["muon"]
    vertex, t = fitted(event, muon.zenith, muon.azimuth)
    e = track_deposited_energy(event, vertex, t, muon.zenith, muon.azimuth)
    assert e.e_in_gev / event.truth_info["deposited_energy_in_gev"] == pytest.approx(1.0, abs=0.25)
    assert 0 < e.e_in_gev <= e.e_tot_gev and e.n_sources > 100 and "every 5 m" in e.hypothesis


def test_gold_e_in_is_within_a_factor_1p5_of_the_upstream_full_scan(shared_data, geometry_table):
    gold = load_event(shared_data / "events" / GOLD, geometry_table=geometry_table)
    online = gold.seeds[SEED_DIRECTION]
    vertex, t = fitted(gold, online.zenith, online.azimuth)
    e = track_deposited_energy(gold, vertex, t, online.zenith, online.azimuth)
    with np.load(next((shared_data / "reference" / "full_scans").glob("run00136766-*.npz"))) as z:
        rows = [r for key in z.files for r in z[key]]
    upstream = min(rows, key=lambda r: float(r["llh"]))
    assert 1 / 1.5 < e.e_in_gev / float(upstream["E_in"]) < 1.5


def test_a_track_that_misses_the_detector_deposits_nothing():
    event = simulate(energy_gev=1e5, seed=77, event_id=0)
    e = track_deposited_energy(event, (3000.0, 3000.0, 0.0), 0.0, 0.0, 0.0)  # vertical, 4 km from the centre
    assert (e.e_in_gev, e.e_tot_gev, e.n_sources) == (0.0, 0.0, 0)


def test_bad_input_and_records():
    event = simulate(energy_gev=1e5, seed=77, event_id=0)
    with pytest.raises(ValueError, match="finite vertex"):
        track_deposited_energy(event, (math.nan, 0.0, 0.0), 0.0, 1.0, 1.0)
    e = DepositedEnergy(1.5e4, 2e4, "track with losses every 5 m", 120)
    assert DepositedEnergy.from_dict(e.as_dict()) == e
    with pytest.raises(ValueError, match="not a deposited energy record"):
        DepositedEnergy.from_dict({"e_in_gev": 1.0})
