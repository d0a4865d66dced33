"""Track-fit throughput on the fit device (GPU when present, else the CPU), and a full scan's wall time.

Usage:
  python benchmarks/gpu_fits.py --event FILE --geometry TABLE [--device cpu|gpu] [--fits N ...]
      [--nsides "8:0 64:12 512:24"] [--workers N] [--batch-size N] [--no-scan] [--output FILE.json]

Fits: random directions, two seeds each (around the event's vertex seed), fitted with
``TrackFitter(device=...)`` in one call per batch size; fits/s counts minimisations, after one untimed
warm-up call (numba compilation; its time is reported as ``first_call_s``). Then (unless ``--no-scan``) a
full ``mpe_pandel`` scan with ``device=...``. Without ``--device`` the GPU is used where numba finds one,
else the CPU (the log says so); the device actually used is in the table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numba
import numpy as np

from skymap_scanner.api import scan
from skymap_scanner.fit import DomHits, TrackFitter
from skymap_scanner.fit.gpu import gpu_available
from skymap_scanner.io.events import load_event
from skymap_scanner.recos.mpe_pandel import MpePandel, MpePandelOptions
from skymap_scanner.settings import Settings
from skymap_scanner.sky import direction_vector


def device_name(device: str) -> str:
    if device != "gpu":
        return f"CPU, {os.cpu_count()} cores, {numba.config.NUMBA_NUM_THREADS} numba threads"
    from numba import cuda

    return str(cuda.get_current_device().name)


def fit_rates(fitter: TrackFitter, event, sizes: list[int], seed: int = 0) -> tuple[float, list[dict]]:
    rng = np.random.default_rng(seed)
    n = max(sizes)
    directions = direction_vector(np.arccos(rng.uniform(-1, 1, n)), rng.uniform(0, 2 * np.pi, n))
    seeds = event.seeds["vertex"].position + rng.normal(0, 80, (n, 2, 3))
    start = time.perf_counter()
    fitter.fit(directions[:2], seeds[:2])
    first = time.perf_counter() - start
    rows = []
    for size in sizes:
        start = time.perf_counter()
        result = fitter.fit(directions[:size], seeds[:size])
        wall = time.perf_counter() - start
        rows.append({"fits": 2 * size, "wall_s": wall, "fits_per_s": 2 * size / wall,
                     "evaluations_per_fit": float(result.evaluations.sum() / (2 * size))})
    return first, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--event", required=True, type=Path)
    parser.add_argument("--geometry", type=Path)
    parser.add_argument("--device", choices=["cpu", "gpu"])
    parser.add_argument("--fits", type=int, nargs="+", default=[256, 1024],
                        help="batch sizes (directions; two seeds each)")
    parser.add_argument("--nsides", default="8:0 64:12 512:24")
    parser.add_argument("--workers", type=int, help="scan workers (default: 1 on a GPU, all cores on the CPU)")
    parser.add_argument("--batch-size", type=int, help="pixel variations per task (default: the reco's)")
    parser.add_argument("--no-scan", action="store_true")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)

    requested = args.device or ("gpu" if gpu_available() else "cpu")
    event = MpePandel.prepare_event(load_event(args.event, geometry_table=args.geometry), MpePandelOptions())
    fitter = TrackFitter(DomHits.from_event(event), device=requested)
    report: dict = {"event": str(event.metadata), "requested_device": requested, "device": fitter.device,
                    "device_name": device_name(fitter.device), "hit_doms": len(fitter.hits)}
    report["first_call_s"], report["batches"] = fit_rates(fitter, event, args.fits)
    if not args.no_scan:
        workers = args.workers or (1 if fitter.device == "gpu" else os.cpu_count() or 1)
        raw = load_event(args.event, geometry_table=args.geometry)
        start = time.monotonic()
        result = scan(raw, "mpe_pandel", args.nsides, workers=workers, progress=False,
                      settings=Settings(shuffle_seed=1, batch_size=args.batch_size), device=fitter.device)
        wall = time.monotonic() - start
        best = result.manifest["progress"]["best_fit"]
        report["scan"] = {"nsides": args.nsides, "workers": workers, "wall_s": wall,
                          "variations": result.manifest["progress"]["tallies"]["overall"]["variations_done"],
                          "best_ra_deg": best["ra_deg"], "best_dec_deg": best["dec_deg"]}

    print(f"{report['event']}: {report['hit_doms']} hit DOMs; device {report['device']} ({report['device_name']}), "
          f"requested {requested}")
    print(f"  first call (compile/load) {report['first_call_s']:.2f} s")
    print(f"  {'fits':>8} {'wall s':>8} {'fits/s':>9} {'evaluations/fit':>16}")
    for row in report["batches"]:
        print(f"  {row['fits']:>8} {row['wall_s']:>8.2f} {row['fits_per_s']:>9.0f} {row['evaluations_per_fit']:>16.1f}")
    if "scan" in report:
        s = report["scan"]
        print(f"  full scan {s['nsides']}, {s['workers']} worker(s): {s['wall_s']:.1f} s wall, {s['variations']} "
              f"variations, best fit RA {s['best_ra_deg']:.3f} Dec {s['best_dec_deg']:+.3f}")
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
