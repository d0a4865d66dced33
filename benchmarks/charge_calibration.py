"""Fit contour levels as a function of the event's total charge to ``benchmarks/physics.py`` events at
several energies, and measure their coverage per energy on events they were not fitted to.

Usage:
  python benchmarks/charge_calibration.py LOG.jsonl|RUN.json [...] [--folds 5] [--test-only starting]
      [--knots-pe Q ...] [--write FILE.json] [--output SUMMARY.json]

Inputs: the JSON-lines logs of ``physics.py --log`` or its ``--output`` files (one energy or
``--energies``). All events must share reco, options and nside progression. The calibration is
:class:`~skymap_scanner.postprocess.calibration.ChargeCalibration` (``postprocess/calibration_fit.py``:
ln L_q = a_q + b_q u + Σ_j c_qj max(u - k_j, 0), u = log10(Q / 1000 PE), quantile regression; the knots
at the charges ``--knots-pe``, none by default). Per energy (and through-going/starting)
the table gives: events, median charge, median and 68 % angular error, Wilks coverage, the coverage
of ONE pair of levels fitted to all energies (what a fixed calibration does), and the charge
calibration's coverage, each event tested with levels fitted to the other folds (k-fold by event).
``--test-only KIND`` (``starting``, ``muon``, ...) leaves the events of that kind out of the fit: they are
tested with the calibration fitted to all the others (out of sample by construction).
``--write`` stores the calibration fitted to all fitted events, as shipped (``mpe_pandel_charge``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from skymap_scanner import __version__
from skymap_scanner.postprocess.calibration import CONTAINMENTS, WILKS, calibrate, coverage
from skymap_scanner.postprocess.calibration_fit import cross_validated_inside, fit_charge_calibration

SHARED = ("reco", "reco_options", "nsides", "refine_seed")


def load_events(paths: list[Path]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(settings, outcome) of every event in the logs / outputs (first occurrence of each event)."""
    rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for path in paths:
        try:
            if path.suffix == ".jsonl":
                for line in path.read_text().splitlines():
                    if line.strip():
                        row = json.loads(line)
                        rows.append((row["settings"], row["outcome"]))
            else:
                data = json.loads(path.read_text())
                for run in data.get("energies", [data]):
                    rows.extend((run["settings"], e) for e in run["events"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise SystemExit(f"{path}: not a benchmarks/physics.py log or output ({type(e).__name__}: {e})") from None
    seen, unique = set(), []
    for settings, outcome in rows:
        key = (json.dumps(settings, sort_keys=True), outcome["name"])
        if key not in seen:
            seen.add(key)
            unique.append((settings, outcome))
    first = unique[0][0]
    for settings, outcome in unique:
        differing = [k for k in SHARED if settings.get(k) != first.get(k)]
        if differing:
            raise SystemExit(f"event {outcome['name']}: settings {differing} differ from the first event's")
    return unique


def _kind(settings: dict[str, Any]) -> str:
    return "starting" if settings.get("starting") else settings.get("interaction", "muon")


def _group(settings: dict[str, Any]) -> str:
    return f"{settings['energy_gev']:.0e} GeV {_kind(settings)}"


def summarize(rows: list[tuple[dict[str, Any], dict[str, Any]]], folds: int,
              test_only: tuple[str, ...] = (), knots_pe: tuple[float, ...] = ()) -> dict[str, Any]:
    rows = [(s, o) for s, o in rows if math.isfinite(o["two_dllh_truth"])]
    x = np.array([o["two_dllh_truth"] for _, o in rows])
    q = np.array([o["charge_pe"] for _, o in rows])
    err = np.array([o["error_deg"] for _, o in rows])
    groups = np.array([_group(s) for s, _ in rows])
    fitted = np.array([_kind(s) not in test_only for s, _ in rows])
    inside = {k: np.zeros(len(x), bool) for k in CONTAINMENTS}
    for k, v in cross_validated_inside(x[fitted], q[fitted], folds, knots_pe).items():
        inside[k][fitted] = v
    fixed = calibrate(x[fitted], "one pair of levels for every energy")
    cal = fit_charge_calibration(x[fitted], q[fitted], "all", knots_pe=knots_pe)
    for i in np.flatnonzero(~fitted):  # test-only events: the calibration of all fitted events
        levels = cal.levels_at(q[i])
        for k in CONTAINMENTS:
            inside[k][i] = x[i] < levels[k]
    table: dict[str, dict[str, Any]] = defaultdict(dict)
    for g in sorted(set(groups), key=lambda g: (g.split()[2], float(g.split()[0]))):
        sel = groups == g
        table[g] = {
            "n_events": int(sel.sum()), "median_charge_pe": float(np.median(q[sel])),
            "median_error_deg": float(np.median(err[sel])), "error68_deg": float(np.quantile(err[sel], 0.68)),
            "wilks_coverage": coverage(x[sel], WILKS), "fixed_levels_coverage": coverage(x[sel], fixed),
            "charge_calibrated_coverage_cv": {k: float(np.mean(inside[k][sel])) for k in CONTAINMENTS},
            "in_fit": bool(fitted[sel].all()),
            "levels_at_median_charge": cal.levels_at(float(np.median(q[sel]))),
            "median_scan_s": float(np.median([o["scan_s"] for (_, o), s in zip(rows, sel, strict=True) if s])),
            "peak_rss_mb": float(max(o["peak_rss_mb"] for (_, o), s in zip(rows, sel, strict=True) if s)),
        }
    return {"n_events": int(fitted.sum()), "n_test_only": int((~fitted).sum()), "test_only": list(test_only),
            "folds": folds, "settings": {k: rows[0][0].get(k) for k in SHARED},
            "seeds": sorted({s.get("seed") for s, _ in rows}), "coefficients": cal.coefficients,
            "knots_pe": list(knots_pe), "knots_u": list(cal.knots_u),
            "charge_range_pe": cal.charge_range_pe, "fixed_levels": fixed.levels,
            "charge_calibrated_coverage_cv": {k: float(np.mean(v[fitted])) for k, v in inside.items()},
            "wilks_coverage": coverage(x[fitted], WILKS), "groups": dict(table)}


def print_table(summary: dict[str, Any]) -> None:
    print(f"{'events':<22} {'n':>4} {'Q median':>9} {'median°':>8} {'68%°':>6} {'Wilks 50/90':>12} "
          f"{'fixed 50/90':>12} {'charge CV 50/90':>16} {'L50/L90 at Q':>14} {'s/scan':>7} {'MB':>6}")

    def pair(d: dict[str, float]) -> str:
        return f"{d['50%']:.2f}/{d['90%']:.2f}"

    for g, t in summary["groups"].items():
        name = g if t["in_fit"] else f"{g} *"
        print(f"{name:<22} {t['n_events']:>4} {t['median_charge_pe']:>9.0f} {t['median_error_deg']:>8.3f} "
              f"{t['error68_deg']:>6.2f} {pair(t['wilks_coverage']):>12} {pair(t['fixed_levels_coverage']):>12} "
              f"{pair(t['charge_calibrated_coverage_cv']):>16} "
              f"{t['levels_at_median_charge']['50%']:>6.2f}/{t['levels_at_median_charge']['90%']:<7.2f} "
              f"{t['median_scan_s']:>7.1f} {t['peak_rss_mb']:>6.0f}")
    if summary["n_test_only"]:
        print(f"* not fitted ({', '.join(summary['test_only'])}): coverage of the calibration fitted to the others")
    c = summary["charge_calibrated_coverage_cv"]
    knots = "".join(f" + c{j + 1} max(u - {k:.3f}, 0)" for j, k in enumerate(summary["knots_u"]))
    print(f"all {summary['n_events']} events, {summary['folds']}-fold CV: charge-calibrated coverage {pair(c)}; "
          f"ln L = a + b u{knots}, u = log10(Q/1000 PE): " + "; ".join(
              f"{k}: " + ", ".join(f"{v:.3f}" for v in coefficients) for k, coefficients in
              summary["coefficients"].items()))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("inputs", nargs="+", type=Path, help="physics.py --log JSON-lines or --output JSON files")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--test-only", action="append", default=[], metavar="KIND",
                   help="events of this kind (starting, muon, ...) are tested, not fitted (repeatable)")
    p.add_argument("--write", type=Path, help="write the calibration fitted to all fitted events (JSON, as shipped)")
    p.add_argument("--output", type=Path, help="write this summary (JSON)")
    p.add_argument("--knots-pe", type=float, nargs="*", default=[], metavar="Q",
                   help="total charges [PE] where the slope of ln L against log10 Q may change (default: none)")
    args = p.parse_args(argv)
    knots = tuple(args.knots_pe)
    rows = load_events(args.inputs)
    summary = summarize(rows, args.folds, tuple(args.test_only), knots)
    print_table(summary)
    if args.write:
        s = summary["settings"]
        finite = [(st, o) for st, o in rows if math.isfinite(o["two_dllh_truth"]) and _kind(st) not in args.test_only]
        fitted_groups = [g for g, t in summary["groups"].items() if t["in_fit"]]
        description = (f"{s['reco']} (options {s['reco_options'] or 'default'}) on {summary['n_events']} simulated "
                       f"muons ({', '.join(fitted_groups)}; skymap_scanner.simulation seeds {summary['seeds']}), "
                       f"{s['nsides']} scans: 50 %/90 % quantiles of 2ΔLLH at the true direction as a "
                       + (f"broken power law (slope changes at {', '.join(f'{k:.0f}' for k in knots)} PE)" if knots
                          else "power law") + " in the event's total charge (benchmarks/physics.py, "
                       "benchmarks/charge_calibration.py)")
        details = {**s, "seeds": summary["seeds"], "scanner_version": __version__,
                   "measured": datetime.date.today().isoformat(), "folds": args.folds,
                   "groups": {g: {k: t[k] for k in ("n_events", "in_fit", "median_charge_pe", "wilks_coverage",
                                                    "charge_calibrated_coverage_cv")}
                              for g, t in summary["groups"].items()},
                   "wilks_coverage": summary["wilks_coverage"],
                   "charge_calibrated_coverage_cv": summary["charge_calibrated_coverage_cv"]}
        x = np.array([o["two_dllh_truth"] for _, o in finite])
        q = np.array([o["charge_pe"] for _, o in finite])
        calibration = fit_charge_calibration(x, q, description, details, knots)
        print(f"calibration: {calibration.write(args.write)}")
    if args.output:
        args.output.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    sys.exit(main() and 0)
