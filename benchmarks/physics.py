"""Physics benchmark: angular error and contour coverage of full scans of simulated muon tracks.

Usage:
  python benchmarks/physics.py [--events 36] [--energy 1e5 | --energies 1e4 1e5 1e6 1e7] [--log FILE.jsonl]
      [--reco mpe_pandel] [--reco-option KEY=VALUE ...] [--nsides "8:0 64:12 512:24"] [--workers 2]
      [--seed 1] [--starting] [--calibration FILE] [--interaction muon|cascade|nc|starting|tau]
      [--write-calibration FILE] [--i3 FILE [--max-i3-events N]] [--light] [--output FILE.json]

Each event (simulated with ``skymap_scanner.simulation``, random direction, or read from an IceCube
``.i3`` simulation file with ``--i3``) is scanned like a real alert (embedded workers, the nside
progression given). Per event:

- angular error = distance between the true direction and the best pixel of the scan;
- 2ΔLLH at the truth = 2 (-lnL(truth) - min -lnL), where -lnL(truth) is the reco's fit with the direction
  fixed at the exact true direction, seeded like a pixel of the finest nside (negative: the scan missed
  a better minimum; counted as inside). The map value of the finest scanned pixel holding the truth is
  reported too ("map");
- whether the truth lies in the 90 % credible region of the scan's probability map
  (``postprocess/probability.py``) under the contour policy (``--calibration``, else the reco's default
  calibration, else Wilks), as the alert products make it: "in map90". Its rate over the events is
  compared with the rate of 2ΔLLH(truth) below the same policy's 90 % level.

Coverage = fraction of events with 2ΔLLH(truth) below the level: Wilks 1.39 / 4.61, and calibrated
levels (empirical 50 % / 90 % quantiles of 2ΔLLH(truth), ``postprocess/calibration.py``) tested by
2-fold cross-validation, so no event is tested with levels it helped to set. ``--write-calibration``
stores levels from all events; ``--calibration`` tests levels from an earlier run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from skymap_scanner.api import ScanResult, event_charge_pe
from skymap_scanner.api import scan as run_scan
from skymap_scanner.event.model import Event
from skymap_scanner.pixels.choose import NSideProgression, pixel_of_radec, radec_of_pixels
from skymap_scanner.pixels.types import NSidesDict
from skymap_scanner.postprocess.calibration import (
    CONTAINMENTS,
    WILKS,
    Calibration,
    ChargeCalibration,
    ContourCalibration,
    ContourPolicy,
    calibrate,
    choose_policy,
    contour_areas,
    coverage,
    cross_validated_coverage,
    load_calibration,
)
from skymap_scanner.postprocess.probability import credible_region, probability_density
from skymap_scanner.postprocess.products import INTERPOLATE_ORDERS
from skymap_scanner.recos import get_reco_class
from skymap_scanner.server.plan import ScanPlan
from skymap_scanner.settings import Settings
from skymap_scanner.simulation import SimulationConfig, simulate_event
from skymap_scanner.sky import angular_distance, dir_to_equa

LOGGER = logging.getLogger("benchmarks.physics")


@dataclasses.dataclass
class EventOutcome:
    """One scanned event: truth and best fit (RA/Dec [deg]), error [deg], 2ΔLLH at the truth."""

    name: str
    truth_ra_deg: float
    truth_dec_deg: float
    best_ra_deg: float
    best_dec_deg: float
    error_deg: float
    two_dllh_truth: float
    two_dllh_truth_map: float
    n_pixels: int
    scan_s: float
    charge_pe: float
    hit_doms: int
    areas_wilks_deg2: dict[str, float]
    #: credible areas under the contour policy in effect (the reco's default calibration unless --calibration)
    areas_policy_deg2: dict[str, float]
    #: peak RSS so far of this process and of its finished children (the scan's workers) [MB]
    peak_rss_mb: float
    #: the truth lies in the 90 % credible region of the probability map under the policy (None: --light)
    in_map90: bool | None


def best_pixel(results: NSidesDict) -> tuple[float, float, float]:
    """(RA, Dec [rad], llh) of the scan's best pixel."""
    best = results.best()
    if best is None:
        raise RuntimeError("the scan has no finite pixel")
    ra, dec = radec_of_pixels(best.nside, np.array([best.pixel_id]))
    return float(ra[0]), float(dec[0]), best.llh


def map_llh_at(results: NSidesDict, ra: float, dec: float) -> float:
    """llh of the finest scanned pixel holding (ra, dec)."""
    for nside in sorted(results, reverse=True):
        reco = results[nside].get(pixel_of_radec(nside, ra, dec))
        if reco is not None:
            return reco.llh
    return math.nan


def llh_at_truth(plan: ScanPlan, results: NSidesDict, truth_zen_azi: tuple[float, float],
                 ra: float, dec: float) -> float:
    """The reco's -lnL with the direction fixed at the truth, seeded like a finest-nside pixel there."""
    llh = [r.llh for r in plan.fit_at(ra, dec, results, zenith_azimuth=truth_zen_azi) if math.isfinite(r.llh)]
    return min(llh) if llh else math.nan


def scan(event: Event, args: argparse.Namespace, output_dir: Path) -> tuple[ScanPlan, ScanResult, float]:
    settings = Settings(refine_seed=args.refine_seed, shuffle_seed=0, checkpoint_interval_s=0,
                        progress_interval_s=60.0, result_interval_s=600.0)
    start = time.perf_counter()
    result = run_scan(event, args.reco, args.nsides, workers=args.workers, output_dir=output_dir, progress=False,
                      settings=settings, **dict(args.reco_option))
    seconds = time.perf_counter() - start
    first_nside = NSideProgression.parse(args.nsides).nsides[0]
    plan = ScanPlan.build(event, args.reco, dict(args.reco_option), first_nside=first_nside,
                          refine_seed=args.refine_seed)
    return plan, result, seconds


def true_particle(event: Event) -> Any:
    """The particle whose direction is the truth: the neutrino ("primary") of simulated neutrino
    interactions, else the muon (through-going simulation, IceCube .i3 files)."""
    neutrino = event.truth_info.get("interaction", "muon") not in ("muon", "starting_muon")
    return event.truth["primary"] if neutrino and "primary" in event.truth else event.truth["muon"]


def in_credible_region(result: Any, policy: ContourPolicy, ra: float, dec: float, containment: float = 0.9,
                       smooth_deg: float | None = None) -> bool:
    """Whether (``ra``, ``dec``) [rad] lies in the ``containment`` credible region of the result's
    probability map under ``policy``."""
    density = probability_density(result, policy.calibration, smooth_deg, INTERPOLATE_ORDERS)
    return bool(credible_region(density, containment)[density.locate(np.array([ra]), np.array([dec]))][0])


def policy_of(args: argparse.Namespace, charge_pe: float) -> ContourPolicy:
    """``--calibration``, else the reco's default calibration, else Wilks (at the event's charge [PE])."""
    return choose_policy(args.calibration, args.reco, get_reco_class(args.reco).default_calibration, charge_pe)


def evaluate(event: Event, args: argparse.Namespace, output_dir: Path) -> tuple[EventOutcome, Any]:
    plan, outcome, seconds = scan(event, args, output_dir)
    results = outcome.pixels
    mu = true_particle(event)
    ra_t, dec_t = (float(v) for v in dir_to_equa(mu.zenith, mu.azimuth, event.metadata.mjd))
    ra_b, dec_b, llh_best = best_pixel(results)
    llh_truth = llh_at_truth(plan, results, (mu.zenith, mu.azimuth), ra_t, dec_t)
    error = math.degrees(float(angular_distance(ra_t, dec_t, ra_b, dec_b)))
    products = not args.light and len(outcome.skyscan.nsides) >= 2
    policy = policy_of(args, event_charge_pe(event))
    areas = contour_areas(outcome.skyscan, WILKS) if products else {}
    areas_policy = contour_areas(outcome.skyscan, policy.calibration) if products else {}
    return EventOutcome(
        name=str(event.metadata), truth_ra_deg=math.degrees(ra_t), truth_dec_deg=math.degrees(dec_t),
        best_ra_deg=math.degrees(ra_b), best_dec_deg=math.degrees(dec_b), error_deg=error,
        two_dllh_truth=2.0 * (llh_truth - llh_best),
        two_dllh_truth_map=2.0 * (map_llh_at(results, ra_t, dec_t) - llh_best),
        n_pixels=results.n_pixels(), scan_s=seconds, charge_pe=event_charge_pe(event),
        hit_doms=event.pulses.n_channels, areas_wilks_deg2=areas, areas_policy_deg2=areas_policy,
        peak_rss_mb=peak_rss_mb(),
        in_map90=None if args.light else in_credible_region(outcome.skyscan, policy, ra_t, dec_t),
    ), outcome.skyscan


def peak_rss_mb() -> float:
    """Peak resident memory [MB] of this process and of its largest finished child (Linux: ru_maxrss in kB)."""
    return max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024


def events(args: argparse.Namespace) -> Iterator[Event]:
    if args.i3:
        from skymap_scanner.i3.simulation import read_i3_events

        for i, event in enumerate(read_i3_events(args.i3, geometry_table=args.geometry)):
            if i >= args.max_i3_events:
                return
            if "muon" in event.truth and event.truth["muon"].has_direction:
                yield event
        return
    config = SimulationConfig(energy_gev=args.energy, starting=args.starting, interaction=args.interaction)
    for i in range(args.events):
        yield simulate_event(config, args.seed, i)


def _mean(values: list[bool]) -> float:
    return float(np.mean(values)) if values else math.nan


def _quantile(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q)) if len(values) else math.nan


def summarize(outcomes: list[EventOutcome], results: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    errors = np.array([o.error_deg for o in outcomes])
    exact = np.array([o.two_dllh_truth for o in outcomes])
    finite = exact[np.isfinite(exact)]
    wilks, wilks_map = coverage(finite), coverage(np.array([o.two_dllh_truth_map for o in outcomes]))
    summary: dict[str, Any] = {
        "n_events": len(outcomes), "median_error_deg": _quantile(errors, 0.5), "error68_deg": _quantile(errors, 0.68),
        "coverage50": wilks["50%"], "coverage90": wilks["90%"],
        "coverage50_map": wilks_map["50%"], "coverage90_map": wilks_map["90%"],
        "median_two_dllh_truth": _quantile(finite, 0.5),
        "n_truth_better_than_scan": int(np.sum(finite < 0)), "n_truth_fit_failed": int(np.sum(~np.isfinite(exact))),
        "median_area90_policy_deg2": _quantile(np.array([o.areas_policy_deg2.get("90%", np.nan) for o in outcomes
                                                         if o.areas_policy_deg2]), 0.5),
        "median_area90_wilks_deg2": _quantile(np.array([o.areas_wilks_deg2.get("90%", np.nan) for o in outcomes
                                                        if o.areas_wilks_deg2]), 0.5),
        "settings": {"energy_gev": args.energy, "reco": args.reco, "reco_options": dict(args.reco_option),
                     "nsides": args.nsides, "refine_seed": args.refine_seed, "seed": args.seed,
                     "starting": args.starting, "interaction": args.interaction, "i3": args.i3},
    }
    policy = policy_of(args, float(np.median([o.charge_pe for o in outcomes])))
    summary["policy"] = {"name": policy.name, "levels_at_median_charge": policy.calibration.levels,
                         "coverage90_contour": coverage_at_charges(outcomes, load_calibration(policy.source))["90%"],
                         "coverage90_probability_map": _mean([o.in_map90 for o in outcomes if o.in_map90 is not None])}
    if len(finite) >= 4:
        cal = calibrate(finite, f"{args.reco} on {len(finite)} simulated events at {args.energy:g} GeV")
        cv = cross_validated_coverage(finite)
        summary["calibrated"] = {"levels": cal.levels, "coverage50": cv["50%"], "coverage90": cv["90%"],
                                 "median_area90_deg2": _quantile(np.array([contour_areas(r, cal)["90%"]
                                                                           for r in results if r is not None]), 0.5)}
    if args.calibration:
        external = load_calibration(args.calibration)
        cov = coverage_at_charges(outcomes, external)
        summary["external_calibration"] = {"file": str(args.calibration), "coverage50": cov["50%"],
                                           "coverage90": cov["90%"]}
    return summary


def coverage_at_charges(outcomes: list[EventOutcome], calibration: Calibration) -> dict[str, float]:
    """Coverage of ``calibration``'s contours, each event at its own charge (finite 2ΔLLH only)."""
    rows = [o for o in outcomes if math.isfinite(o.two_dllh_truth)]
    levels = [calibration.levels_at(o.charge_pe) if isinstance(calibration, ChargeCalibration)
              else calibration.levels for o in rows]
    return {k: float(np.mean([o.two_dllh_truth < lv[k] for o, lv in zip(rows, levels, strict=True)]))
            for k in CONTAINMENTS}


def print_table(summary: dict[str, Any], outcomes: list[EventOutcome]) -> None:
    print(f"{'event':<42} {'error°':>8} {'2ΔLLH(truth)':>13} {'map':>8} {'A90 deg²':>9} {'in map90':>9} "
          f"{'PE':>8} {'scan s':>7}")
    for o in outcomes:
        in_map90 = "-" if o.in_map90 is None else "yes" if o.in_map90 else "no"
        print(f"{o.name:<42} {o.error_deg:>8.3f} {o.two_dllh_truth:>13.2f} {o.two_dllh_truth_map:>8.2f} "
              f"{o.areas_wilks_deg2.get('90%', math.nan):>9.2f} {in_map90:>9} "
              f"{o.charge_pe:>8.0f} {o.scan_s:>7.1f}")
    print(f"\nevents {summary['n_events']}: median error {summary['median_error_deg']:.3f}°, "
          f"68 % {summary['error68_deg']:.3f}°; median 2ΔLLH(truth) {summary['median_two_dllh_truth']:.2f}")
    print(f"{'levels':<28} {'50 % level':>10} {'90 % level':>10} {'cov50':>7} {'cov90':>7}")
    print(f"{'Wilks (exact truth fit)':<28} {1.39:>10.2f} {4.61:>10.2f} {summary['coverage50']:>7.3f} "
          f"{summary['coverage90']:>7.3f}")
    print(f"{'Wilks (map pixel)':<28} {1.39:>10.2f} {4.61:>10.2f} {summary['coverage50_map']:>7.3f} "
          f"{summary['coverage90_map']:>7.3f}")
    for key, label in (("calibrated", "calibrated (2-fold CV)"), ("external_calibration", "calibration file")):
        if key in summary:
            c = summary[key]
            levels = c.get("levels", {"50%": math.nan, "90%": math.nan})
            print(f"{label:<28} {levels['50%']:>10.2f} {levels['90%']:>10.2f} {c['coverage50']:>7.3f} "
                  f"{c['coverage90']:>7.3f}")
    p = summary["policy"]
    print(f"policy {p['name']}: 90 % coverage of its contour {p['coverage90_contour']:.3f}, of the probability "
          f"map's 90 % credible region {p['coverage90_probability_map']:.3f}")


def _reco_option(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"{text!r}: expected KEY=VALUE")
    return key, value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=36, help="simulated events (default 36)")
    p.add_argument("--energy", type=float, default=1e5, help="muon energy [GeV] (default 1e5)")
    p.add_argument("--energies", type=float, nargs="+",
                   help="several energies [GeV], one summary each (overrides --energy)")
    p.add_argument("--log", type=Path,
                   help="append each event's outcome to this JSON-lines file and skip events already in it "
                        "(an interrupted run resumes; runs accumulate)")
    p.add_argument("--reco", default="mpe_pandel", help="reco algorithm (default mpe_pandel)")
    p.add_argument("--reco-option", type=_reco_option, action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--nsides", default="8:0 64:12 512:24", help='nside progression (default "8:0 64:12 512:24")')
    p.add_argument("--refine-seed", action=argparse.BooleanOptionalAction, default=True,
                   help="also refine around the event's direction seed (scan --refine-seed; default on)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1, help="simulation seed (events use event_id 0..N-1)")
    p.add_argument("--starting", action="store_true", help="starting tracks instead of through-going")
    p.add_argument("--interaction", choices=["muon", "cascade", "nc", "starting", "tau"], default="muon",
                   help="simulated interaction (default muon; others: --energy is the neutrino energy and the "
                        "truth is the neutrino direction)")
    p.add_argument("--calibration", type=Path, help="contour calibration (JSON) to test")
    p.add_argument("--write-calibration", type=Path, help="write the levels measured on these events (JSON)")
    p.add_argument("--i3", help="scan the events of an IceCube .i3 simulation file (MC truth) instead")
    p.add_argument("--max-i3-events", type=int, default=10)
    p.add_argument("--geometry", type=Path, help="geometry table (CSV) for --i3 files without a G frame")
    p.add_argument("--light", action="store_true",
                   help="scan and truth fit only (calibration data): no contour areas, no probability-map check")
    p.add_argument("--keep", type=Path, help="keep the scan results in this folder")
    p.add_argument("--output", type=Path, help="JSON summary and per-event results")
    return p.parse_args(argv)


def _log_key(args: argparse.Namespace) -> dict[str, Any]:
    return {"energy_gev": args.energy, "reco": args.reco, "reco_options": dict(args.reco_option),
            "nsides": args.nsides, "refine_seed": args.refine_seed, "seed": args.seed, "starting": args.starting,
            "interaction": args.interaction, "i3": args.i3}


def _logged(path: Path | None, key: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Outcomes already in the JSON-lines log ``path`` for these settings, by event name."""
    if path is None or not path.exists():
        return {}
    rows = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {row["outcome"]["name"]: row["outcome"] for row in rows if row["settings"] == key}


def run_energy(args: argparse.Namespace) -> dict[str, Any]:
    """Scan the events of one configuration (``args.energy``); print and return its summary."""
    key = _log_key(args)
    done = _logged(args.log, key)
    outcomes, results = [], []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        for event in events(args):
            if str(event.metadata) in done:
                outcomes.append(EventOutcome(**done[str(event.metadata)]))
                results.append(None)
                continue
            outcome, result = evaluate(event, args, root / str(event.metadata))
            outcomes.append(outcome)
            results.append(result)
            if args.log:
                with args.log.open("a") as f:
                    f.write(json.dumps({"settings": key, "outcome": dataclasses.asdict(outcome)}) + "\n")
            print(f"[{len(outcomes)}] {outcome.name}: error {outcome.error_deg:.3f}°, 2ΔLLH(truth) "
                  f"{outcome.two_dllh_truth:.2f}, {outcome.scan_s:.0f} s, peak RSS {outcome.peak_rss_mb:.0f} MB",
                  file=sys.stderr, flush=True)
    summary = summarize(outcomes, results, args)
    print(f"\n== {args.energy:g} GeV ==")
    print_table(summary, outcomes)
    return {**summary, "events": [dataclasses.asdict(o) for o in outcomes]}


def print_energy_table(summaries: list[dict[str, Any]]) -> None:
    """One line per energy: errors, Wilks and calibrated coverage, area, time, memory."""
    print(f"\n{'energy GeV':>10} {'n':>4} {'median°':>8} {'68%°':>7} {'Wilks 50/90':>12} {'calib 50/90':>12} "
          f"{'A90 deg²':>9} {'s/scan':>7} {'peak MB':>8}")
    for s in summaries:
        ev = s["events"]
        cal = s.get("calibrated", {})
        seconds = _quantile(np.array([e["scan_s"] for e in ev]), 0.5)
        print(f"{s['settings']['energy_gev']:>10.3g} {s['n_events']:>4} {s['median_error_deg']:>8.3f} "
              f"{s['error68_deg']:>7.3f} {s['coverage50']:>5.2f}/{s['coverage90']:<6.2f} "
              f"{cal.get('coverage50', math.nan):>5.2f}/{cal.get('coverage90', math.nan):<6.2f} "
              f"{cal.get('median_area90_deg2', math.nan):>9.2f} {seconds:>7.1f} "
              f"{max(e['peak_rss_mb'] for e in ev):>8.0f}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    summaries = []
    for energy in args.energies or [args.energy]:
        args.energy = energy
        summaries.append(run_energy(args))
    if len(summaries) > 1:
        print_energy_table(summaries)
    summary = summaries[-1]
    if args.write_calibration and "calibrated" in summary:
        cal = ContourCalibration(summary["calibrated"]["levels"], f"benchmarks/physics.py, {args.reco}",
                                 summary["n_events"], summary["settings"])
        print(f"calibration: {cal.write(args.write_calibration)}")
    if args.output:
        record = summary if len(summaries) == 1 else {"energies": summaries}
        args.output.write_text(json.dumps(record, indent=2))
    return summary


if __name__ == "__main__":
    main()
