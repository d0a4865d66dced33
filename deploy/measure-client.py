#!/usr/bin/env python3
"""Measure one scan client: seconds from its start to its first published result, and the peak resident
memory of its process tree (the client and its reco process; Python processes only, so a wrapper such as
``buildah run`` does not count), while a server (started here, on this host's Python) serves the scan.

    python deploy/measure-client.py EVENT [--geometry CSV] --broker URL [--reco-algo mpe_pandel]
        [--nsides "8:0"] [--client "buildah run ... IMAGE_CONTAINER -- skymap-scanner-entrypoint"]

``--client`` is the command prefix that runs ``skymap-scanner`` (default: this Python); ``client --broker
URL --scan-id ID`` is appended. The server is started first and waits for the client. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

CLI = [sys.executable, "-c", "from skymap_scanner.cli import main; main()"]


def tree(pid: int) -> list[int]:
    """pid and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_kib(pid: int) -> tuple[str, int]:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "", 0
    rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return cmd, rss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("event")
    ap.add_argument("--geometry")
    ap.add_argument("--broker", required=True)
    ap.add_argument("--reco-algo", default="mpe_pandel")
    ap.add_argument("--nsides", default="8:0")
    ap.add_argument("--client", default=None, help="command prefix running skymap-scanner")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--server-option", action="append", default=[], help="extra server argument (repeatable)")
    a = ap.parse_args()

    scan_id = f"measure-{uuid.uuid4().hex[:8]}"
    out = Path(tempfile.mkdtemp(prefix="skyscan-measure-"))
    server_cmd = [*CLI, "server", a.event, "--broker", a.broker, "--scan-id", scan_id, "--reco-algo", a.reco_algo,
                  "--nsides", a.nsides, "--no-plot", "--output-dir", str(out)]
    if a.geometry:
        server_cmd += ["--geometry", a.geometry]
    server_cmd += a.server_option
    server_log = (out / "server.log").open("w")
    server = subprocess.Popen(server_cmd, stdout=server_log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while "sent" not in (out / "server.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.2)  # the startup payload and the first tasks are on the broker

    prefix = shlex.split(a.client) if a.client else CLI
    start = time.monotonic()
    client = subprocess.Popen([*prefix, "client", "--broker", a.broker, "--scan-id", scan_id, "--name", "measure"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first: list[float] = []
    lines: list[str] = []

    def read() -> None:
        assert client.stdout is not None
        for line in client.stdout:
            lines.append(line)
            if not first and " variation(s), attempt " in line:
                first.append(time.monotonic() - start)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    peak_total = 0
    peak_by: dict[str, int] = {}
    while client.poll() is None and time.monotonic() - start < a.timeout:
        total = 0
        for pid in tree(client.pid):
            cmd, rss = rss_kib(pid)
            if "python" in cmd:
                total += rss
                key = "reco process" if "multiprocessing" in cmd or "spawn_main" in cmd else "client"
                peak_by[key] = max(peak_by.get(key, 0), rss)
        peak_total = max(peak_total, total)
        time.sleep(0.1)
    client.wait(timeout=60)
    reader.join(timeout=10)
    server.wait(timeout=300)
    elapsed = time.monotonic() - start
    print(json.dumps({"reco": a.reco_algo, "nsides": a.nsides, "client": a.client or "host python",
                      "first_result_s": round(first[0], 2) if first else None, "client_wall_s": round(elapsed, 1),
                      "peak_rss_mib": round(peak_total / 1024, 1),
                      "peak_rss_mib_by_process": {k: round(v / 1024, 1) for k, v in peak_by.items()},
                      "client_rc": client.returncode, "server_rc": server.returncode,
                      "tasks": sum(" variation(s), attempt " in line for line in lines)}, indent=1))
    if client.returncode or server.returncode:
        sys.stderr.write("".join(lines[-30:]) + (out / "server.log").read_text()[-3000:])
        sys.exit(1)


if __name__ == "__main__":
    main()
