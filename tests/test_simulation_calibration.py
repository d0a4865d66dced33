"""Contour calibration from simulated events (postprocess/calibration.py)."""

from __future__ import annotations

import math
from pathlib import Path

import healpy
import numpy as np
import pytest

from skymap_scanner.event.model import EventMetadata
from skymap_scanner.io.results import build_result
from skymap_scanner.pixels.types import NSidesDict, RecoPixelFinal
from skymap_scanner.postprocess.calibration import (
    IC160427A,
    SHIPPED_CALIBRATIONS,
    WILKS,
    ChargeCalibration,
    ContourCalibration,
    ContourPolicy,
    calibrate,
    chi2_2dof_quantile,
    contour_areas,
    coverage,
    cross_validated_coverage,
    load_calibration,
)
from skymap_scanner.postprocess.plots import make_plots


def test_wilks_levels_are_the_chi2_quantiles():
    assert chi2_2dof_quantile(0.5) == pytest.approx(1.3863, abs=1e-4)
    assert chi2_2dof_quantile(0.9) == pytest.approx(4.6052, abs=1e-4)
    assert WILKS.levels == {"50%": 1.39, "90%": 4.61}


def test_calibration_of_a_well_described_likelihood_is_wilks():
    values = np.random.default_rng(1).chisquare(2, 20_000)
    cal = calibrate(values, "chi2")
    assert cal.levels["50%"] == pytest.approx(1.386, rel=0.05)
    assert cal.levels["90%"] == pytest.approx(4.605, rel=0.05)
    cov = coverage(values, WILKS)
    assert cov["50%"] == pytest.approx(0.5, abs=0.02) and cov["90%"] == pytest.approx(0.9, abs=0.01)


def test_an_overconfident_likelihood_undercovers_and_calibration_fixes_it():
    values = 4.0 * np.random.default_rng(2).chisquare(2, 2000)
    assert coverage(values, WILKS)["90%"] < 0.6
    cov = cross_validated_coverage(values)
    assert cov["50%"] == pytest.approx(0.5, abs=0.05) and cov["90%"] == pytest.approx(0.9, abs=0.03)
    assert calibrate(values, "x4").levels["90%"] == pytest.approx(4 * 4.605, rel=0.1)


def test_calibration_file_round_trip_and_validation(tmp_path: Path):
    cal = ContourCalibration({"50%": 3.0, "90%": 12.0}, "test", 40, {"energy_gev": 1e5})
    assert ContourCalibration.read(cal.write(tmp_path / "cal.json")) == cal
    with pytest.raises(ValueError):
        ContourCalibration({"50%": 5.0, "90%": 4.0}, "decreasing")
    with pytest.raises(ValueError):
        ContourCalibration({"90%": 4.0}, "incomplete")


def _gaussian_result(sigma_deg: float) -> object:
    """Scan result with -lnL = 0.5 (d / σ)² around (RA, Dec) = (40°, 10°) at nsides 8 and 64."""
    centre = healpy.ang2vec(math.radians(80.0), math.radians(40.0))
    nsides = NSidesDict()
    for nside in (8, 64):
        pix = healpy.query_disc(nside, centre, math.radians(20.0)) if nside == 64 else np.arange(768)
        vec = np.array(healpy.pix2vec(nside, pix)).T
        d = np.degrees(np.arccos(np.clip(vec @ centre, -1, 1)))
        nsides[nside] = {int(p): RecoPixelFinal(nside, int(p), 0.5 * (di / sigma_deg) ** 2, 0, 0, 0, 0, 0, 0, 0)
                         for p, di in zip(pix, d, strict=True)}
    meta = EventMetadata(run_id=1, event_id=1, event_type="simulated", mjd=60000.0, is_real_event=False)
    return build_result(nsides, meta, complete=True)


def test_calibrated_contours_are_larger_than_wilks_for_larger_levels():
    result = _gaussian_result(sigma_deg=2.0)
    wilks = contour_areas(result, WILKS)
    # circular Gaussian: 90 % radius 2.146 σ (docs/physics.md §11)
    assert wilks["90%"] == pytest.approx(math.pi * (2.146 * 2.0) ** 2, rel=0.15)
    wider = contour_areas(result, ContourCalibration({"50%": 2 * 1.39, "90%": 2 * 4.61}, "x2"))
    assert wider["90%"] == pytest.approx(2 * wilks["90%"], rel=0.15)


def test_plots_use_the_calibration(tmp_path: Path):
    result = _gaussian_result(sigma_deg=2.0)
    wider = ContourPolicy("wider", ContourCalibration({"50%": 3.0, "90%": 12.0}, "test"), "requested")
    files, areas = make_plots(result, tmp_path, wider)
    assert [f.name.rsplit("_", 2)[-2:] for f in files] == [["wider", "sky.png"], ["wider", "zoom.png"]]
    # the plotted credible regions are the calibrated contours (meander's areas within 5 %)
    assert areas == pytest.approx(contour_areas(result, wider.calibration), rel=0.05)


def test_load_calibration_by_name_file_and_bad_input(tmp_path: Path):
    assert load_calibration("wilks") is WILKS and load_calibration("IC160427A") is IC160427A
    shipped = sorted(p.stem for p in SHIPPED_CALIBRATIONS.glob("*.json"))
    assert shipped, "the package ships at least one measured calibration"
    for name in shipped:
        cal = load_calibration(name)
        levels = cal.levels_at(1000.0) if isinstance(cal, ChargeCalibration) else cal.levels
        assert cal.n_events > 0 and levels["90%"] > levels["50%"] > 0
    path = ContourCalibration({"50%": 2.0, "90%": 9.0}, "mine", 10).write(tmp_path / "cal.json")
    assert load_calibration(path).levels == {"50%": 2.0, "90%": 9.0}
    with pytest.raises(ValueError, match="no such calibration"):
        load_calibration(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"levels": {"50%": 5}}')
    with pytest.raises(ValueError, match="bad.json: not a contour calibration"):
        load_calibration(tmp_path / "bad.json")
