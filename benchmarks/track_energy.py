"""Deposited energy of a track at its best fit (``postprocess/energy.py``) against the simulator's truth and
against the upstream Millipede full scans of the real alerts.

Usage:
  python benchmarks/track_energy.py [--energies 1e4 1e5 1e6 1e7] [--events 12] [--seed 31] [--starting]
      [--geometry icecube86.csv] [--output FILE.json]

Simulated muons (``skymap_scanner.simulation``): the MPE timing fit at the true direction (seeded like an
nside-8 pixel, from the event seed), then the track-with-losses unfolding there; per energy: the median
and 68 % spread of E_in(reco) / E_in(true) (the simulator's losses inside the detector, upstream's E_in
definition), the σ of log10 of that ratio, E_tot / E_tot(true), and seconds per estimate. A scan's best
fit lies 0.1–1° from the truth, which moves the energy little (the track still crosses the same DOMs);
the full-scan numbers of the real alerts below include that.

Real alerts (GOLD, BRONZE; needs the shared data): the same at the online fit's direction and, with
``--scan``, at the best fit of a full 8/64/512 ``mpe_pandel`` scan, against E_in / E_tot of the upstream
full scan's best pixel (a Millipede-family reco, ``reference/full_scans``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from skymap_scanner.api import scan, simulate
from skymap_scanner.event.model import SEED_DIRECTION, Event
from skymap_scanner.io.events import load_event
from skymap_scanner.postprocess.energy import track_deposited_energy
from skymap_scanner.server.plan import ScanPlan
from skymap_scanner.sky import dir_to_equa

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL_EVENTS = {"GOLD": "run00136766-evt000007637140-GOLD.pkl", "BRONZE": "run00136662-evt000035405932-BRONZE.pkl"}


def fitted_track(event: Event, zenith: float, azimuth: float) -> tuple[tuple[float, float, float], float]:
    """Vertex [m] and time [ns] of the best MPE fit (7 cylinder variations) at the direction (zenith, azimuth)."""
    plan = ScanPlan.build(event, "mpe_pandel")
    ra, dec = dir_to_equa(zenith, azimuth, event.metadata.mjd)
    best = min(plan.fit_at(float(ra), float(dec), {}, zenith_azimuth=(zenith, azimuth)), key=lambda r: r.llh)
    return (best.x, best.y, best.z), best.time


def simulated(energy: float, n: int, seed: int, starting: bool) -> dict:
    rows = []
    for k in range(n):
        event = simulate(energy_gev=energy, seed=seed, event_id=k, starting=starting)
        muon, truth = event.truth["muon"], event.truth_info
        vertex, t = fitted_track(event, muon.zenith, muon.azimuth)
        start = time.perf_counter()
        e = track_deposited_energy(event, vertex, t, muon.zenith, muon.azimuth)
        seconds = time.perf_counter() - start
        rows.append({"event_id": k, "e_in_gev": e.e_in_gev, "e_tot_gev": e.e_tot_gev,
                     "true_e_in_gev": truth["deposited_energy_in_gev"], "true_e_tot_gev": truth["deposited_energy_gev"],
                     "seconds": seconds})
        print(f"  {energy:.0e} GeV #{k}: E_in {e.e_in_gev / 1e3:.1f} TeV (true {rows[-1]['true_e_in_gev'] / 1e3:.1f}), "
              f"E_tot {e.e_tot_gev / 1e3:.1f} TeV (true {rows[-1]['true_e_tot_gev'] / 1e3:.1f}), {seconds:.1f} s",
              flush=True)
    ok = [r for r in rows if r["true_e_in_gev"] > 0 and r["e_in_gev"] > 0]
    ratio = np.array([r["e_in_gev"] / r["true_e_in_gev"] for r in ok])
    tot = np.array([r["e_tot_gev"] / r["true_e_tot_gev"] for r in rows if r["true_e_tot_gev"] > 0])
    return {"energy_gev": energy, "starting": starting, "events": n, "with_e_in": len(ok),
            "e_in_ratio_median": float(np.median(ratio)), "e_in_ratio_16": float(np.quantile(ratio, 0.16)),
            "e_in_ratio_84": float(np.quantile(ratio, 0.84)), "sigma_log10_e_in": float(np.std(np.log10(ratio))),
            "e_tot_ratio_median": float(np.median(tot)),
            "seconds_median": float(np.median([r["seconds"] for r in rows])),
            "seconds_max": float(max(r["seconds"] for r in rows)), "rows": rows}


def upstream_best(event: Event) -> dict | None:
    """E_in, E_tot [GeV] of the best pixel of the upstream full scan of this event, if there is one."""
    meta = event.metadata
    files = sorted((SHARED / "reference" / "full_scans").glob(f"run{meta.run_id:08d}-evt{meta.event_id:012d}-*.npz"))
    if not files:
        return None
    with np.load(files[0]) as z:
        rows = [r for key in z.files for r in z[key]]
    best = min(rows, key=lambda r: float(r["llh"]))
    return {"e_in_gev": float(best["E_in"]), "e_tot_gev": float(best["E_tot"]), "file": files[0].name}


def real(name: str, geometry: Path | None, full_scan: bool) -> dict:
    event = load_event(SHARED / "events" / REAL_EVENTS[name], geometry_table=geometry)
    online = event.seeds[SEED_DIRECTION]
    vertex, t = fitted_track(event, online.zenith, online.azimuth)
    start = time.perf_counter()
    at_online = track_deposited_energy(event, vertex, t, online.zenith, online.azimuth)
    out = {"event": name, "online_fit": {"e_in_gev": at_online.e_in_gev, "e_tot_gev": at_online.e_tot_gev,
                                         "seconds": time.perf_counter() - start},
           "upstream_best_pixel": upstream_best(event)}
    if full_scan:
        result = scan(event, "mpe_pandel", "8:0 64:12 512:24", workers=2, progress=False)
        e = result.deposited_energy
        out["scan_best_fit"] = None if e is None else {"e_in_gev": e.e_in_gev, "e_tot_gev": e.e_tot_gev,
                                                       "ra_deg": result.best_fit.ra_deg,
                                                       "dec_deg": result.best_fit.dec_deg}
    return out


def print_tables(sims: list[dict], reals: list[dict]) -> None:
    print(f"{'muons':<20} {'n':>3} {'E_in reco/true median':>22} {'16–84 %':>12} {'σ log10':>8} "
          f"{'E_tot ratio':>11} {'s median/max':>13}")
    for s in sims:
        kind = "starting" if s["starting"] else "through-going"
        print(f"{s['energy_gev']:.0e} GeV {kind:<12} {s['with_e_in']:>3} {s['e_in_ratio_median']:>22.2f} "
              f"{s['e_in_ratio_16']:>5.2f}–{s['e_in_ratio_84']:<5.2f} {s['sigma_log10_e_in']:>8.3f} "
              f"{s['e_tot_ratio_median']:>11.2f} {s['seconds_median']:>6.1f}/{s['seconds_max']:<6.1f}")
    for r in reals:
        up = r["upstream_best_pixel"]
        cols = [("online fit", r["online_fit"])] + ([("scan best fit", r["scan_best_fit"])] if r.get("scan_best_fit")
                                                     else [])
        for label, e in cols:
            ratio = f", E_in / upstream {e['e_in_gev'] / up['e_in_gev']:.2f}" if up else ""
            print(f"{r['event']} at the {label}: E_in {e['e_in_gev'] / 1e3:.2f} TeV, "
                  f"E_tot {e['e_tot_gev'] / 1e3:.2f} TeV{ratio}")
        if up:
            print(f"{r['event']} upstream full-scan best pixel: E_in {up['e_in_gev'] / 1e3:.2f} TeV, "
                  f"E_tot {up['e_tot_gev'] / 1e3:.2f} TeV")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--energies", type=float, nargs="+", default=[1e4, 1e5, 1e6, 1e7], help="muon energies [GeV]")
    p.add_argument("--events", type=int, default=12, help="simulated muons per energy")
    p.add_argument("--seed", type=int, default=31)
    p.add_argument("--starting", action="store_true", help="starting tracks instead of through-going")
    p.add_argument("--geometry", type=Path, default=SHARED / "geometry" / "icecube86.csv")
    p.add_argument("--no-real", action="store_true", help="skip the real alerts")
    p.add_argument("--scan", action="store_true", help="also full-scan the real alerts (best-fit energy)")
    p.add_argument("--output", type=Path)
    args = p.parse_args(argv)
    sims = [simulated(e, args.events, args.seed, args.starting) for e in args.energies]
    reals = [] if args.no_real or not (SHARED / "events").is_dir() else \
        [real(name, args.geometry, args.scan) for name in REAL_EVENTS]
    print_tables(sims, reals)
    if args.output:
        args.output.write_text(json.dumps({"simulated": sims, "real": reals, "seed": args.seed,
                                           "argv": sys.argv[1:]}, indent=2, default=float) + "\n")
    return 0 if all(math.isfinite(s["e_in_ratio_median"]) for s in sims) else 1


if __name__ == "__main__":
    sys.exit(main())
