"""Fit a :class:`~skymap_scanner.postprocess.calibration.ChargeCalibration` to simulated events and
test it on events it was not fitted to.

Model: for each containment q its own broken line ln L_q(Q) = a_q + b_q u + Σ_j c_qj max(u - k_j, 0) in
u = log10(Q / 1000 PE) with fixed knots k_j (none: a straight line, a power law in Q), the q-quantile
regression (Koenker & Bassett 1978 [1], solved exactly as a linear programme) of
y = ln max(2ΔLLH(truth), ε) on that basis. Each quantile has its own slope because the
shape of the distribution changes with brightness, not only its scale: on the first 24 events
(benchmarks/results/calibration_events.jsonl) the median of 2ΔLLH(truth) is flat from 400 PE
(10 TeV) to 34 000 PE (1 PeV) while the 90 % quantile grows from ≈ 9 to ≈ 26 (stochastic losses of
bright muons). Lines that cross inside the measured charge range (too few events) are refused.
Taking the logarithm of values floored at ε (negative 2ΔLLH, where the scan missed a better minimum,
count as inside any contour) does not move quantiles, since it is monotone. Coverage is measured by
k-fold cross-validation: each event is tested with levels fitted to the other folds.

References
----------
.. [1] R. Koenker, G. Bassett, "Regression Quantiles", Econometrica 46 (1978) 33,
   doi:10.2307/1913643.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from skymap_scanner.postprocess.calibration import CHARGE_PIVOT_PE, CONTAINMENTS, ChargeCalibration

#: floor of 2ΔLLH before the logarithm (a value this small is inside every contour anyway)
FLOOR_2DLLH = 1e-2


def broken_line_basis(u: np.ndarray, knots_u: tuple[float, ...] = ()) -> np.ndarray:
    """Columns 1, u, max(u - k_j, 0) per knot: (n, 2 + len(knots_u))."""
    u = np.asarray(u, np.float64)
    return np.column_stack([np.ones_like(u), u, *(np.maximum(u - k, 0.0) for k in knots_u)])


def quantile_regression(basis: np.ndarray, y: np.ndarray, q: float) -> tuple[float, ...]:
    """Coefficients β of the q-quantile regression y ≈ basis β (exact linear programme: β free and the
    positive and negative residual parts r⁺, r⁻ ≥ 0 with basis β + r⁺ − r⁻ = y)."""
    n, p = basis.shape
    if n < p + 1:
        raise ValueError(f"a quantile regression with {p} coefficients needs at least {p + 1} events")
    cost = np.concatenate([np.zeros(p), np.full(n, q), np.full(n, 1.0 - q)])
    a_eq = np.hstack([basis, np.eye(n), -np.eye(n)])
    bounds = [(None, None)] * p + [(0.0, None)] * (2 * n)
    res = linprog(cost, A_eq=a_eq, b_eq=y, bounds=bounds, method="highs")
    if not res.success:
        raise ValueError(f"quantile regression failed: {res.message}")
    return tuple(float(v) for v in res.x[:p])


def quantile_line(u: np.ndarray, y: np.ndarray, q: float) -> tuple[float, float]:
    """(a, b) of the q-quantile regression line y ≈ a + b u."""
    if len(y) < 3:
        raise ValueError("a quantile regression line needs at least 3 events")
    a, b = quantile_regression(broken_line_basis(u), np.asarray(y, np.float64), q)
    return a, b


def fit_charge_calibration(two_dllh_truth: np.ndarray, charge_pe: np.ndarray, description: str,
                           details: dict[str, object] | None = None,
                           knots_pe: tuple[float, ...] = ()) -> ChargeCalibration:
    """The :class:`ChargeCalibration` of events with 2ΔLLH at the truth ``two_dllh_truth`` and total
    charges ``charge_pe`` [PE] (finite values only), with slope changes at the charges ``knots_pe`` [PE]."""
    x = np.asarray(two_dllh_truth, np.float64)
    q = np.asarray(charge_pe, np.float64)
    keep = np.isfinite(x) & np.isfinite(q) & (q > 0)
    x, q = x[keep], q[keep]
    u, y = np.log10(q / CHARGE_PIVOT_PE), np.log(np.maximum(x, FLOOR_2DLLH))
    knots_u = tuple(float(np.log10(k / CHARGE_PIVOT_PE)) for k in knots_pe)
    basis = broken_line_basis(u, knots_u)
    coefficients = {k: quantile_regression(basis, y, c) for k, c in CONTAINMENTS.items()}
    return ChargeCalibration(coefficients, (float(q.min()), float(q.max())), description, int(len(x)),
                             dict(details or {}), knots_u)


def cross_validated_inside(two_dllh_truth: np.ndarray, charge_pe: np.ndarray, folds: int = 5,
                           knots_pe: tuple[float, ...] = ()) -> dict[str, np.ndarray]:
    """Per containment, whether each event's truth lies inside the contour of levels fitted to the
    other folds (events interleaved into ``folds`` parts)."""
    x = np.asarray(two_dllh_truth, np.float64)
    q = np.asarray(charge_pe, np.float64)
    if len(x) < 3 * folds:
        raise ValueError(f"cross-validation with {folds} folds needs at least {3 * folds} events")
    fold = np.arange(len(x)) % folds
    inside = {k: np.zeros(len(x), bool) for k in CONTAINMENTS}
    for f in range(folds):
        test = fold == f
        cal = fit_charge_calibration(x[~test], q[~test], "fold", knots_pe=knots_pe)
        for i in np.flatnonzero(test):
            levels = cal.levels_at(q[i])
            for k in CONTAINMENTS:
                inside[k][i] = x[i] < levels[k]
    return inside
