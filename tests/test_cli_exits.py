"""Exit codes and early checks of the command line (issue 18): an output folder that cannot be one is
refused before any worker starts, a scan with failed pixels warns and exits 3, Ctrl-C exits 130 with
the resume hint (and the re-run resumes), a missing optional dependency is one line, and products and
plots are never written through symbolic links."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from products_inputs import SIMULATED, dummy_result

from skymap_scanner.event.io import write_event
from skymap_scanner.postprocess.calibration import choose_policy
from skymap_scanner.postprocess.plots import make_plots
from skymap_scanner.postprocess.products import alert_products
from skymap_scanner.simulation.synthetic import synthetic_event

CLI = [sys.executable, "-c", "from skymap_scanner.cli import main; main()"]


def cli(*args: str, prelude: str = "") -> subprocess.CompletedProcess:
    code = f"{prelude}from skymap_scanner.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture()
def event_file(tmp_path):
    return write_event(synthetic_event(), tmp_path / "event.npz")


def _scan_args(event_file: Path, out: Path, *extra: str) -> list[str]:
    return ["scan", str(event_file), "-o", str(out), "--reco-algo", "dummy", "--workers", "1", "--nsides", "8:0",
            "--no-plot", *extra]


@pytest.mark.parametrize("target", ["file", "/dev/null", "below-a-file"])
def test_an_output_dir_that_cannot_be_a_folder_is_refused_before_the_scan(event_file, tmp_path, target):
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    out = {"file": a_file, "/dev/null": Path("/dev/null"), "below-a-file": a_file / "sub"}[target]
    start = time.monotonic()
    res = cli(*_scan_args(event_file, out))
    assert res.returncode == 2, res.stderr
    assert "is not a folder" in res.stderr and str(out) in res.stderr and "Traceback" not in res.stderr
    # usage, hint, error: no log line of a started scan
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 3 and lines[-1].startswith("Error:"), res.stderr
    assert a_file.read_text() == "keep me" and time.monotonic() - start < 60


def test_failed_pixels_warn_and_exit_3(event_file, tmp_path):
    res = cli(*_scan_args(event_file, tmp_path, "--reco-algo", "crash_dummy", "--reco-option", "probability=0",
                          "--reco-option", "poison=8:5 8:700"))
    assert res.returncode == 3, res.stderr
    assert "warning: 2 pixel(s) failed in every variation" in res.stderr and "8:5, 8:700" in res.stderr
    manifest = json.loads((tmp_path / "scan-manifest.json").read_text())
    assert {(f["nside"], f["pixel_id"]) for f in manifest["progress"]["failed_pixels"]} == {(8, 5), (8, 700)}
    assert list(tmp_path.glob("*_8.npz")), "the result is still written"


def _collected(manifest: Path) -> int:
    try:
        return json.loads(manifest.read_text())["progress"]["tallies"]["overall"]["variations_done"]
    except (OSError, ValueError, KeyError):
        return 0


def test_ctrl_c_exits_130_with_the_resume_hint_and_the_rerun_resumes(event_file, tmp_path):
    args = _scan_args(event_file, tmp_path, "--reco-option", "sleep_s=0.01", "--batch-size", "16",
                      "--checkpoint-interval", "1")
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, "SKYSCAN_PROGRESS_INTERVAL_S": "0.2"})
    manifest = tmp_path / "scan-manifest.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _collected(manifest) < 64:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted with" in err and "state saved to" in err and "re-run the same command" in err
    assert "Traceback" not in err
    again = cli(*args)
    assert again.returncode == 0, again.stderr
    assert "resumed scan" in again.stdout and "were not fitted again" in again.stdout


def test_a_missing_optional_dependency_is_one_line(event_file, tmp_path):
    res = cli(*_scan_args(event_file, tmp_path, "--gcn-schema", str(tmp_path)),
              prelude="import sys; sys.modules['jsonschema'] = None; ")
    assert res.returncode == 1, res.stderr
    assert "pip install 'skymap-scanner[astro]'" in res.stderr and "Traceback" not in res.stderr


def test_any_missing_optional_module_reaching_the_command_line_is_one_line(monkeypatch, capsys):
    from skymap_scanner import cli as cli_module

    def missing(**_: object) -> None:
        raise ModuleNotFoundError("No module named 'ligo'", name="ligo.skymap")

    monkeypatch.setattr(cli_module.cli, "main", missing)
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main(["report", "x"])
    assert exit_info.value.code == 1
    assert "optional module ligo.skymap" in capsys.readouterr().err


def test_products_and_plots_never_write_through_symbolic_links(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("untouched")
    result = dummy_result(10.0, 20.0, progression=((8, 0), (64, 4)))
    policy = choose_policy("wilks", "dummy", None)
    stem = f"run{SIMULATED.run_id:08d}.evt{SIMULATED.event_id:012d}.{SIMULATED.event_type}_wilks"
    dangling = {f"{stem}.notice.json", f"{stem}.multiorder.fits", f"{stem}_sky.png"}
    for name in dangling:
        (out / name).symlink_to(outside / f"created-{name}")
    (out / f"{stem}.circular.txt").symlink_to(victim)
    (out / f"{stem}_zoom.png").symlink_to(victim)
    files = alert_products(result, policy).write(out)
    plots, _ = make_plots(result, out, policy)
    assert victim.read_text() == "untouched" and sorted(p.name for p in outside.iterdir()) == ["victim.txt"]
    for path in [*files.values(), *plots]:
        assert not path.is_symlink() and path.stat().st_size > 0 and "-1." in path.name
        assert path.stat().st_mode & 0o777 == 0o644
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-")]
