"""Importing skymap_scanner and using it leaves the user's process alone: matplotlib backend, astropy
IERS settings; the pure-numpy parts do not load numba."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from test_simulation_calibration import _gaussian_result

from skymap_scanner.postprocess.plots import make_plots

SRC = Path(__file__).resolve().parents[1] / "src"


def _run(code: str) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "MPLBACKEND": "svg"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_imports_and_a_coordinate_conversion_change_neither_backend_nor_iers():
    state = _run("""
import json
import matplotlib
from astropy.utils import iers
def state():
    return {"backend": matplotlib.get_backend(), "auto_download": iers.conf.auto_download,
            "degraded": iers.conf.iers_degraded_accuracy}
before = state()
import skymap_scanner.io.results, skymap_scanner.postprocess.plots, skymap_scanner.recos.dummy
from skymap_scanner.i3.i3time import I3Time
from skymap_scanner.sky import dir_to_equa, equa_to_dir
dir_to_equa(1.0, 2.0, 59754.7)
equa_to_dir(1.0, -0.5, 59754.7)
I3Time(2022, 10**17).mjd
print(json.dumps({"before": before, "after": state()}))
""")
    assert state["before"]["backend"] == "svg"
    assert state["after"] == state["before"]


def test_physics_constants_and_simulation_do_not_load_numba():
    loaded = _run("""
import json, sys
import skymap_scanner.physics.constants, skymap_scanner.simulation, skymap_scanner.simulation.synthetic
print(json.dumps({"numba": "numba" in sys.modules}))
""")
    assert loaded == {"numba": False}


def test_make_plots_restores_the_backend_and_rcparams(tmp_path):
    previous = matplotlib.get_backend()
    plt.switch_backend("svg")
    try:
        with matplotlib.rc_context({"font.size": 7.5}):
            files, _ = make_plots(_gaussian_result(sigma_deg=2.0), tmp_path)
            assert matplotlib.get_backend() == "svg"
            assert matplotlib.rcParams["font.size"] == 7.5
    finally:
        plt.switch_backend(previous)
    assert any(f.suffix == ".png" for f in files) and np.all([f.stat().st_size > 0 for f in files])
