"""End-to-end scans through the Python API with local worker processes, read back with skyreader."""

import json
import math

import numpy as np
import pytest
from skyreader import SkyScanResult

from skymap_scanner.api import scan
from skymap_scanner.recos.dummy import DummyOptions, known_minimum
from skymap_scanner.server.errors import ScanTimeoutError
from skymap_scanner.server.progress import write_manifest
from skymap_scanner.settings import Settings
from skymap_scanner.simulation.synthetic import synthetic_event
from skymap_scanner.sky import angular_distance
from skymap_scanner.transport.processes import ProcessTransport


def run_scan(tmp_path, reco="dummy", nsides="8:0 64:12 512:24", options=None, workers=2, **settings):
    event = synthetic_event(seed=2)
    s = Settings(progress_interval_s=1, result_interval_s=2, shuffle_seed=1, progress=False, **settings)
    return event, scan(event, reco, nsides, workers=workers, output_dir=tmp_path, settings=s, **(options or {}))


@pytest.fixture(scope="module")
def full_scan(tmp_path_factory):
    return run_scan(tmp_path_factory.mktemp("scan"))


def test_full_scan_refines_to_known_minimum(full_scan):
    event, result = full_scan
    json_result = SkyScanResult.read_json(result.files["json"])
    npz_result = SkyScanResult.read_npz(result.files["npz"])
    assert json_result.nsides == [8, 64, 512] and npz_result.is_close(json_result)
    meta = json_result.get_event_metadata()
    assert (meta.run_id, meta.event_id, meta.event_type) == (1, 2, "synthetic")
    best = json_result.best_fit
    ra, dec = json_result.best_dir
    true_ra, true_dec = known_minimum(event, DummyOptions())
    pixel_size = math.sqrt(4 * math.pi / (12 * 512**2))
    assert angular_distance(ra, dec, true_ra, true_dec) < pixel_size
    assert json_result.result["nside-512"]["llh"].min() == best["llh"]
    counts = [len(json_result.result[f"nside-{n}"]) for n in (8, 64, 512)]
    assert counts[0] == 768 and 576 <= counts[1] <= 896 and 1344 <= counts[2] <= 1926
    assert counts[1] % 64 == 0 and counts[2] % 64 == 0
    for n in (8, 64, 512):
        assert json_result.result[f"nside-{n}"].dtype.metadata["complete"] is True
    assert result.best_fit.llh == best["llh"] and result.best_fit.nside == 512
    assert math.isclose(math.radians(result.best_fit.ra_deg), ra, abs_tol=1e-12)


def test_manifest_reports_progress_and_best_fit(full_scan):
    _, result = full_scan
    def refuse(constant):
        raise ValueError(f"manifest holds {constant}, which is not JSON")

    manifest = json.loads(result.files["manifest"].read_text(), parse_constant=refuse)
    progress = manifest["progress"]
    assert progress["finished"] and progress["tallies"]["overall"]["failed_pixels"] == 0
    assert progress["best_fit"]["nside"] == 512
    assert {"ra_deg", "dec_deg", "zenith_deg", "azimuth_deg"} <= set(progress["best_fit"])
    assert manifest["scan_metadata"]["nside_progression"] == {"8": 0, "64": 12, "512": 24}
    assert manifest["scan_metadata"]["scanner_version"]


def test_crash_dummy_scan_completes_and_reports_failures(tmp_path):
    _, result = run_scan(tmp_path, reco="crash_dummy", nsides="8:0 64:12",
                         options={"probability": "0.2", "seed": "5"}, batch_size=4)
    overall = result.manifest["progress"]["tallies"]["overall"]
    assert overall["variations_done"] == overall["variations_sent"]
    assert overall["failed_variations"] > 0
    on_disk = SkyScanResult.read_json(result.files["json"])
    assert not np.any(np.isnan(on_disk.result["nside-8"]["llh"]))
    assert len(on_disk.result["nside-8"]) == 768 - len([f for f in result.failed_pixels if f.nside == 8])
    manifest = json.loads(result.files["manifest"].read_text())
    assert manifest["progress"]["tallies"]["overall"]["failed_variations"] == overall["failed_variations"]


def test_hanging_worker_is_killed_and_poison_pixel_named(tmp_path):
    _, result = run_scan(tmp_path, reco="crash_dummy", nsides="8:0",
                         options={"probability": "0", "poison": "8:100", "variations": "2"}, workers=2,
                         task_time_limit_s=5.0, max_attempts=2)
    assert [(f.nside, f.pixel_id) for f in result.failed_pixels] == [(8, 100)]
    assert len(result.skyscan.result["nside-8"]) == 767


def test_hang_is_redelivered(tmp_path):
    event = synthetic_event(seed=2)
    # 768 variations x 1 % : P(no hang at all) = 0.99^768 = 4e-4 (0.4 % gave a 5 % flaky test)
    with ProcessTransport(2, task_time_limit_s=2.0, max_attempts=3) as transport:
        result = scan(event, "crash_dummy", "8:0", transport=transport, output_dir=tmp_path, progress=False,
                      settings=Settings(batch_size=16), probability="0.01", hang_fraction="1")
        assert transport.restarts >= 1
    overall = result.manifest["progress"]["tallies"]["overall"]
    assert overall["variations_done"] == overall["variations_sent"]
    assert len(result.skyscan.result["nside-8"]) >= 760


def test_idle_timeout_is_a_clear_error(tmp_path):
    with pytest.raises(ScanTimeoutError, match="no result for"):
        scan(synthetic_event(), "dummy", "8:0", workers=1, progress=False,
             settings=Settings(idle_timeout_s=1.0, batch_size=768), sleep_s="5")


def test_manifest_is_strict_json(tmp_path):
    """A NaN (e.g. the energy of a reco that estimates none) is written as null, never as the non-JSON NaN."""
    path = write_manifest({"best_fit": {"energy": math.nan, "llh": np.float64(3.5), "n": np.int64(2)},
                           "areas": [math.inf, 1.0]}, tmp_path)
    assert json.loads(path.read_text()) == {"best_fit": {"energy": None, "llh": 3.5, "n": 2}, "areas": [None, 1.0]}


UNGUARDED_SCRIPT = """
from skymap_scanner import scan, simulate

event = simulate(energy_gev=1e5, seed=1)  # start-up payload far above a pipe buffer
scan(event, "dummy", "8:0", workers=2, progress=False)  # no `if __name__ == "__main__":` guard
"""


def test_script_without_main_guard_fails_clearly(tmp_path):
    """Spawned workers re-import the main module; without the guard they die while starting. The
    scan must stop with an error that says so, not hang (multiprocessing blocks for ever writing a
    large argument to a child that died before reading it, so the payload goes over the pipe)."""
    import subprocess
    import sys

    script = tmp_path / "scan_script.py"
    script.write_text(UNGUARDED_SCRIPT)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "during start-up" in proc.stderr
    assert "__main__" in proc.stderr.splitlines()[-1]
