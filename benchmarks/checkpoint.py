"""Checkpoint write/read time and size for a scan state of N collected pixel variations.

Usage: python benchmarks/checkpoint.py [--n 100000] [--repeat 5] [--output FILE.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from skymap_scanner.pixels.types import RecoPixelVariation
from skymap_scanner.server.checkpoint import ScanState, load_checkpoint, save_checkpoint


def make_state(n: int) -> ScanState:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(n, 8))
    received = [RecoPixelVariation(512, i, i % 7, *map(float, values[i])) for i in range(n)]
    sent = [r.id_tuple for r in received] + [(512, n + i, 0) for i in range(n // 100)]
    return ScanState({"event_sha256": "x" * 64, "nsides": "8:0 64:12 512:24"}, sent, received, {3: "boom"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    state = make_state(args.n)
    writes, reads = [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint.npz"
        for _ in range(args.repeat):
            t = time.perf_counter()
            save_checkpoint(path, state)
            writes.append(time.perf_counter() - t)
            t = time.perf_counter()
            load_checkpoint(path, state.settings)
            reads.append(time.perf_counter() - t)
        size = path.stat().st_size
    out = {"n_variations": args.n, "write_s_median": float(np.median(writes)),
           "read_s_median": float(np.median(reads)), "size_bytes": size, "bytes_per_variation": size / args.n}
    print(f"{'variations':>10} {'write s':>9} {'read s':>9} {'size MB':>8} {'B/variation':>12}")
    print(f"{args.n:>10} {out['write_s_median']:>9.3f} {out['read_s_median']:>9.3f} {size / 1e6:>8.2f} "
          f"{out['bytes_per_variation']:>12.1f}")
    if args.output:
        args.output.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
