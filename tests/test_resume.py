"""Checkpoint and resume: SIGKILL the embedded server mid-scan, restart, same result."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from skyreader import SkyScanResult

from skymap_scanner.event.io import write_event
from skymap_scanner.server.checkpoint import CheckpointError, ScanState, load_checkpoint, save_checkpoint
from skymap_scanner.simulation.synthetic import synthetic_event

ARGS = ["--reco-algo", "dummy", "--nsides", "8:0", "64:12", "512:24", "--workers", "2", "--no-plot",
        "--reco-option", "sleep_s=0.004", "--batch-size", "8", "--seed", "3"]


def scan(event_file, out, *extra, wait=True):
    cmd = [sys.executable, "-c", "from skymap_scanner.cli import main; main()", "scan", str(event_file),
           "-o", str(out), *ARGS, *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    if wait:
        out_, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    return proc


def llh_by_pixel(out):
    result = SkyScanResult.read_npz(next(out.glob("*_8_64_512.npz")))
    return {n: dict(zip(result.result[f"nside-{n}"]["index"], result.result[f"nside-{n}"]["llh"], strict=True))
            for n in result.nsides}


@pytest.mark.slow
def test_killed_server_resumes_to_identical_result(tmp_path):
    event_file = write_event(synthetic_event(seed=4), tmp_path / "event.npz")
    scan(event_file, tmp_path / "reference")
    out = tmp_path / "resumed"
    proc = scan(event_file, out, wait=False)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill once the refinement has started
        manifest = out / "scan-manifest.json"
        tallies = json.loads(manifest.read_text())["progress"]["tallies"] if manifest.exists() else None
        if tallies and tallies["nsides"]["64"]["variations_sent"]:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    checkpoint = next(out.glob(".skyscan-checkpoint-*.npz"))
    state = load_checkpoint(checkpoint, _settings_of(checkpoint))
    outstanding = len(set(state.sent) - {r.id_tuple for r in state.received})
    assert 0 < len(state.received) < 2688
    scan(event_file, out)
    assert llh_by_pixel(out) == llh_by_pixel(tmp_path / "reference")
    resent = json.loads((out / "scan-manifest.json").read_text())["scan_metadata"]["resent_after_resume"]
    assert resent == outstanding  # only what was in flight at the last checkpoint is repeated


def _settings_of(path):
    with np.load(path) as z:
        return json.loads(str(z["header"]))["settings"]


def test_checkpoint_of_other_settings_is_refused(tmp_path):
    path = tmp_path / "c.npz"
    mine = {"event_sha256": "a", "nsides": "8:0", "n_posvar": 1}
    save_checkpoint(path, ScanState(mine, [(8, 1, 0)], [], {}))
    assert load_checkpoint(path, mine).sent == [(8, 1, 0)]
    with pytest.raises(CheckpointError, match="event_sha256"):
        load_checkpoint(path, {**mine, "event_sha256": "b"})


def test_cli_refuses_foreign_checkpoint(tmp_path):
    event_file = write_event(synthetic_event(seed=4), tmp_path / "event.npz")
    scan(event_file, tmp_path / "o", "--scan-id", "fixed", "--nsides", "8:0")
    proc = scan(event_file, tmp_path / "o", "--scan-id", "fixed", "--nsides", "8:0", "64:12", wait=False)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "different scan" in err and "Traceback" not in err
