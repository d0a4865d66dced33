"""OnlineL2 cleaning time and memory, the pairwise implementation against the current one.

Usage: python benchmarks/cleaning.py [--data DIR] [--work DIR] [--old-rev REV] [--old-limit-gb G]
                                     [--output FILE.json]

Cases: the GOLD alert, simulated 1 PeV and 10 PeV muons (seed 11, third event, written to
``--work`` by the simulation unless already there), and the hostile input ``big_10k_pulses.json``.
Each (case, implementation) runs in its own subprocess: the event is read, then the cleaning is
timed twice ("first" includes loading the numba kernels, "warm" does not), then run once more
under tracemalloc for the peak of traced allocations; the peak RSS increase over the RSS before
the cleaning is ``VmHWM`` (reset through ``/proc/self/clear_refs``) − ``VmRSS``. The old implementation is
``src/skymap_scanner/prepare/cleaning.py`` at ``--old-rev`` (the last pairwise revision), saved to
a temporary module; it is skipped where its pulse-pair arrays would need more than
``--old-limit-gb`` GB (56 bytes per candidate pair within 1000 ns, 48 bytes per DOM pair). Masks of
old and new are compared through a digest.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OLD_REV = "a846af6"  # last revision whose rt_links builds every candidate pulse pair
CANDIDATE_PAIR_BYTES = 56  # old rt_links: 7 int64/bool arrays per candidate pair
DOM_PAIR_BYTES = 48  # old rt_links: (D, D, 3) float64 differences and their squares
SIMULATED = {"1 PeV": 1e6, "10 PeV": 1e7}  # GeV, seed 11, third event


def _load_event(path: Path, data: Path):
    from skymap_scanner.io.events import load_event

    return load_event(path, geometry_table=data / "geometry" / "icecube86.csv")


def _module(source: Path):
    spec = importlib.util.spec_from_file_location("old_cleaning", source)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _rss_kb(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak since the last reset) of this process [kB] (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak_rss() -> None:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0; where refused, the peak covers the whole run)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def child(path: Path, data: Path, old_source: Path | None) -> dict[str, object]:
    """Measure one implementation on one event (run in a fresh process)."""
    if old_source is None:
        from skymap_scanner.prepare import cleaning
    else:
        cleaning = _module(old_source)
    event = _load_event(path, data)
    _reset_peak_rss()
    rss_before = _rss_kb("VmRSS")
    times = []
    for _ in range(2):
        start = time.perf_counter()
        result = cleaning.online_l2_cleaning(event.pulses, event.geometry)
        times.append(time.perf_counter() - start)
    rss_after = _rss_kb("VmHWM")
    tracemalloc.start()
    cleaning.online_l2_cleaning(event.pulses, event.geometry)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    masks = np.concatenate([result.seeded_rt, result.time_window, result.cleaned])
    return {
        "first_s": times[0], "warm_s": times[1],
        "traced_peak_MB": traced_peak / 1e6, "rss_increase_MB": (rss_after - rss_before) / 1e3,
        "rss_peak_MB": rss_after / 1e3,
        "digest": hashlib.sha1(np.packbits(masks).tobytes()).hexdigest(),
        "seeded_rt": int(result.seeded_rt.sum()), "npulses": result.npulses, "nch": result.nch,
    }


def _run_child(path: Path, data: Path, old_source: Path | None) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--child", str(path), "--data", str(data)]
    if old_source is not None:
        cmd += ["--old-source", str(old_source)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _old_bytes(path: Path, data: Path) -> tuple[int, int, int, float]:
    """(pulses, hit DOMs, candidate pairs within 1000 ns, the old rt_links' bytes for them)."""
    event = _load_event(path, data)
    t = np.sort(event.pulses.time)
    pairs = int(np.sum(np.searchsorted(t, t + 1000.0, side="left") - np.arange(len(t)) - 1))
    doms = event.pulses.n_channels
    return len(t), doms, pairs, pairs * CANDIDATE_PAIR_BYTES + doms**2 * DOM_PAIR_BYTES


def _cases(data: Path, work: Path) -> dict[str, Path]:
    from skymap_scanner.simulation.simulate import SimulationConfig, write_simulated_events

    cases = {"GOLD": data / "events" / "run00136766-evt000007637140-GOLD.pkl"}
    for name, energy in SIMULATED.items():
        folder = work / f"muon_{energy:.0e}_seed11"
        target = folder / "run00000011.evt000000000002.simulated.npz"
        if not target.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            for _ in write_simulated_events(SimulationConfig(energy_gev=energy), 11, 3, folder):
                pass
        cases[name] = target
    cases["big_10k_pulses"] = data / "hostile-inputs" / "big_10k_pulses.json"
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SKYSCAN_TEST_DATA",
                                                                         REPO.parent / "shared" / "data")))
    parser.add_argument("--work", type=Path, help="folder for the simulated events (default: a temporary one)")
    parser.add_argument("--old-rev", default=OLD_REV)
    parser.add_argument("--old-limit-gb", type=float, default=4.0)
    parser.add_argument("--output", type=Path, help="also write the results as JSON")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--old-source", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data, args.old_source)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        old_source = Path(tmp) / "old_cleaning.py"
        old_source.write_text(subprocess.run(
            ["git", "-C", str(REPO), "show", f"{args.old_rev}:src/skymap_scanner/prepare/cleaning.py"],
            capture_output=True, text=True, check=True).stdout)
        rows = []
        for name, path in _cases(args.data, args.work or Path(tmp)).items():
            pulses, doms, pairs, old_bytes = _old_bytes(path, args.data)
            row: dict[str, object] = {"case": name, "file": str(path), "pulses": pulses, "doms": doms,
                                      "candidate_pairs": pairs, "old_estimate_GB": old_bytes / 1e9}
            row["new"] = _run_child(path, args.data, None)
            row["old"] = (_run_child(path, args.data, old_source) if old_bytes <= args.old_limit_gb * 1e9
                          else {"skipped": f"needs ~{old_bytes / 1e9:.1f} GB > {args.old_limit_gb} GB"})
            row["equal"] = row["old"].get("digest") == row["new"].get("digest") if "digest" in row["old"] else None
            rows.append(row)
            print(f"done: {name}", file=sys.stderr)

    def cell(r: dict[str, object], key: str, scale: float = 1.0, fmt: str = ".3f") -> str:
        return format(r[key] * scale, fmt) if key in r else "-"

    print(f"{'case':<15} {'pulses':>7} {'DOMs':>5} {'pairs ≤1µs':>12} | {'old warm s':>10} {'old MB':>8} "
          f"{'old RSS+MB':>10} | {'new 1st s':>9} {'new warm s':>10} {'new MB':>7} {'new RSS+MB':>10} | equal")
    for r in rows:
        old, new = r["old"], r["new"]
        print(f"{r['case']:<15} {r['pulses']:>7} {r['doms']:>5} {r['candidate_pairs']:>12} | "
              f"{cell(old, 'warm_s'):>10} {cell(old, 'traced_peak_MB', fmt='.0f'):>8} "
              f"{cell(old, 'rss_increase_MB', fmt='.0f'):>10} | {cell(new, 'first_s'):>9} {cell(new, 'warm_s'):>10} "
              f"{cell(new, 'traced_peak_MB', fmt='.1f'):>7} {cell(new, 'rss_increase_MB', fmt='.0f'):>10} | "
              f"{r['equal'] if r['equal'] is not None else old.get('skipped', old.get('error'))}")
    if args.output:
        args.output.write_text(json.dumps({"old_rev": args.old_rev, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
