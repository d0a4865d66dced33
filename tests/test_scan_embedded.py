"""End-to-end scans with the embedded transport, read back with skyreader."""

import json
import math

import numpy as np
import pytest
from skyreader import SkyScanResult

from skymap_scanner.pixels.choose import NSideProgression
from skymap_scanner.recos.dummy import DummyOptions, known_minimum
from skymap_scanner.server.progress import write_manifest
from skymap_scanner.server.scan import ScanConfig, ScanServer, ScanTimeoutError
from skymap_scanner.simulation.synthetic import synthetic_event
from skymap_scanner.sky import angular_distance
from skymap_scanner.transport.embedded import EmbeddedTransport


def run_scan(tmp_path, reco="dummy", nsides="8:0 64:12 512:24", options=None, workers=2, **kw):
    transport_kw = {k: kw.pop(k) for k in ("task_time_limit", "max_attempts") if k in kw}
    config = ScanConfig(reco_algo=reco, reco_options=options or {}, progression=NSideProgression.parse(nsides),
                        output_dir=tmp_path, progress_interval_s=1, result_interval_s=2, shuffle_seed=1,
                        progress_bar=False, **kw)
    event = synthetic_event(seed=2)
    with EmbeddedTransport(workers, **transport_kw) as transport:
        return event, ScanServer(event, config, transport).run()


@pytest.fixture(scope="module")
def full_scan(tmp_path_factory):
    return run_scan(tmp_path_factory.mktemp("scan"))


def test_full_scan_refines_to_known_minimum(full_scan):
    event, outcome = full_scan
    json_result = SkyScanResult.read_json(outcome.json_path)
    npz_result = SkyScanResult.read_npz(outcome.npz_path)
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


def test_manifest_reports_progress_and_best_fit(full_scan):
    _, outcome = full_scan
    def refuse(constant):
        raise ValueError(f"manifest holds {constant}, which is not JSON")

    manifest = json.loads(outcome.manifest_path.read_text(), parse_constant=refuse)
    progress = manifest["progress"]
    assert progress["finished"] and progress["tallies"]["overall"]["failed_pixels"] == 0
    assert progress["best_fit"]["nside"] == 512
    assert {"ra_deg", "dec_deg", "zenith_deg", "azimuth_deg"} <= set(progress["best_fit"])
    assert manifest["scan_metadata"]["nside_progression"] == {"8": 0, "64": 12, "512": 24}
    assert manifest["scan_metadata"]["scanner_version"]


def test_crash_dummy_scan_completes_and_reports_failures(tmp_path):
    _, outcome = run_scan(tmp_path, reco="crash_dummy", nsides="8:0 64:12",
                          options={"probability": "0.2", "seed": "5"}, batch_size=4)
    c = outcome.collector
    assert c.collected_all_sent()
    assert c.n_failed_variations > 0
    result = SkyScanResult.read_json(outcome.json_path)
    assert not np.any(np.isnan(result.result["nside-8"]["llh"]))
    assert len(result.result["nside-8"]) == 768 - len([f for f in c.failed_pixels if f.nside == 8])
    manifest = json.loads(outcome.manifest_path.read_text())
    assert manifest["progress"]["tallies"]["overall"]["failed_variations"] == c.n_failed_variations


def test_hanging_worker_is_killed_and_poison_pixel_named(tmp_path):
    _, outcome = run_scan(tmp_path, reco="crash_dummy", nsides="8:0",
                          options={"probability": "0", "poison": "8:100", "variations": "2"}, workers=2,
                          task_time_limit=5.0, max_attempts=2)
    assert [(f.nside, f.pixel_id) for f in outcome.collector.failed_pixels] == [(8, 100)]
    assert len(outcome.result.result["nside-8"]) == 767


def test_hang_is_redelivered(tmp_path):
    event = synthetic_event(seed=2)
    # 768 variations x 1 % : P(no hang at all) = 0.99^768 = 4e-4 (0.4 % gave a 5 % flaky test)
    config = ScanConfig(reco_algo="crash_dummy", reco_options={"probability": "0.01", "hang_fraction": "1"},
                        progression=NSideProgression.parse("8:0"), output_dir=tmp_path, progress_bar=False,
                        batch_size=16)
    with EmbeddedTransport(2, task_time_limit=2.0, max_attempts=3) as transport:
        outcome = ScanServer(event, config, transport).run()
        assert transport.restarts >= 1
    assert outcome.collector.collected_all_sent()
    assert len(outcome.result.result["nside-8"]) >= 760


def test_idle_timeout_is_a_clear_error(tmp_path):
    config = ScanConfig(reco_algo="dummy", reco_options={"sleep_s": "5"}, progression=NSideProgression.parse("8:0"),
                        output_dir=tmp_path, progress_bar=False, idle_timeout_s=1.0, batch_size=768)
    with EmbeddedTransport(1) as transport, pytest.raises(ScanTimeoutError, match="no result for"):
        ScanServer(synthetic_event(), config, transport).run()


def test_manifest_is_strict_json(tmp_path):
    """A NaN (e.g. the energy of a reco that estimates none) is written as null, never as the non-JSON NaN."""
    path = write_manifest({"best_fit": {"energy": math.nan, "llh": np.float64(3.5), "n": np.int64(2)},
                           "areas": [math.inf, 1.0]}, tmp_path)
    assert json.loads(path.read_text()) == {"best_fit": {"energy": None, "llh": 3.5, "n": 2}, "areas": [None, 1.0]}


UNGUARDED_SCRIPT = """
from pathlib import Path
from skymap_scanner.simulation import SimulationConfig, simulate_event
from skymap_scanner.pixels.choose import NSideProgression
from skymap_scanner.server.scan import ScanConfig, ScanServer
from skymap_scanner.transport.embedded import EmbeddedTransport

event = simulate_event(SimulationConfig(energy_gev=1e5), 1, 0)  # start-up payload far above a pipe buffer
config = ScanConfig(reco_algo="dummy", progression=NSideProgression.parse("8:0"),
                    output_dir=Path({out!r}), progress_bar=False)
with EmbeddedTransport(2) as transport:  # no `if __name__ == "__main__":` guard
    ScanServer(event, config, transport).run()
"""


def test_script_without_main_guard_fails_clearly(tmp_path):
    """Spawned workers re-import the main module; without the guard they die while starting. The
    scan must stop with an error that says so, not hang (multiprocessing blocks for ever writing a
    large argument to a child that died before reading it, so the payload goes over the pipe)."""
    import subprocess
    import sys

    script = tmp_path / "scan_script.py"
    script.write_text(UNGUARDED_SCRIPT.format(out=str(tmp_path / "out")))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "during start-up" in proc.stderr
    assert "__main__" in proc.stderr.splitlines()[-1]
