"""``skymap-scanner server`` and ``skymap-scanner client`` as commands."""

import os
import subprocess
import sys
import uuid

import pytest
from brokers import TEST_SECRET, client_env, start_client
from click.testing import CliRunner

from skymap_scanner.cli import cli
from skymap_scanner.event.io import write_event
from skymap_scanner.simulation.synthetic import synthetic_event

CLI = [sys.executable, "-c", "from skymap_scanner.cli import main; main()"]


def run(*args, env=None, timeout=120):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.broker
@pytest.mark.timeout(120)
def test_server_and_client_commands(nats_url, tmp_path):
    event = write_event(synthetic_event(seed=4), tmp_path / "event.npz")
    scan_id = f"cli-{uuid.uuid4().hex[:8]}"
    client = start_client(nats_url, scan_id, tmp_path / "client.log")
    (tmp_path / "secret").write_text(TEST_SECRET)
    server = run("server", str(event), "--broker", nats_url, "--scan-id", scan_id, "--nsides", "8:0",
                 "--reco-algo", "dummy", "--no-plot", "-o", str(tmp_path / "out"),
                 "--scan-secret-file", str(tmp_path / "secret"))
    assert server.returncode == 0, server.stderr
    assert "failed pixels: 0" in server.stdout and f"scan {scan_id}: serving through {nats_url}" in server.stderr
    assert client.wait(30) == 0
    assert f"scan {scan_id} over; tasks " in (tmp_path / "client.log").read_text()
    assert any(p.name.endswith("_8.npz") for p in (tmp_path / "out").iterdir())


@pytest.mark.parametrize(("args", "message"), [
    (["server", "event.npz", "--scan-id", "x"], "needs --broker URL"),
    (["server", "event.npz", "--broker", "http://h/"], "broker_url"),
    (["client", "--broker", "nats://127.0.0.1:4222"], "needs --broker URL and --scan-id ID"),
    (["client", "--broker", "nats://127.0.0.1:4222", "--scan-id", "a b"], "scan_id"),
])
def test_usage_errors(args, message, tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith("SKYSCAN_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    write_event(synthetic_event(), tmp_path / "event.npz")
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 2 and message in out.output, out.output


def test_client_without_server_times_out_with_a_clear_error(nats_url):
    out = run("client", "--broker", nats_url, "--scan-id", f"nobody-{uuid.uuid4().hex[:6]}", "--startup-timeout", "1",
              env=client_env())
    assert out.returncode == 1 and "no startup payload for scan nobody-" in out.stderr


def test_client_without_the_scan_secret_is_a_clear_error(monkeypatch):
    for key in [k for k in os.environ if k.startswith("SKYSCAN_")]:
        monkeypatch.delenv(key)
    out = CliRunner().invoke(cli, ["client", "--broker", "nats://127.0.0.1:4222", "--scan-id", "s1"])
    assert out.exit_code == 1 and "needs the scan's secret: --scan-secret-file" in out.output, out.output
