"""Bright events end to end: `inspect` and a scan through the command line, wall time and peak memory.

Usage:
  python benchmarks/bright_events.py [--cases 1pev 10pev 100k] [--work DIR] [--nsides "8:0 64:12 512:24"]
      [--workers 2] [--output FILE.json]

Cases: the simulated 1 PeV and 10 PeV muons of issue 14 (``skymap-scanner simulate --energy E
--seed 11 --n-events 3``, the third event) and a 100 000-pulse event (``hundred_k_pulse_event``: a
simulated 100 TeV muon whose hit DOMs each get pulses 5 ns apart, as saturated DOMs of a very
bright event do, until 100 000 pulses). Each command runs in its own process; its peak RSS is the
``ru_maxrss`` that ``wait4`` returns, the largest of the command and its finished worker processes.
The 100 000-pulse case scans at nside 8 only (the issue's bound: 1 GiB), the others 8/64/512
(bound 2 GiB per process).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from skymap_scanner.event.io import write_event
from skymap_scanner.event.model import Event, Pulses
from skymap_scanner.simulation import SimulationConfig, simulate_event

CLI = [sys.executable, "-c", "from skymap_scanner.cli import main; main()"]
#: (energy [GeV], seed, event id) of the issue's bright muons: the third event of seed 11
BRIGHT = {"1pev": (1e6, 11, 2), "10pev": (1e7, 11, 2)}
FULL_SCAN = "8:0 64:12 512:24"


def hundred_k_pulse_event(n_pulses: int = 100_000, spacing_ns: float = 5.0) -> Event:
    """A simulated 100 TeV muon (seed 5) whose hit DOMs each repeat their first pulse every
    ``spacing_ns`` until the event holds ``n_pulses`` pulses (charges 1 PE)."""
    event = simulate_event(SimulationConfig(energy_gev=1e5), seed=5, event_id=0)
    first = event.pulses.select(event.pulses.first_per_dom())
    per_dom = -(-n_pulses // len(first))
    reps = np.repeat(np.arange(len(first)), per_dom)[:n_pulses]
    k = np.tile(np.arange(per_dom), len(first))[:n_pulses]
    pulses = Pulses(string=first.string[reps], om=first.om[reps], time=first.time[reps] + spacing_ns * k,
                    charge=np.ones(n_pulses), flags=first.flags[reps])
    return Event(event.metadata, pulses, event.geometry, event.seeds, event.truth, event.truth_losses,
                 event.realtime_version, "benchmarks/bright_events.py")


def case_event(name: str, work: Path) -> Path:
    path = work / f"{name}.npz"
    if not path.exists():
        if name == "100k":
            event = hundred_k_pulse_event()
        else:
            energy, seed, event_id = BRIGHT[name]
            event = simulate_event(SimulationConfig(energy_gev=energy), seed=seed, event_id=event_id)
        write_event(event, path)
    return path


def run_measured(args: list[str], work: Path) -> dict[str, Any]:
    """Run the command line with ``args``: wall time [s], peak RSS [MB] (``wait4``), exit code, the
    last line of stderr."""
    with tempfile.TemporaryFile("w+", dir=work) as out, tempfile.TemporaryFile("w+", dir=work) as err:
        start = time.perf_counter()
        proc = subprocess.Popen([*CLI, *args], stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = err.read().strip().splitlines()
    return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024, "returncode": proc.returncode,
            "last_line": (lines or [""])[-1][:300]}


def measure(name: str, work: Path, nsides: str | None, workers: int) -> dict[str, Any]:
    """``inspect`` and a scan of one case."""
    event = case_event(name, work)
    nsides = nsides or ("8:0" if name == "100k" else FULL_SCAN)
    inspect = run_measured(["inspect", str(event)], work)
    scan = run_measured(["scan", str(event), "-o", str(work / f"{name}-scan"), "--workers", str(workers),
                         "--nsides", nsides, "--no-plot", "--checkpoint-interval", "0"], work)
    with np.load(event) as npz:
        n_pulses = int(len(npz["pulses.time"]))
    return {"case": name, "pulses": n_pulses, "nsides": nsides,
            "limit_mb": 1024 if name == "100k" else 2048, "inspect": inspect, "scan": scan}


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", nargs="+", choices=["1pev", "10pev", "100k"], default=["1pev", "10pev", "100k"])
    p.add_argument("--work", type=Path, help="folder for the events and scans (default: a temporary one)")
    p.add_argument("--nsides", help=f"nside progression (default: {FULL_SCAN}; 8:0 for 100k)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--output", type=Path, help="JSON record")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rows = [measure(name, work, args.nsides, args.workers) for name in args.cases]
    print(f"{'case':<7} {'pulses':>8} {'nsides':<16} {'inspect s':>9} {'inspect MB':>10} {'scan s':>8} "
          f"{'scan MB':>8} {'limit MB':>8} {'ok':>3}")
    for r in rows:
        ok = all(r[k]["returncode"] == 0 and r[k]["peak_rss_mb"] <= r["limit_mb"] for k in ("inspect", "scan"))
        print(f"{r['case']:<7} {r['pulses']:>8} {r['nsides']:<16} {r['inspect']['wall_s']:>9.1f} "
              f"{r['inspect']['peak_rss_mb']:>10.0f} {r['scan']['wall_s']:>8.1f} {r['scan']['peak_rss_mb']:>8.0f} "
              f"{r['limit_mb']:>8} {'yes' if ok else 'NO':>3}")
        for k in ("inspect", "scan"):
            if r[k]["returncode"] != 0:
                print(f"  {k} exit {r[k]['returncode']}: {r[k]['last_line']}")
    if args.output:
        args.output.write_text(json.dumps(rows, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()
