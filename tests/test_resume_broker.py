"""Resume over RabbitMQ: SIGKILL the server mid-scan, restart it, same result as an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from brokers import client_env, start_client
from test_resume import llh_by_pixel

from skymap_scanner.event.io import write_event
from skymap_scanner.simulation.synthetic import synthetic_event

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.timeout(240)]
ARGS = ["--reco-algo", "dummy", "--nsides", "8:0", "64:12", "512:24", "--no-plot", "--reco-option",
        "sleep_s=0.004", "--batch-size", "8", "--seed", "3", "--idle-timeout", "60"]


def server(cmd_args, out):
    cmd = [sys.executable, "-c", "from skymap_scanner.cli import main; main()", *cmd_args, "-o", str(out), *ARGS]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=client_env())  # the scan secret the clients have


def test_killed_broker_server_resumes(rabbitmq_url, tmp_path):
    event_file = write_event(synthetic_event(seed=4), tmp_path / "event.npz")
    reference = server(["scan", str(event_file), "--workers", "2"], tmp_path / "reference")
    assert reference.wait(timeout=120) == 0, reference.stderr.read()
    scan_id = f"resume-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "broker"
    args = ["server", str(event_file), "--broker", rabbitmq_url, "--scan-id", scan_id]
    clients = [start_client(rabbitmq_url, scan_id, tmp_path / f"client{i}.log") for i in range(2)]
    first = server(args, out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        manifest = out / "scan-manifest.json"
        tallies = json.loads(manifest.read_text())["progress"]["tallies"] if manifest.exists() else None
        if tallies and tallies["nsides"]["64"]["variations_sent"]:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    second = server(args, out)
    _, err = second.communicate(timeout=180)
    assert second.returncode == 0, err
    for c in clients:
        c.wait(timeout=60)
    assert llh_by_pixel(out) == llh_by_pixel(tmp_path / "reference")
    meta = json.loads((out / "scan-manifest.json").read_text())
    assert meta["scan_metadata"]["resent_after_resume"] > 0
    assert meta["progress"]["tallies"]["overall"]["failed_pixels"] == 0
