"""The command line: demo/scan/plot end to end and one-line errors on bad input."""

import subprocess
import sys

import pytest

from skymap_scanner.cli import _join_nsides
from skymap_scanner.event.io import write_event
from skymap_scanner.simulation.synthetic import synthetic_event


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-c", "from skymap_scanner.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=300, env=env)


def test_join_nsides():
    assert _join_nsides(["scan", "e", "--nsides", "8:0", "64:12", "-o", "d"]) == [
        "scan", "e", "--nsides", "8:0 64:12", "-o", "d"]


def test_version():
    out = cli("--version")
    assert out.returncode == 0 and "skymap-scanner" in out.stdout


def test_demo_writes_results_manifest_products_and_plots(tmp_path):
    """The demo's layout (dummy reco: cheap; the mpe_pandel demo is tests/test_products_acceptance.py)."""
    out = cli("demo", "-o", str(tmp_path), "--workers", "2", "--nsides", "8:0", "64:12", "--reco-algo", "dummy")
    assert out.returncode == 0, out.stderr
    names = {p.name for p in tmp_path.iterdir()}
    stem = "run00000001.evt000000000000.simulated"
    assert {"scan-manifest.json", f"{stem}_8_64.json", f"{stem}_8_64.npz", f"{stem}_wilks.multiorder.fits",
            f"{stem}_wilks.notice.json", f"{stem}_wilks.circular.txt", f"{stem}_wilks_sky.png",
            f"{stem}_wilks_zoom.png"} <= names
    assert not [n for n in names if n.endswith(".pkl") or n == "partial"]
    assert (tmp_path / "scan-manifest.json").stat().st_mode & 0o777 == 0o644
    assert "RA: " in out.stdout and "Contours: wilks" in out.stdout
    assert "no calibration exists for it" in out.stderr


@pytest.fixture()
def event_file(tmp_path):
    return write_event(synthetic_event(), tmp_path / "event.npz")


@pytest.mark.parametrize(("args", "message"), [
    (["--nsides", "8:1"], "first extension"),
    (["--nsides", "8:0", "60:4"], "power of two"),
    (["--reco-algo", "nope"], "unknown reco algorithm"),
    (["--reco-option", "sigma_deg"], "KEY=VALUE"),
    (["--reco-option", "bogus=1"], "bogus"),
    (["--predictive-scanning-threshold", "0.01"], "predictive_scanning_threshold"),
])
def test_bad_flags_give_one_line_errors(event_file, tmp_path, args, message):
    out = cli("scan", str(event_file), "-o", str(tmp_path / "o"), *args)
    assert out.returncode != 0
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_and_malformed_event_files(tmp_path):
    out = cli("scan", str(tmp_path / "missing.npz"), "-o", str(tmp_path))
    assert out.returncode == 1 and "no such event file" in out.stderr and "Traceback" not in out.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "skyscan-event", "format_version": 1}')
    out = cli("scan", str(bad), "-o", str(tmp_path))
    assert out.returncode == 1 and "bad.json" in out.stderr and "Traceback" not in out.stderr


def test_environment_settings(event_file, tmp_path):
    import os

    env = {**os.environ, "SKYSCAN_NSIDES": "8:0,64:0"}
    out = cli("scan", str(event_file), "-o", str(tmp_path), env=env)
    assert out.returncode != 0 and "nsides" in out.stderr


def test_refine_seed_flag_reaches_the_manifest(event_file, tmp_path):
    import json

    for flag, expected in (("--no-refine-seed", False), ("--refine-seed", True)):
        out_dir = tmp_path / flag
        out = cli("scan", str(event_file), "-o", str(out_dir), "--reco-algo", "dummy", "--workers", "1",
                  "--nsides", "8:0", "--no-plot", flag)
        assert out.returncode == 0, out.stderr
        assert json.loads((out_dir / "scan-manifest.json").read_text())["scan_metadata"]["refine_seed"] is expected


def documented_variables():
    import re
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    # the project's own configuration docs (docs/upstream-behaviour.md quotes upstream's variables)
    texts = [repo / "README.md", *(repo / "docs" / f for f in ("python-api.md", "brokers.md", "scan-state.md"))]
    return sorted({name for path in texts for name in re.findall(r"SKYSCAN_[A-Z0-9_]+[A-Z0-9]", path.read_text())})


#: documented names that are not scan settings: test data, the geometry table, test brokers, a NATS bucket
NOT_SETTINGS = {"SKYSCAN_TEST_DATA", "SKYSCAN_REQUIRE_SHARED_DATA", "SKYSCAN_GEOMETRY_TABLE", "SKYSCAN_CONTROL",
                "SKYSCAN_TEST_RABBITMQ_URL", "SKYSCAN_TEST_NATS_URL", "SKYSCAN_TEST_OWN_BROKERS"}


def test_every_documented_variable_is_a_setting():
    from skymap_scanner.settings import Settings

    names = documented_variables()
    assert {"SKYSCAN_CONTOURS", "SKYSCAN_SMOOTH_DEG", "SKYSCAN_GCN_SCHEMA", "SKYSCAN_PLOT"} <= set(names)
    fields = {f"SKYSCAN_{name.upper()}" for name in Settings.model_fields}
    assert [n for n in names if n not in fields | NOT_SETTINGS] == []


def test_plot_and_contours_come_from_the_environment(event_file, tmp_path):
    import os

    args = ("scan", str(event_file), "--reco-algo", "dummy", "--workers", "1", "--nsides", "8:0", "64:12")
    env = {**os.environ, "SKYSCAN_PLOT": "false"}
    out = cli(*args, "-o", str(tmp_path / "a"), env=env)
    assert out.returncode == 0, out.stderr
    assert not list((tmp_path / "a").glob("*.png")) and "plot (sky)" not in out.stdout
    env = {**os.environ, "SKYSCAN_CONTOURS": "ic160427a"}
    out = cli(*args, "-o", str(tmp_path / "b"), env=env)
    assert out.returncode == 0, out.stderr
    assert len(list((tmp_path / "b").glob("*_ic160427a_*.png"))) == 2 and "Contours: ic160427a" in out.stdout


def test_cli_says_when_it_resumes(event_file, tmp_path):
    args = ("scan", str(event_file), "-o", str(tmp_path), "--reco-algo", "dummy", "--workers", "1",
            "--nsides", "8:0", "--no-plot")
    first = cli(*args)
    assert first.returncode == 0 and "resumed" not in first.stdout
    again = cli(*args)
    assert again.returncode == 0, again.stderr
    assert "resumed scan" in again.stdout and "768 variation(s) were not fitted again" in again.stdout
