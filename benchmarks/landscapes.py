"""nside-1 llh landscapes (12 pixels) of the real events against upstream's Millipede references.

Usage:
  python benchmarks/landscapes.py [--workers 2] [--output FILE.json]

Scans GOLD and BRONZE with ``mpe_pandel`` and the HESE cascade ``hese_event_01.json`` with ``cascade_losses``
at nside 1 (one round, no refinement) and compares each landscape with upstream's ``millipede_original`` and
``millipede_wilks`` results of the same event (``reference/results_json``; a different light model, so the
ranking of the pixels is compared, not the llh values): the best pixel of each, the Spearman rank correlation
of the 12 llh values, and the deposited energy at our best pixel next to upstream's E_in / E_tot there.
Needs the shared data folder (``../shared/data`` or ``$SKYSCAN_TEST_DATA``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from skymap_scanner.api import scan
from skymap_scanner.io.events import load_event

SHARED = Path(os.environ.get("SKYSCAN_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
#: (event file, reco, reference file stem)
EVENTS = {
    "GOLD": ("run00136766-evt000007637140-GOLD.pkl", "mpe_pandel", "run00136766.evt000007637140.neutrino_1"),
    "BRONZE": ("run00136662-evt000035405932-BRONZE.pkl", "mpe_pandel", "run00136662.evt000035405932.neutrino_1"),
    "HESE": ("hese_event_01.json", "cascade_losses", "run00127907.evt000020178442.HESE_1"),
}
UPSTREAM = ("millipede_original", "millipede_wilks")


def upstream_landscape(algo: str, stem: str) -> dict[int, tuple[float, float, float]]:
    """pixel -> (llh, E_in, E_tot) of an upstream nside-1 result."""
    data = json.loads((SHARED / "reference" / "results_json" / algo / f"{stem}.json").read_text())["nside-1"]
    col = {c: i for i, c in enumerate(data["columns"])}
    return {int(r[col["index"]]): (float(r[col["llh"]]), float(r[col["E_in"]]), float(r[col["E_tot"]]))
            for r in data["data"]}


def landscape(name: str, workers: int) -> dict:
    file, reco, stem = EVENTS[name]
    event = load_event(SHARED / "events" / file, geometry_table=SHARED / "geometry" / "icecube86.csv")
    start = time.perf_counter()
    result = scan(event, reco, "1:0", workers=workers, progress=False)
    seconds = time.perf_counter() - start
    ours = np.array([result.pixels[1][p].llh for p in range(12)])
    best = int(np.argmin(ours))
    energy = result.deposited_energy
    row = {"event": name, "reco": reco, "seconds": seconds, "best_pixel": best, "llh": ours.tolist(),
           "e_in_gev": energy.e_in_gev if energy else None, "e_tot_gev": energy.e_tot_gev if energy else None}
    for algo in UPSTREAM:
        up = upstream_landscape(algo, stem)
        llh = np.array([up[p][0] for p in range(12)])
        up_best = int(np.argmin(llh))
        row[algo] = {"best_pixel": up_best, "spearman": float(spearmanr(ours, llh)[0]),
                     "e_in_gev_at_best": up[up_best][1], "e_tot_gev_at_best": up[up_best][2],
                     "our_rank_of_their_best": int(np.argsort(np.argsort(ours))[up_best]) + 1}
    return row


def print_table(rows: list[dict]) -> None:
    print(f"{'event':<7} {'reco':<15} {'best':>4} " + " ".join(f"{a + ' best/ρ/our rank':>34}" for a in UPSTREAM)
          + f" {'E_in ours/upstream [TeV]':>26} {'s':>6}")
    for r in rows:
        cols = " ".join(f"{r[a]['best_pixel']:>24}/{r[a]['spearman']:+.2f}/{r[a]['our_rank_of_their_best']:>2}"
                        for a in UPSTREAM)
        ours = f"{r['e_in_gev'] / 1e3:.1f}" if r["e_in_gev"] is not None else "–"
        theirs = "/".join(f"{r[a]['e_in_gev_at_best'] / 1e3:.1f}" for a in UPSTREAM)
        print(f"{r['event']:<7} {r['reco']:<15} {r['best_pixel']:>4} {cols} {ours + ' / ' + theirs:>26} "
              f"{r['seconds']:>6.1f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--output", type=Path)
    args = p.parse_args(argv)
    if not (SHARED / "events").is_dir():
        raise SystemExit(f"{SHARED}: no shared data folder (set SKYSCAN_TEST_DATA)")
    rows = [landscape(name, args.workers) for name in EVENTS]
    print_table(rows)
    if args.output:
        args.output.write_text(json.dumps({"events": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
