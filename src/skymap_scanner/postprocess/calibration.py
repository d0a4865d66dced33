"""Contour levels on the 2ΔLLH map: Wilks' theorem or calibrated from re-simulated events.

A contour of containment q holds the directions with 2ΔLLH = 2 (-lnL - min -lnL) below a level L_q.
Wilks' theorem for 2 free parameters gives L_q = -2 ln(1 - q): 1.39 (50 %), 4.61 (90 %) (skyreader's
rounding; docs/physics.md §11). When the likelihood does not describe the data (stochastic losses, ice,
noise: docs/physics.md §14) the truth lies outside the Wilks contours more often than 1 - q. IceCube then
calibrated the levels on re-simulations of one event (IC160427A: 22.2 / 64.2, docs/physics.md §11).

Here a calibration is the empirical q-quantiles of 2ΔLLH at the true direction over simulated events
(``benchmarks/physics.py`` measures them, ``docs/simulation.md`` describes the procedure). Its levels
replace Wilks' for contours and areas (:func:`contour_areas`); probability maps with the calibrated
regions are built in ``postprocess/probability.py``.

The scale of 2ΔLLH grows with the event's brightness, so one pair of levels is honest at one energy
only. A :class:`ChargeCalibration` gives the levels as a smooth function of the event's total charge
Q [PE] (every alert has it): ln L_q(Q) = a_q + b_q log10(Q / 1000 PE), Q clamped to the measured
range (quantile regression per containment, ``postprocess/calibration_fit.py``); a scan's policy
holds the levels at its event's charge (:func:`choose_policy`).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import meander
import numpy as np

from skymap_scanner.io.skyreader_api import SkyScanResult, extract_map, get_contour_areas

LOGGER = logging.getLogger(__name__)
#: calibrations measured with ``benchmarks/physics.py --write-calibration`` and shipped with the package
SHIPPED_CALIBRATIONS = Path(__file__).parent / "calibrations"
#: containments and their Wilks levels for 2 degrees of freedom (χ²₂ quantiles, skyreader's rounding)
CONTAINMENTS = {"50%": 0.5, "90%": 0.9}
WILKS_LEVELS = {"50%": 1.39, "90%": 4.61}


def chi2_2dof_quantile(containment: float) -> float:
    """Exact χ²₂ quantile -2 ln(1 - q) (1.3863 for 50 %, 4.6052 for 90 %)."""
    return -2.0 * math.log1p(-containment)


@dataclass(frozen=True)
class ContourCalibration:
    """2ΔLLH levels per containment ("50%", "90%"), where they come from, and how many events."""

    levels: dict[str, float]
    description: str
    n_events: int = 0
    details: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if set(self.levels) != set(CONTAINMENTS):
            raise ValueError(f"calibration levels must be given for {sorted(CONTAINMENTS)}")
        values = [self.levels[k] for k in CONTAINMENTS]
        if not (all(math.isfinite(v) for v in values) and 0 < values[0] < values[1]):
            raise ValueError(f"calibration levels must satisfy 0 < 50% < 90%, got {self.levels}")

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def read(cls, path: str | Path) -> ContourCalibration:
        d = json.loads(Path(path).read_text())
        return cls(levels={k: float(v) for k, v in d["levels"].items()}, description=str(d["description"]),
                   n_events=int(d.get("n_events", 0)), details=dict(d.get("details", {})))


@dataclass(frozen=True)
class ChargeCalibration:
    """2ΔLLH levels as a function of the event's total charge Q [PE], a broken line in log-log:
    ln L_q = a_q + b_q u + Σ_j c_qj max(u - k_j, 0), u = log10(Q / :data:`CHARGE_PIVOT_PE`), with knots k_j
    (``knots_u``; none: a power law), Q clamped to ``charge_range_pe``."""

    #: (a_q, b_q, c_q1, …) per containment ("50%", "90%")
    coefficients: dict[str, tuple[float, ...]]
    #: the total charges [PE] of the events it was measured on (lowest, highest)
    charge_range_pe: tuple[float, float]
    description: str
    n_events: int = 0
    details: dict[str, object] = field(default_factory=dict)
    #: knots k_j in u = log10(Q / pivot) where the slope changes
    knots_u: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if set(self.coefficients) != set(CONTAINMENTS):
            raise ValueError(f"calibration coefficients must be given for {sorted(CONTAINMENTS)}")
        if any(len(c) != 2 + len(self.knots_u) for c in self.coefficients.values()):
            raise ValueError(f"a charge calibration with {len(self.knots_u)} knots needs "
                             f"{2 + len(self.knots_u)} coefficients per containment")
        lo, hi = self.charge_range_pe
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
            raise ValueError(f"charge range must satisfy 0 < low <= high, got {self.charge_range_pe}")
        # ln L is linear in log10 Q between knots: levels valid at the ends and knots are valid between
        inner = [CHARGE_PIVOT_PE * 10.0**k for k in self.knots_u if lo < CHARGE_PIVOT_PE * 10.0**k < hi]
        for q in (lo, *inner, hi):
            self.at(q)

    def levels_at(self, charge_pe: float) -> dict[str, float]:
        """The levels at total charge ``charge_pe`` [PE] (clamped to the measured range)."""
        q = min(max(float(charge_pe), self.charge_range_pe[0]), self.charge_range_pe[1])
        u = math.log10(q / CHARGE_PIVOT_PE)
        return {k: math.exp(c[0] + c[1] * u + sum(cj * max(u - kj, 0.0) for cj, kj in zip(c[2:], self.knots_u,
                                                                                           strict=True)))
                for k, c in self.coefficients.items()}

    def at(self, charge_pe: float) -> ContourCalibration:
        """The fixed-level calibration of an event with total charge ``charge_pe`` [PE]."""
        if not (math.isfinite(charge_pe) and charge_pe > 0):
            raise ValueError(f"a charge calibration needs the event's total charge > 0 PE, got {charge_pe}")
        clamped = "" if self.charge_range_pe[0] <= charge_pe <= self.charge_range_pe[1] else \
            f", clamped to the measured {self.charge_range_pe[0]:.0f}–{self.charge_range_pe[1]:.0f} PE"
        return ContourCalibration(self.levels_at(charge_pe), f"{self.description} at Q = {charge_pe:.0f} PE{clamped}",
                                  self.n_events, {**self.details, "charge_pe": float(charge_pe)})

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps({"kind": "charge", **asdict(self)}, indent=2) + "\n")
        return path

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> ChargeCalibration:
        coefficients = {str(k): tuple(float(x) for x in v) for k, v in dict(d["coefficients"]).items()}
        lo, hi = (float(v) for v in d["charge_range_pe"])
        knots = tuple(float(k) for k in d.get("knots_u", ()))
        return cls(coefficients, (lo, hi), str(d["description"]), int(d.get("n_events", 0)),
                   dict(d.get("details", {})), knots)


#: the pivot charge of :class:`ChargeCalibration` [PE] (an order of a 100 TeV muon's)
CHARGE_PIVOT_PE = 1000.0
#: what a charge calibration's observable is, as products record it
CHARGE_OBSERVABLE = "total charge of the event's pulses [PE]"

Calibration = ContourCalibration | ChargeCalibration

#: Wilks' theorem (no calibration)
WILKS = ContourCalibration(dict(WILKS_LEVELS), "Wilks' theorem, 2 degrees of freedom")
#: the original Millipede levels from re-simulations of IC160427A (docs/physics.md §11 [S14]); for reference,
#: they belong to that likelihood, not to this project's
IC160427A = ContourCalibration({"50%": 22.2, "90%": 64.2}, "Millipede re-simulations of IC160427A (run 127852)")


def calibrate(two_delta_llh_truth: np.ndarray, description: str) -> ContourCalibration:
    """Levels = empirical quantiles of 2ΔLLH at the true direction over simulated events (negative
    values, where the scan's best fit is worse than the truth, count as 0)."""
    values = np.maximum(np.asarray(two_delta_llh_truth, np.float64), 0.0)
    if len(values) < 2 or not np.all(np.isfinite(values)):
        raise ValueError("calibration needs at least two finite 2ΔLLH values")
    levels = {k: float(np.quantile(values, q)) for k, q in CONTAINMENTS.items()}
    return ContourCalibration(levels, description, len(values))


def coverage(two_delta_llh_truth: np.ndarray, calibration: ContourCalibration = WILKS) -> dict[str, float]:
    """Fraction of events whose truth lies inside each contour (2ΔLLH at the truth below the level)."""
    values = np.asarray(two_delta_llh_truth, np.float64)
    return {k: float(np.mean(values < level)) for k, level in calibration.levels.items()}


def cross_validated_coverage(two_delta_llh_truth: np.ndarray, folds: int = 2) -> dict[str, float]:
    """Coverage of calibrated levels on events not used to calibrate them: events are split into
    ``folds`` interleaved parts; each part is tested with levels from the others."""
    values = np.asarray(two_delta_llh_truth, np.float64)
    if len(values) < 2 * folds:
        raise ValueError(f"cross-validation with {folds} folds needs at least {2 * folds} events")
    inside = {k: 0 for k in CONTAINMENTS}
    for f in range(folds):
        test = np.arange(len(values)) % folds == f
        levels = calibrate(values[~test], "fold").levels
        for k, level in levels.items():
            inside[k] += int(np.sum(values[test] < level))
    return {k: n / len(values) for k, n in inside.items()}


def contour_areas(result: SkyScanResult, calibration: ContourCalibration = WILKS) -> dict[str, float]:
    """Areas [deg²] inside the 50 % and 90 % contours of the result's 2ΔLLH map at ``calibration``'s
    levels (skyreader's map and meander contouring, as its plots draw them)."""
    grid_value, grid_ra, grid_dec, equatorial_map, _ = extract_map(result, True, None)
    names = list(CONTAINMENTS)
    levels = [calibration.levels[k] + float(np.nanmin(equatorial_map)) for k in names]
    values = np.where(np.isnan(grid_value), np.nanmax(equatorial_map), grid_value)
    points = np.array([np.pi / 2 - grid_dec, grid_ra]).T
    contours = meander.spherical_contours(points, values, levels)
    areas = get_contour_areas(contours, grid_ra[0])
    return {name: float(a) for name, a in zip(names, areas, strict=False)}


def load_calibration(name_or_path: str | Path) -> Calibration:
    """A calibration from a JSON file, or by name: "wilks", "ic160427a", or a file shipped in
    ``postprocess/calibrations/`` (e.g. "mpe_pandel_charge"); a file with ``"kind": "charge"`` is a
    :class:`ChargeCalibration`."""
    key = str(name_or_path)
    builtin = {"wilks": WILKS, "ic160427a": IC160427A}
    if key.lower() in builtin:
        return builtin[key.lower()]
    shipped = SHIPPED_CALIBRATIONS / f"{key}.json"
    path = shipped if shipped.is_file() else Path(key)
    if not path.is_file():
        known = sorted([*builtin, *(f.stem for f in SHIPPED_CALIBRATIONS.glob("*.json"))])
        raise ValueError(f"{key}: no such calibration file or name (names: {', '.join(known)})")
    try:
        d = json.loads(path.read_text())
        return ChargeCalibration.from_dict(d) if d.get("kind") == "charge" else ContourCalibration.read(path)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
        raise ValueError(f"{path}: not a contour calibration ({type(e).__name__}: {e})") from None


@dataclass(frozen=True)
class ContourPolicy:
    """The contour levels a scan's products use: ``name`` ("wilks", a shipped calibration's name or a
    file's stem, as file names and products say it), the levels, and why they were chosen."""

    name: str
    calibration: ContourCalibration
    #: "requested" (asked for), "reco default" (the reco's shipped calibration) or "no calibration"
    reason: str
    #: what :func:`load_calibration` loads it from again (a name or a file path)
    source: str = "wilks"
    #: the event's total charge [PE] at which a charge calibration was evaluated (None: fixed levels)
    charge_pe: float | None = None

    @property
    def is_wilks(self) -> bool:
        return self.calibration.levels == WILKS.levels

    def as_dict(self) -> dict[str, object]:
        """JSON-ready record of the policy (manifest, summaries)."""
        return {"name": self.name, "source": self.source, "reason": self.reason, "levels": self.calibration.levels,
                "description": self.calibration.description, "n_events": self.calibration.n_events,
                "systematic_included": bool(self.calibration.details.get("systematic_included", False)),
                **({} if self.charge_pe is None else {"observable": CHARGE_OBSERVABLE, "charge_pe": self.charge_pe})}


def _wilks_warning(reco: str, default_calibration: str | None) -> str:
    """The warning logged whenever Wilks contours are used: the Wilks coverage measured for ``reco``
    (``details["wilks_coverage"]`` of its calibration) or that none was measured."""
    details = load_calibration(default_calibration).details if default_calibration else {}
    measured = details.get("wilks_coverage")
    if not isinstance(measured, dict):
        return f"Wilks contours for {reco}: no calibration exists for it, so their coverage is unmeasured"
    energy = details.get("energy_gev")
    at = f" of {float(energy) / 1e3:g} TeV" if isinstance(energy, int | float) else ""
    return (f"Wilks contours for {reco}: over simulated events{at} ({default_calibration}) the truth lay "
            f"inside the 90 % contour in {measured['90%']:.2f} and inside the 50 % contour in "
            f"{measured['50%']:.2f} of them; they understate the uncertainty")


def _resolve(name: str, calibration: Calibration, charge_pe: float | None) -> tuple[ContourCalibration, float | None]:
    if isinstance(calibration, ContourCalibration):
        return calibration, None
    if charge_pe is None:
        raise ValueError(f"calibration {name} depends on the event's total charge, which is not known here "
                         "(no scan-manifest.json of the scan beside the result); give fixed levels instead")
    return calibration.at(charge_pe), float(charge_pe)


def choose_policy(requested: str | Path | None, reco: str, default_calibration: str | None,
                  charge_pe: float | None = None) -> ContourPolicy:
    """The contour policy of a scan with ``reco``: ``requested`` ("wilks", a calibration name or a JSON
    file) when given, else the reco's ``default_calibration``, else Wilks; a :class:`ChargeCalibration`
    is evaluated at the event's total charge ``charge_pe`` [PE]. Wilks is always logged as a warning
    naming its measured coverage (:func:`_wilks_warning`)."""
    if requested is not None:
        key = str(requested)
        name = key.lower() if key.lower() in ("wilks", "ic160427a") else Path(key).stem if key.endswith(".json") \
            else key
        calibration, charge = _resolve(name, load_calibration(requested), charge_pe)
        policy = ContourPolicy(name, calibration, "requested", key, charge)
    elif default_calibration is not None:
        calibration, charge = _resolve(default_calibration, load_calibration(default_calibration), charge_pe)
        policy = ContourPolicy(default_calibration, calibration, "reco default", default_calibration, charge)
    else:
        policy = ContourPolicy("wilks", WILKS, "no calibration")
    if policy.is_wilks:
        LOGGER.warning(_wilks_warning(reco, default_calibration))
    return policy
