"""Embedded-scan throughput with the dummy reco, and bytes per persisted object.

Usage: python benchmarks/embedded_scan.py [--workers N] [--repeat K] [--output FILE.json]

Prints a table: pixels/s and variations/s of a full 8/64/512 dummy scan (worker start-up included
and excluded), then the memory footprint of the persisted data types (``sys.getsizeof`` of the
object itself plus its distinct non-shared attribute objects) and their size on the wire.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from skymap_scanner.api import scan
from skymap_scanner.pixels.types import RecoPixelFinal, RecoPixelVariation, SentPixelVariation
from skymap_scanner.settings import Settings
from skymap_scanner.simulation.synthetic import synthetic_event
from skymap_scanner.transport.messages import Result, encode_result


def deep_size(obj: object) -> int:
    """Bytes of ``obj`` plus its attribute values (slots dataclasses: floats/ints are objects)."""
    size = sys.getsizeof(obj)
    for name in getattr(obj, "__slots__", ()):
        size += sys.getsizeof(getattr(obj, name))
    return size


def time_scan(workers: int, batch_size: int | None) -> dict[str, float]:
    event = synthetic_event(seed=7)
    with tempfile.TemporaryDirectory() as out:
        settings = Settings(batch_size=batch_size, progress_interval_s=5, result_interval_s=10)
        start = time.perf_counter()
        result = scan(event, "dummy", "8:0 64:12 512:24", workers=workers, output_dir=Path(out), progress=False,
                      settings=settings)
        wall = time.perf_counter() - start
        npz_bytes = result.files["npz"].stat().st_size
    progress = result.manifest["progress"]
    first = progress["runtime"]["first_result_delay_s"]
    pixels = sum(len(rows) for rows in result.skyscan.result.values())
    return {"workers": workers, "batch_size": batch_size or 64, "wall_s": wall, "pixels": pixels,
            "variations": progress["tallies"]["overall"]["variations_done"], "pixels_per_s": pixels / wall,
            "pixels_per_s_after_startup": pixels / max(wall - first, 1e-9),
            "result_npz_bytes_per_pixel": npz_bytes / pixels}


def object_sizes() -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(0)
    v = RecoPixelVariation(512, 1234567, 3, *map(float, rng.normal(size=8)))
    objects = {
        "SentPixelVariation": SentPixelVariation(512, 1234567, 3, time.time()),
        "RecoPixelVariation": v,
        "RecoPixelFinal": RecoPixelFinal.from_variation(v),
    }
    out = {name: {"bytes_in_memory": deep_size(o)} for name, o in objects.items()}
    one = len(encode_result(Result("scan", "t", "w", 0.1, [v], [])))
    hundred = len(encode_result(Result("scan", "t", "w", 0.1, [v] * 100, [])))
    out["RecoPixelVariation"]["bytes_on_wire"] = (hundred - one) / 99
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    runs = [time_scan(args.workers, b) for b in (8, None) for _ in range(args.repeat)]
    sizes = object_sizes()
    print(f"embedded dummy scan 8/64/512, {args.workers} workers, {os.cpu_count()} CPUs")
    print(f"{'batch':>6} {'wall s':>8} {'pixels':>7} {'pixels/s':>10} {'pixels/s (no start-up)':>24}")
    for r in runs:
        print(f"{r['batch_size']:>6} {r['wall_s']:>8.2f} {r['pixels']:>7} {r['pixels_per_s']:>10.0f} "
              f"{r['pixels_per_s_after_startup']:>24.0f}")
    print(f"result .npz on disk: {runs[-1]['result_npz_bytes_per_pixel']:.1f} bytes per pixel")
    print(f"\n{'object':<20} {'bytes in memory':>16} {'bytes on wire':>14}")
    for name, s in sizes.items():
        wire = s.get("bytes_on_wire", math.nan)
        print(f"{name:<20} {s['bytes_in_memory']:>16.0f} {wire:>14.1f}")
    if args.output:
        args.output.write_text(json.dumps({"runs": runs, "object_sizes": sizes}, indent=2))


if __name__ == "__main__":
    main()
