"""Detectors for the simulation: an IceCube-86-like generator or a real geometry table.

A :class:`Detector` is the event's :class:`~skymap_scanner.event.model.Geometry` plus what the
simulation needs per DOM: relative efficiency (1 standard, 1.35 HQE) and dark rate [Hz].
(string, om) keys follow IceCube: strings 1-78 standard, 79-86 DeepCore; om 1-60 from the top.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skymap_scanner.event.model import EventError, Geometry, dom_key
from skymap_scanner.physics.constants import FIRST_DEEPCORE_STRING
from skymap_scanner.simulation.constants import (
    HQE_EFFICIENCY,
    NOISE_RATE_HQE_HZ,
    NOISE_RATE_STANDARD_HZ,
    ORIGIN_DEPTH_M,
)

#: IceCube-86 layout (docs/physics.md §2, IceCube Collaboration, JINST 12 (2017) P03012 [S20]):
#: 78 standard strings on a 125 m triangular grid, 60 DOMs 17 m apart from 1450 m depth down
N_STANDARD_STRINGS = 78
STRING_SPACING_M = 125.0
DOMS_PER_STRING = 60
DOM_SPACING_M = 17.0
TOP_DEPTH_M = 1450.0
#: the lattice centre is shifted by this fraction of the spacing before the 78 nearest grid points are
#: taken, so that the footprint is a slightly irregular hexagon like IceCube's (max radius ≈ 575 m)
FOOTPRINT_OFFSET = (0.21, 0.13)
#: DeepCore [S20]: 8 strings; 50 DOMs 7 m apart from 2100 m depth down, 10 DOMs 10 m apart above the
#: dust layer (2000-2100 m, uninstrumented); here the upper 10 end at 1990 m depth
DEEPCORE_DEEP = (50, 2100.0, 7.0)
DEEPCORE_VETO = (10, 1900.0, 10.0)


@dataclass(frozen=True)
class Detector:
    """Geometry plus per-DOM relative efficiency and dark rate [Hz] (arrays in geometry order)."""

    geometry: Geometry
    efficiency: np.ndarray
    noise_rate_hz: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.geometry)
        if self.efficiency.shape != (n,) or self.noise_rate_hz.shape != (n,):
            raise EventError("detector: efficiency and noise_rate_hz need one value per DOM")

    def __len__(self) -> int:
        return len(self.geometry)

    @property
    def positions(self) -> np.ndarray:
        """(N, 3) DOM positions [m]."""
        return self.geometry.positions()


def _lattice_points(n: int, spacing_m: float, offset: tuple[float, float]) -> np.ndarray:
    """The ``n`` points of a triangular lattice nearest to ``offset`` (in units of the spacing), in
    rows of increasing y then x (IceCube numbers its strings row by row); (n, 2) in metres, the lattice
    point nearest to the offset at the origin."""
    k = np.arange(-8, 9)
    i, j = (a.ravel() for a in np.meshgrid(k, k))
    xy = np.column_stack([i + 0.5 * j, j * math.sqrt(3) / 2])
    dist = np.hypot(xy[:, 0] - offset[0], xy[:, 1] - offset[1])
    chosen = xy[np.argsort(dist, kind="stable")[:n]]
    chosen = chosen[np.lexsort((chosen[:, 0], np.round(chosen[:, 1], 6)))]
    return chosen * spacing_m


def _deepcore_xy(spacing_m: float) -> np.ndarray:
    """8 DeepCore string positions: the 6 triangle centres around the central string (72 m) and two
    opposite ones of the next ring (144 m) (inter-string 41-105 m, mean 72 m in IceCube [S20])."""
    r1 = spacing_m / math.sqrt(3)
    inner = [(r1 * math.cos(a), r1 * math.sin(a)) for a in np.radians(30.0 + 60.0 * np.arange(6))]
    outer = [(-2 * r1 * math.cos(math.radians(30.0)), -2 * r1 * math.sin(math.radians(30.0))),
             (2 * r1 * math.cos(math.radians(30.0)), 2 * r1 * math.sin(math.radians(30.0)))]
    return np.array(inner + outer)


def _string_depths(n: int, top_m: float, spacing_m: float) -> np.ndarray:
    return top_m + spacing_m * np.arange(n)


def icecube86_like() -> Detector:
    """IceCube-86-like detector: 78 standard strings (60 DOMs, 17 m) + 8 DeepCore strings (HQE)."""
    standard = _lattice_points(N_STANDARD_STRINGS, STRING_SPACING_M, FOOTPRINT_OFFSET)
    deepcore = _deepcore_xy(STRING_SPACING_M)
    std_depth = _string_depths(DOMS_PER_STRING, TOP_DEPTH_M, DOM_SPACING_M)
    dc_depth = np.concatenate([_string_depths(*DEEPCORE_VETO), _string_depths(*DEEPCORE_DEEP)])
    xy = np.vstack([np.repeat(standard, DOMS_PER_STRING, axis=0), np.repeat(deepcore, len(dc_depth), axis=0)])
    depth = np.concatenate([np.tile(std_depth, len(standard)), np.tile(dc_depth, len(deepcore))])
    n_std = len(standard) * DOMS_PER_STRING
    string = np.concatenate([np.repeat(np.arange(1, len(standard) + 1), DOMS_PER_STRING),
                             np.repeat(np.arange(FIRST_DEEPCORE_STRING, FIRST_DEEPCORE_STRING + len(deepcore)),
                                       len(dc_depth))])
    om = np.concatenate([np.tile(np.arange(1, DOMS_PER_STRING + 1), len(standard)),
                         np.tile(np.arange(1, len(dc_depth) + 1), len(deepcore))])
    hqe = np.arange(len(depth)) >= n_std
    geometry = Geometry(string, om, xy[:, 0], xy[:, 1], ORIGIN_DEPTH_M - depth,
                        source="simulation: IceCube-86-like generator")
    return _with_response(geometry, _reorder(hqe, string, om, geometry))


def _reorder(values: np.ndarray, string: np.ndarray, om: np.ndarray, geometry: Geometry) -> np.ndarray:
    """``values`` given in (string, om) input order, rearranged into the geometry's sorted order."""
    order = np.searchsorted(geometry.keys(), dom_key(string, om))
    out = np.empty_like(values)
    out[order] = values
    return out


def _with_response(geometry: Geometry, hqe: np.ndarray, efficiency: np.ndarray | None = None) -> Detector:
    eff = np.where(hqe, HQE_EFFICIENCY, 1.0) if efficiency is None else efficiency
    rate = np.where(hqe, NOISE_RATE_HQE_HZ, NOISE_RATE_STANDARD_HZ)
    return Detector(geometry, eff.astype(np.float64), rate.astype(np.float64))


def detector_from_table(path: str | Path) -> Detector:
    """Detector from a geometry table with columns string, om, x, y, z[, dom_type, pmt_area, rde].

    In-ice DOMs only (om ≤ 60; dom_type 20 where given); ``rde`` is the relative DOM efficiency
    (HQE 1.35). DOMs whose rde is missing (NaN) are treated as dead and left out.
    """
    path = Path(path)
    try:
        table = np.genfromtxt(path, delimiter=",", names=True)
    except (OSError, ValueError) as e:
        raise EventError(f"{path}: not a readable geometry table ({e})") from None
    names = table.dtype.names or ()
    missing = {"string", "om", "x", "y", "z"} - set(names)
    if missing:
        raise EventError(f"{path}: geometry table lacks column(s) {sorted(missing)}")
    keep = table["om"] <= DOMS_PER_STRING
    if "dom_type" in names:
        keep &= table["dom_type"] == 20
    rde = table["rde"] if "rde" in names else np.ones(len(table))
    keep &= np.isfinite(rde)
    t = table[keep]
    geometry = Geometry(t["string"], t["om"], t["x"], t["y"], t["z"], source=f"geometry table {path.name}")
    eff = _reorder(rde[keep], t["string"].astype(np.int64), t["om"].astype(np.int64), geometry)
    return _with_response(geometry, eff > 1.0, eff)
