"""Decode time per sample event: alert messages and simulation files (no IceTray).

Usage: python benchmarks/decode.py [--data DIR] [--repeat K] [--output FILE.json]

For each alert in ``DIR/events`` (default ``../shared/data`` or ``$SKYSCAN_TEST_DATA``) prints the
best of K runs of: decoding the frames (message → frames, checksums), resolving the event pulses
(SuperDST + masks), the whole ``read_alert_event`` (geometry table included), and the OnlineL2
cleaning; for each simulation file the time to read all its events. One warm-up run per input
pays the one-off imports (astropy). Goal: ≤ 0.5 s for the largest sample event (decode +
cleaning of the event with the most pulses).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from skymap_scanner.i3.alert import read_alert_event, read_alert_packet
from skymap_scanner.i3.simulation import read_i3_events
from skymap_scanner.prepare.cleaning import online_l2_cleaning

REPO = Path(__file__).resolve().parents[1]
GOAL_S = 0.5


def best_of(repeat: int, call: Callable[[], object]) -> float:
    call()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def alert_row(path: Path, table: Path, repeat: int) -> dict[str, object]:
    event = read_alert_event(path, geometry_table=table)
    return {
        "input": path.name,
        "size_kB": round(path.stat().st_size / 1e3, 1),
        "pulses": len(event.pulses),
        "frames_s": best_of(repeat, lambda: read_alert_packet(path)),
        "pulses_s": best_of(repeat, lambda: read_alert_packet(path).pulses()),
        "event_s": best_of(repeat, lambda: read_alert_event(path, geometry_table=table)),
        "cleaning_s": best_of(repeat, lambda: online_l2_cleaning(event.pulses, event.geometry)),
    }


def simulation_row(path: Path, table: Path, repeat: int) -> dict[str, object]:
    events = list(read_i3_events(path, geometry_table=table))
    return {
        "input": path.name,
        "size_kB": round(path.stat().st_size / 1e3, 1),
        "events": len(events),
        "pulses": sum(len(e.pulses) for e in events),
        "file_s": best_of(repeat, lambda: list(read_i3_events(path, geometry_table=table))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("SKYSCAN_TEST_DATA", REPO.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    table = args.data / "geometry" / "icecube86.csv"
    alerts = [alert_row(p, table, args.repeat) for p in sorted((args.data / "events").iterdir())]
    sims = [simulation_row(p, table, args.repeat) for p in sorted((args.data / "simulation").glob("*.i3*"))]

    print(f"{'alert':<42} {'kB':>7} {'pulses':>6} {'frames ms':>9} {'pulses ms':>9} {'event ms':>9} "
          f"{'clean ms':>9}")
    for r in alerts:
        print(f"{r['input']:<42} {r['size_kB']:>7} {r['pulses']:>6} {r['frames_s'] * 1e3:>9.1f} "
              f"{r['pulses_s'] * 1e3:>9.1f} {r['event_s'] * 1e3:>9.1f} {r['cleaning_s'] * 1e3:>9.1f}")
    print(f"\n{'simulation file':<50} {'kB':>7} {'events':>6} {'pulses':>6} {'file ms':>9}")
    for r in sims:
        print(f"{r['input']:<50} {r['size_kB']:>7} {r['events']:>6} {r['pulses']:>6} {r['file_s'] * 1e3:>9.1f}")
    slowest = max(alerts, key=lambda r: r["event_s"] + r["cleaning_s"])
    total = slowest["event_s"] + slowest["cleaning_s"]
    verdict = "meets" if total <= GOAL_S else "MISSES"
    print(f"\nslowest event {slowest['input']} ({slowest['pulses']} pulses): decode + cleaning "
          f"{total * 1e3:.0f} ms ({verdict} the {GOAL_S * 1e3:.0f} ms goal)")
    if args.output:
        args.output.write_text(json.dumps({"alerts": alerts, "simulation": sims, "goal_s": GOAL_S,
                                           "slowest_total_s": total}, indent=2))


if __name__ == "__main__":
    main()
