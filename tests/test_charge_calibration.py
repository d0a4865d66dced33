"""Contour levels as a function of the event's total charge (issue 14): the quantile regression, the
calibration's file and clamping, its resolution into a scan's policy, and the products that record it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from skymap_scanner.postprocess.calibration import (
    CHARGE_PIVOT_PE,
    ChargeCalibration,
    ContourCalibration,
    calibrate,
    choose_policy,
    load_calibration,
)
from skymap_scanner.postprocess.calibration_fit import cross_validated_inside, fit_charge_calibration, quantile_line


def _events(n: int, seed: int, slope: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """2ΔLLH = s(Q) χ²₂ with s = (Q / 1000 PE)^slope, Q log-uniform over 100 PE – 1e6 PE."""
    rng = np.random.default_rng(seed)
    charge = 10 ** rng.uniform(2, 6, n)
    return (charge / CHARGE_PIVOT_PE) ** slope * rng.chisquare(2, n), charge


@pytest.mark.parametrize("q", [0.5, 0.9])
def test_quantile_line_has_the_asked_share_of_points_below_and_matches_the_truth(q):
    rng = np.random.default_rng(1)
    u = rng.uniform(-1, 3, 4000)
    y = 0.3 + 0.7 * u + rng.normal(0, 0.5, len(u))
    a, b = quantile_line(u, y, q)
    assert np.mean(y < a + b * u) == pytest.approx(q, abs=0.01)
    z = {0.5: 0.0, 0.9: 1.2816}[q]  # normal quantile: the true line is 0.3 + 0.5 z + 0.7 u
    assert a == pytest.approx(0.3 + 0.5 * z, abs=0.05) and b == pytest.approx(0.7, abs=0.03)


def test_the_fit_recovers_a_power_law_and_covers_in_every_charge_decade():
    x, q = _events(3000, seed=2)
    cal = fit_charge_calibration(x, q, "synthetic")
    for k, p in (("50%", 0.5), ("90%", 0.9)):
        a, b = cal.coefficients[k]
        assert b / math.log(10) == pytest.approx(0.4, abs=0.05)  # ln L = a + b log10 Q: slope 0.4 in log10
        assert math.exp(a) == pytest.approx(-2 * math.log(1 - p), rel=0.1)  # χ²₂ quantile at the pivot
    inside = cross_validated_inside(x, q, folds=5)
    decade = np.floor(np.log10(q)).astype(int)
    fixed = calibrate(x[::2], "one pair of levels")
    for d in range(2, 6):
        sel = decade == d
        assert np.mean(inside["50%"][sel]) == pytest.approx(0.5, abs=0.06)
        assert np.mean(inside["90%"][sel]) == pytest.approx(0.9, abs=0.04)
    # one pair of levels cannot be right in every decade: the dimmest are over-, the brightest under-covered
    assert np.mean(x[decade == 2] < fixed.levels["90%"]) > 0.97 and np.mean(x[decade == 5] < fixed.levels["90%"]) < 0.7


def test_a_knot_recovers_a_broken_power_law_that_a_line_cannot():
    """Scale s(Q) = (Q/1000)^0.2 below 20 000 PE and steepening to slope 1.0 above: with the knot at 20 000 PE
    the fit recovers both slopes and covers on both sides of it; the straight line over-covers near the knot."""
    rng = np.random.default_rng(7)
    q = 10 ** rng.uniform(2, 6, 4000)
    u = np.log10(q / CHARGE_PIVOT_PE)
    knot = math.log10(20.0)
    x = np.exp(math.log(10) * (0.2 * u + 0.8 * np.maximum(u - knot, 0.0))) * rng.chisquare(2, len(q))
    broken = fit_charge_calibration(x, q, "synthetic", knots_pe=(2.0e4,))
    assert broken.knots_u == pytest.approx((knot,))
    for k in ("50%", "90%"):
        _, b, c = broken.coefficients[k]
        assert b / math.log(10) == pytest.approx(0.2, abs=0.05) and c / math.log(10) == pytest.approx(0.8, abs=0.08)
    line = fit_charge_calibration(x, q, "synthetic")
    near = (q > 1e4) & (q < 4e4)
    for cal, expected in ((broken, (0.85, 0.95)), (line, (0.95, 1.0))):
        inside = np.mean([xi < cal.levels_at(qi)["90%"] for xi, qi in zip(x[near], q[near], strict=True)])
        assert expected[0] <= inside <= expected[1], (cal.knots_u, inside)
    inside = cross_validated_inside(x, q, folds=5, knots_pe=(2.0e4,))
    for d in range(2, 6):
        assert np.mean(inside["90%"][np.floor(np.log10(q)) == d]) == pytest.approx(0.9, abs=0.04)
    with pytest.raises(ValueError, match="needs 3 coefficients"):
        ChargeCalibration({"50%": (1.0, 0.1), "90%": (2.0, 0.1)}, (1.0, 1e6), "no knot coefficient", knots_u=(1.0,))


def test_negative_and_zero_values_count_as_inside():
    x, q = _events(300, seed=3)
    x[:30] = -1.0
    cal = fit_charge_calibration(x, q, "with negatives")
    assert all(v > 0 for v in cal.levels_at(1000.0).values())


def test_file_round_trip_clamping_and_validation(tmp_path):
    x, q = _events(500, seed=4)
    cal = fit_charge_calibration(x, q, "synthetic", {"energies_gev": [1e4, 1e7]})
    path = cal.write(tmp_path / "c.json")
    assert json.loads(path.read_text())["kind"] == "charge"
    again = load_calibration(path)
    assert isinstance(again, ChargeCalibration) and again == cal
    lo, hi = cal.charge_range_pe
    assert cal.levels_at(lo / 100) == cal.levels_at(lo) and cal.levels_at(hi * 100) == cal.levels_at(hi)
    fixed = cal.at(hi * 100)
    assert isinstance(fixed, ContourCalibration) and "clamped" in fixed.description
    with pytest.raises(ValueError, match="0 < 50% < 90%"):
        ChargeCalibration({"50%": (1.0, 1.0), "90%": (1.5, 0.0)}, (1.0, 1e6), "crossing")
    with pytest.raises(ValueError, match="total charge"):
        cal.at(0.0)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "charge", "coefficients": {"50%": [1]}, "description": "x"}))
    with pytest.raises(ValueError, match="not a contour calibration"):
        load_calibration(bad)


def test_the_policy_holds_the_levels_at_the_event_charge(tmp_path):
    x, q = _events(500, seed=5)
    path = fit_charge_calibration(x, q, "synthetic").write(tmp_path / "by_charge.json")
    policy = choose_policy(str(path), "mpe_pandel", None, charge_pe=2.0e4)
    assert policy.calibration.levels == load_calibration(path).levels_at(2.0e4)
    record = policy.as_dict()
    assert record["charge_pe"] == 2.0e4 and "total charge" in record["observable"]
    assert choose_policy(str(path), "mpe_pandel", None, 200.0).calibration.levels["90%"] < \
        policy.calibration.levels["90%"]
    with pytest.raises(ValueError, match="depends on the event's total charge"):
        choose_policy(str(path), "mpe_pandel", None)


def test_a_scan_and_its_report_use_the_levels_at_the_event_charge(tmp_path):
    from skymap_scanner.api import event_charge_pe, scan
    from skymap_scanner.cli import _result_and_policy
    from skymap_scanner.settings import Settings
    from skymap_scanner.simulation.synthetic import synthetic_event

    x, q = _events(500, seed=6)
    path = fit_charge_calibration(x, q, "synthetic").write(tmp_path / "by_charge.json")
    event = synthetic_event()
    result = scan(event, "dummy", "8:0 64:4", transport="inprocess", output_dir=tmp_path / "out", progress=False,
                  settings=Settings(contours=str(path), plot=False))
    charge = event_charge_pe(event)
    assert result.policy.charge_pe == charge
    assert result.policy.calibration.levels == load_calibration(path).levels_at(charge)
    manifest = json.loads(result.files["manifest"].read_text())["scan_metadata"]
    assert manifest["event_charge_pe"] == charge and manifest["contour_policy"]["charge_pe"] == charge
    _, context, policy = _result_and_policy(result.files["npz"], None)
    assert context.charge_pe == charge and policy.calibration.levels == result.policy.calibration.levels
