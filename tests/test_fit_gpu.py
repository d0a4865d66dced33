"""The GPU back-end of the track fitter (``fit/gpu.py``): device choice, fallback, and — through numba's
CUDA simulator, so on every machine — the same llh as the CPU kernels on real-event fits."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skymap_scanner.fit import gpu

SRC = Path(__file__).resolve().parents[1] / "src"
GOLD = "run00136766-evt000007637140-GOLD.pkl"

#: 24 (direction, seed pair) fits of GOLD: random directions and seeds around the event's vertex seed
SIMULATED = """
import json, sys
import numpy as np
from skymap_scanner.fit import DomHits, TrackFitter
from skymap_scanner.io.events import load_event
from skymap_scanner.recos.mpe_pandel import MpePandel, MpePandelOptions
from skymap_scanner.sky import direction_vector

event = MpePandel.prepare_event(load_event(sys.argv[1], geometry_table=sys.argv[2]), MpePandelOptions())
hits = DomHits.from_event(event)
rng = np.random.default_rng(4)
directions = direction_vector(np.arccos(rng.uniform(-1, 1, 24)), rng.uniform(0, 2 * np.pi, 24))
seeds = event.seeds["vertex"].position + rng.normal(0, 80, (24, 2, 3))
gpu = TrackFitter(hits, device="gpu")
cpu = TrackFitter(hits, device="cpu").fit(directions, seeds)
out = gpu.fit(directions, seeds)
print(json.dumps({"device": gpu.device, "cpu": cpu.llh.tolist(), "gpu": out.llh.tolist(),
                  "cpu_vertex": cpu.vertex_m.tolist(), "gpu_vertex": out.vertex_m.tolist(),
                  "cpu_evaluations": cpu.evaluations.tolist(), "gpu_evaluations": out.evaluations.tolist()}))
"""


def test_gpu_path_matches_cpu_in_the_cuda_simulator(shared_data, geometry_table):
    path = f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "PYTHONPATH": path}
    done = subprocess.run([sys.executable, "-c", SIMULATED, str(shared_data / "events" / GOLD), str(geometry_table)],
                          env=env, capture_output=True, text=True, timeout=600, check=True)
    r = json.loads(done.stdout.strip().splitlines()[-1])
    assert r["device"] == "gpu"  # the simulator counts as a CUDA device: the kernel really ran
    cpu, dev = np.array(r["cpu"]), np.array(r["gpu"])
    assert np.isfinite(cpu).all()
    np.testing.assert_allclose(dev, cpu, rtol=1e-9, atol=0)
    np.testing.assert_allclose(np.array(r["gpu_vertex"]), np.array(r["cpu_vertex"]), rtol=1e-9, atol=1e-9)
    assert r["gpu_evaluations"] == r["cpu_evaluations"]


def test_device_choice(monkeypatch):
    monkeypatch.delenv(gpu.DEVICE_ENV, raising=False)
    assert gpu.resolve_device() == "cpu" and gpu.resolve_device("CPU") == "cpu"
    monkeypatch.setenv(gpu.DEVICE_ENV, "cpu")
    assert gpu.resolve_device() == "cpu"
    with pytest.raises(ValueError, match="unknown fit device"):
        gpu.resolve_device("tpu")


def test_gpu_falls_back_to_cpu_with_one_warning(monkeypatch, caplog):
    monkeypatch.setattr(gpu, "gpu_available", lambda: False)
    gpu._warn_no_gpu.cache_clear()
    monkeypatch.setenv(gpu.DEVICE_ENV, "gpu")
    with caplog.at_level(logging.WARNING, logger=gpu.LOGGER.name):
        assert gpu.resolve_device() == "cpu"
        assert gpu.resolve_device("gpu") == "cpu"
    assert [r.message for r in caplog.records] == [
        "fit device 'gpu' requested but numba finds no CUDA GPU: fitting on the CPU"]


def test_importing_the_fitter_does_not_load_numba_cuda():
    code = "import sys, skymap_scanner.fit, skymap_scanner.recos.mpe_pandel; print('numba.cuda' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
