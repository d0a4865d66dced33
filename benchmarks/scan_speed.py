"""Wall time of a full scan of one event with the embedded workers, and where its best fit lands.

Usage:
  python benchmarks/scan_speed.py --event FILE --geometry TABLE [--output FILE.json]
      [--reco mpe_pandel] [--nsides "8:0 64:12 512:24"] [--workers N] [--reco-option KEY=VALUE ...]

Prints and (with --output) writes: wall_s, n_fits (pixel variations fitted; each is the better of the
seed and, where one exists, the fallback seed), fits_per_s, the best fit (RA, Dec, zenith, azimuth in
degrees), the angles to the online fit (the event's ``direction`` seed, e.g. OnlineL2 SplineMPE) and to
the best fit of the legacy upstream full scan in ``reference/full_scans`` (those files store θ = π/2 + Dec,
docs/upstream-behaviour.md §18.3). CPU seconds of the workers and the machine's load average are
recorded too, because wall time on a shared machine depends on what else runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

import healpy
import numpy as np

from skymap_scanner.api import scan
from skymap_scanner.event.model import SEED_DIRECTION, Event
from skymap_scanner.io.events import load_event
from skymap_scanner.settings import Settings
from skymap_scanner.sky import angular_distance, dir_to_equa

REFERENCE_SCANS = Path(__file__).resolve().parents[2] / "shared" / "data" / "reference" / "full_scans"


def legacy_best_fit(event: Event, folder: Path = REFERENCE_SCANS) -> tuple[float, float] | None:
    """(RA, Dec) [rad] of the lowest-llh pixel of the legacy full scan of this event, if there is one."""
    meta = event.metadata
    files = sorted(folder.glob(f"run{meta.run_id:08d}-evt{meta.event_id:012d}-*.npz"))
    if not files:
        return None
    with np.load(files[0]) as scan:
        rows = [(float(r["llh"]), int(key.split("-")[1]), int(r["index"])) for key in scan.files for r in scan[key]]
    _, nside, pixel = min(rows)
    theta, phi = healpy.pix2ang(nside, pixel)
    return float(phi), float(theta - math.pi / 2)  # legacy convention: θ = π/2 + Dec


def run(event: Event, reco: str, nsides: str, workers: int, options: dict[str, str]) -> dict:
    load_start = os.getloadavg()[0]
    cpu_start = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    result = scan(event, reco, nsides, workers=workers, progress=False, settings=Settings(shuffle_seed=1),
                  **options)
    wall = time.monotonic() - start
    cpu_end = resource.getrusage(resource.RUSAGE_CHILDREN)
    manifest = result.manifest["progress"]
    best = manifest["best_fit"]
    n_fits = manifest["tallies"]["overall"]["variations_done"]
    return {
        "event": str(event.metadata), "reco": reco, "nsides": nsides, "workers": workers,
        "wall_s": wall, "n_fits": n_fits, "fits_per_s": n_fits / wall,
        "best_ra_deg": best["ra_deg"], "best_dec_deg": best["dec_deg"],
        "best_zenith_deg": best["zenith_deg"], "best_azimuth_deg": best["azimuth_deg"],
        "best_nside": best["nside"], "best_llh": best["llh"],
        "worker_cpu_s": (cpu_end.ru_utime + cpu_end.ru_stime) - (cpu_start.ru_utime + cpu_start.ru_stime),
        "load_avg_start": load_start, "load_avg_end": os.getloadavg()[0],
        "pixels_per_nside": {n: t["pixels_in_result"] for n, t in manifest["tallies"]["nsides"].items()},
    }


def angles(event: Event, report: dict) -> dict:
    ra, dec = math.radians(report["best_ra_deg"]), math.radians(report["best_dec_deg"])
    out = {}
    seed = event.seeds.get(SEED_DIRECTION)
    if seed is not None and seed.has_direction:
        ra0, dec0 = dir_to_equa(seed.zenith, seed.azimuth, event.metadata.mjd)
        out["angle_to_online_deg"] = math.degrees(float(angular_distance(ra, dec, ra0, dec0)))
    legacy = legacy_best_fit(event)
    if legacy is not None:
        out["angle_to_legacy_full_scan_deg"] = math.degrees(float(angular_distance(ra, dec, *legacy)))
    return out


TABLE_ROWS = [
    ("wall_s", "wall [s]", "{:.1f}"), ("n_fits", "fits (pixel variations)", "{:d}"),
    ("fits_per_s", "fits per second", "{:.0f}"), ("worker_cpu_s", "worker CPU [s]", "{:.1f}"),
    ("best_ra_deg", "best RA [deg]", "{:.3f}"), ("best_dec_deg", "best Dec [deg]", "{:+.3f}"),
    ("best_zenith_deg", "best zenith [deg]", "{:.3f}"), ("best_azimuth_deg", "best azimuth [deg]", "{:.3f}"),
    ("angle_to_online_deg", "to online fit [deg]", "{:.3f}"),
    ("angle_to_legacy_full_scan_deg", "to legacy full scan [deg]", "{:.3f}"),
    ("load_avg_start", "load average at start", "{:.2f}"),
]


def print_table(report: dict) -> None:
    print(f"{report['event']}  reco {report['reco']}  nsides {report['nsides']}  workers {report['workers']}")
    for key, label, fmt in TABLE_ROWS:
        if key in report:
            print(f"  {label:<28} {fmt.format(report[key])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--event", required=True, type=Path)
    parser.add_argument("--geometry", type=Path, help="DOM table (CSV) for alert messages")
    parser.add_argument("--output", type=Path, help="write the report as JSON")
    parser.add_argument("--reco", default="mpe_pandel")
    parser.add_argument("--nsides", default="8:0 64:12 512:24")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--reco-option", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    event = load_event(args.event, geometry_table=args.geometry)
    options = dict(item.split("=", 1) for item in args.reco_option)
    report = run(event, args.reco, args.nsides, args.workers, options)
    report.update(angles(event, report))
    print_table(report)
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
