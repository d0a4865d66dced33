"""benchmarks/pool_calibration.py: pooling benchmark runs into the shipped calibration format."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from skymap_scanner.postprocess.calibration import ContourCalibration

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "pool_calibration.py"
spec = importlib.util.spec_from_file_location("pool_calibration", SCRIPT)
pool_calibration = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pool_calibration)

SETTINGS = {"energy_gev": 1e5, "reco": "mpe_pandel", "reco_options": {}, "nsides": "8:0 64:12 512:24",
            "starting": False, "i3": None}


def write_run(path, seed, values, **overrides):
    events = [{"two_dllh_truth": v, "error_deg": 0.1 * (i + 1)} for i, v in enumerate(values)]
    path.write_text(json.dumps({"settings": {**SETTINGS, "seed": seed, **overrides}, "events": events}))
    return path


def test_pooled_levels_are_quantiles_and_held_out_runs_are_tested(tmp_path):
    rng = np.random.default_rng(3)
    a, b = rng.exponential(5.0, 40), rng.exponential(5.0, 40)
    runs = [write_run(tmp_path / "a.json", 1, a.tolist()), write_run(tmp_path / "b.json", 2, b.tolist())]
    out = tmp_path / "cal.json"
    summary = pool_calibration.main([*map(str, runs), "--write", str(out)])
    both = np.concatenate([a, b])
    assert summary["levels"]["90%"] == pytest.approx(np.quantile(both, 0.9))
    assert summary["coverage_of_other_runs_levels"]["a.json"]["90%"] == pytest.approx(
        np.mean(a < np.quantile(b, 0.9)))
    cal = ContourCalibration.read(out)
    assert cal.n_events == 80 and cal.details["seeds"] == [1, 2] and cal.levels == summary["levels"]


def test_runs_with_other_settings_are_refused(tmp_path):
    a = write_run(tmp_path / "a.json", 1, [1.0, 2.0, 3.0, 4.0])
    b = write_run(tmp_path / "b.json", 2, [1.0, 2.0, 3.0, 4.0], energy_gev=1e4)
    with pytest.raises(SystemExit, match="energy_gev"):
        pool_calibration.main([str(a), str(b)])
    (tmp_path / "c.json").write_text("{}")
    with pytest.raises(SystemExit, match="not a benchmarks/physics.py"):
        pool_calibration.main([str(tmp_path / "c.json")])
