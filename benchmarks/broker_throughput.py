"""Pixel-variations/s through a message broker with the dummy reco, scaling with 1, 2, 4, 8 clients.

Usage: python benchmarks/broker_throughput.py --broker URL [--output FILE.json] [--clients 1 2 4 8]
       [--nsides "8:0 64:12 512:24"] [--batch-size 8] [--repeat 1]

For each client count N: start N ``skymap-scanner client`` processes (they wait for the scan), then
serve a full dummy scan of a synthetic event through the broker. Reported per run:

- ``wall_s``: server start to last result (includes the clients building their reco process);
- ``rate_after_first``: variations/s from the first result to the last;
- ``steady_rate``: variations/s from the moment all N clients have answered to the last result
  (the throughput with every client working; round boundaries, where the server waits for an nside
  to finish, are included as they are in a real scan).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from skymap_scanner.api import scan
from skymap_scanner.settings import Settings
from skymap_scanner.simulation.synthetic import synthetic_event
from skymap_scanner.transport import ServerTransport, create_server_transport
from skymap_scanner.transport.broker import redact
from skymap_scanner.transport.messages import decode_result
from skymap_scanner.transport.startup import Startup


class TimingTransport(ServerTransport):
    """Delegates to a broker transport and notes when each result arrived, from which worker."""

    def __init__(self, inner: ServerTransport) -> None:
        self.inner = inner
        self.arrivals: list[tuple[float, str, int]] = []

    def start(self, startup: Startup) -> None:
        self.started = time.perf_counter()
        self.inner.start(startup)

    def send(self, tasks: list[bytes]) -> None:
        self.inner.send(tasks)

    def receive(self, timeout: float) -> list[bytes]:
        messages = self.inner.receive(timeout)
        now = time.perf_counter()
        for m in messages:
            r = decode_result(m)
            self.arrivals.append((now, r.worker, len(r.results) + len(r.failures)))
        return messages

    def close(self) -> None:
        self.inner.close()


def start_clients(url: str, scan_id: str, n: int) -> list[subprocess.Popen]:
    cmd = [sys.executable, "-c", "from skymap_scanner.cli import main; main()", "client", "--broker", url,
           "--scan-id", scan_id]
    env = {**os.environ, "SKYSCAN_LOG": "WARNING"}
    return [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) for _ in range(n)]


def rates(arrivals: list[tuple[float, str, int]], n_clients: int) -> tuple[float, float]:
    first, last = arrivals[0][0], arrivals[-1][0]
    seen: set[str] = set()
    all_in = last
    for t, worker, _ in arrivals:
        seen.add(worker)
        if len(seen) == n_clients:
            all_in = t
            break
    after_first = sum(n for t, _, n in arrivals[1:]) / max(last - first, 1e-9)
    steady = sum(n for t, _, n in arrivals if t > all_in) / max(last - all_in, 1e-9)
    return after_first, steady


def run_scan(url: str, n_clients: int, nsides: str, batch_size: int) -> dict[str, float | int]:
    scan_id = f"bench-{uuid.uuid4().hex[:8]}"
    clients = start_clients(url, scan_id, n_clients)
    transport = TimingTransport(create_server_transport(url))
    settings = Settings(scan_id=scan_id, batch_size=batch_size, idle_timeout_s=120)
    with transport:
        result = scan(synthetic_event(seed=7), "dummy", nsides, transport=transport, progress=False, settings=settings)
    for client in clients:
        client.wait(60)
    after_first, steady = rates(transport.arrivals, n_clients)
    wall = transport.arrivals[-1][0] - transport.started
    done = result.manifest["progress"]["tallies"]["overall"]["variations_done"]
    return {"clients": n_clients, "variations": done, "tasks": len(transport.arrivals),
            "wall_s": round(wall, 2), "rate_after_first": round(after_first, 1), "steady_rate": round(steady, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", required=True, help="amqp://… (RabbitMQ) or nats://… (NATS)")
    parser.add_argument("--output", type=Path, help="write the numbers as JSON")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--nsides", default="8:0 64:12 512:24")
    parser.add_argument("--batch-size", type=int, default=8, help="variations per task message")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    runs = [run_scan(args.broker, n, args.nsides, args.batch_size) for n in args.clients for _ in range(args.repeat)]
    print(f"broker {redact(args.broker)}; nsides {args.nsides}; batch {args.batch_size}; {os.cpu_count()} CPU(s)")
    print(f"{'clients':>7} {'variations':>10} {'tasks':>6} {'wall s':>7} {'var/s after 1st':>16} {'var/s steady':>13}")
    for r in runs:
        print(f"{r['clients']:>7} {r['variations']:>10} {r['tasks']:>6} {r['wall_s']:>7} "
              f"{r['rate_after_first']:>16} {r['steady_rate']:>13}")
    if args.output:
        report = {"broker": redact(args.broker), "nsides": args.nsides, "batch_size": args.batch_size,
                  "cpu_count": os.cpu_count(), "reco": "dummy", "runs": runs}
        args.output.write_text(json.dumps(report, indent=2) + "\n")
        print(f"written: {args.output}")


if __name__ == "__main__":
    main()
