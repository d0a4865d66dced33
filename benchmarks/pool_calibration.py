"""Pool the per-event 2ΔLLH at the truth of several ``benchmarks/physics.py --output`` runs into one
contour calibration, and test each run with the levels of the others.

Usage:
  python benchmarks/pool_calibration.py RUN1.json RUN2.json [...] [--write FILE.json] [--output SUMMARY.json]

This is how the shipped ``mpe_pandel_100TeV`` calibration is made (three runs with independent
simulation seeds). Runs must share reco, options, energy and nside progression.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from skymap_scanner import __version__
from skymap_scanner.postprocess.calibration import (
    WILKS,
    ContourCalibration,
    calibrate,
    coverage,
    cross_validated_coverage,
)

SHARED_SETTINGS = ("energy_gev", "reco", "reco_options", "nsides", "refine_seed", "starting", "i3")


def load_run(path: Path) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """(settings, 2ΔLLH at the truth, angular errors [deg]) of one benchmark run."""
    data = json.loads(path.read_text())
    try:
        events = data["events"]
        return (data["settings"], np.array([e["two_dllh_truth"] for e in events], np.float64),
                np.array([e["error_deg"] for e in events], np.float64))
    except (KeyError, TypeError) as e:
        raise SystemExit(f"{path}: not a benchmarks/physics.py --output file (missing {e})") from None


def pool(paths: list[Path]) -> dict[str, Any]:
    runs = [load_run(p) for p in paths]
    first = runs[0][0]
    for path, (settings, _, _) in zip(paths, runs, strict=True):
        differing = [k for k in SHARED_SETTINGS if settings.get(k) != first.get(k)]
        if differing:
            raise SystemExit(f"{path}: settings {differing} differ from {paths[0]}")
    values = [r[1][np.isfinite(r[1])] for r in runs]
    errors = np.concatenate([r[2] for r in runs])
    finite = np.concatenate(values)
    cal = calibrate(finite, "pooled")
    held_out = {}
    for i, path in enumerate(paths if len(runs) > 1 else []):
        levels = calibrate(np.concatenate(values[:i] + values[i + 1:]), "others")
        held_out[path.name] = coverage(values[i], levels)
    return {
        "runs": [str(p) for p in paths], "seeds": [r[0].get("seed") for r in runs],
        "settings": {k: first.get(k) for k in SHARED_SETTINGS},
        "n_events": int(len(finite)), "median_error_deg": float(np.median(errors)),
        "error68_deg": float(np.quantile(errors, 0.68)), "n_beyond_1deg": int(np.sum(errors > 1.0)),
        "wilks_coverage": coverage(finite, WILKS), "levels": cal.levels,
        "cross_validated_coverage_2fold": cross_validated_coverage(finite),
        "coverage_of_other_runs_levels": held_out,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path, help="JSON outputs of benchmarks/physics.py")
    p.add_argument("--write", type=Path, help="write the pooled calibration (JSON, as shipped)")
    p.add_argument("--output", type=Path, help="write this summary (JSON)")
    args = p.parse_args(argv)
    summary = pool(args.runs)
    s = summary["settings"]
    print(f"{summary['n_events']} events ({', '.join(map(str, summary['runs']))}): median error "
          f"{summary['median_error_deg']:.3f}°, 68 % {summary['error68_deg']:.3f}°, "
          f"{summary['n_beyond_1deg']} beyond 1°")
    print(f"{'levels':<36} {'50 %':>8} {'90 %':>8} {'cov50':>7} {'cov90':>7}")
    w = summary["wilks_coverage"]
    print(f"{'Wilks':<36} {1.39:>8.2f} {4.61:>8.2f} {w['50%']:>7.3f} {w['90%']:>7.3f}")
    cv = summary["cross_validated_coverage_2fold"]
    lv = summary["levels"]
    print(f"{'pooled (2-fold CV coverage)':<36} {lv['50%']:>8.2f} {lv['90%']:>8.2f} {cv['50%']:>7.3f} "
          f"{cv['90%']:>7.3f}")
    for name, c in summary["coverage_of_other_runs_levels"].items():
        print(f"{'  ' + name + ' with the others levels':<36} {'':>8} {'':>8} {c['50%']:>7.3f} {c['90%']:>7.3f}")
    if args.write:
        description = (f"{s['reco']} (options {s['reco_options'] or 'default'}) on {summary['n_events']} simulated "
                       f"{'starting' if s['starting'] else 'through-going'} {s['energy_gev']:g} GeV muons, random "
                       f"directions (skymap_scanner.simulation seeds {summary['seeds']}), {s['nsides']} scans"
                       f"{' with seed-region refinement' if s.get('refine_seed') else ''}: "
                       "empirical 50 %/90 % quantiles of 2ΔLLH at the true direction "
                       "(benchmarks/physics.py, benchmarks/pool_calibration.py)")
        details = {**s, "seeds": summary["seeds"], "scanner_version": __version__,
                   "measured": datetime.date.today().isoformat(),
                   "cross_validated_coverage_2fold": cv,
                   "coverage_of_other_runs_levels": summary["coverage_of_other_runs_levels"]}
        cal = ContourCalibration(summary["levels"], description, summary["n_events"], details)
        print(f"calibration: {cal.write(args.write)}")
    if args.output:
        args.output.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    sys.exit(main() and 0)
