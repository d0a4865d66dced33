"""Geometry sources: a DOM table (CSV), an IceCube GCD file, and interpolation for missing DOMs.

The table ``icecube86.csv`` (columns ``string, om, x, y, z, dom_type, …``; i3-format.md §8.4) lacks
77 in-ice DOMs; a hit on one of them gets a position interpolated along its string.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from skymap_scanner.event.model import EventError, Geometry
from skymap_scanner.i3.gcd import OMTYPE_ICECUBE, GeometryDiffHeader, OMGeo
from skymap_scanner.i3.gcd_file import read_omgeo_map
from skymap_scanner.i3.objects import OMKey

#: environment variable naming a default geometry table
GEOMETRY_TABLE_ENV = "SKYSCAN_GEOMETRY_TABLE"
#: baseline names written by old alerts → the file upstream uses (upstream-behaviour §3.3)
LEGACY_BASELINES = {"current-gcd": "2016_01_08_Run127381.i3"}
GCD_SUFFIXES = ("", ".gz", ".bz2", ".zst")
_REQUIRED_COLUMNS = ("string", "om", "x", "y", "z")


class GeometryError(EventError):
    """No usable geometry: a missing or malformed table/GCD, or a DOM without a position."""


def _parse_rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in _REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise GeometryError(f"{path}: geometry table lacks column(s) {missing}")
            return list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise GeometryError(f"{path}: cannot read geometry table ({e})") from None


def read_geometry_table(path: str | Path) -> Geometry:
    """In-ice DOMs of a CSV table (``dom_type`` 20 when the column exists, else OM ≤ 60) [m]."""
    path = Path(path)
    rows = []
    for line, row in enumerate(_parse_rows(path), start=2):
        try:
            values = [float(row[c]) for c in _REQUIRED_COLUMNS]
            in_ice = int(row["dom_type"]) == OMTYPE_ICECUBE if row.get("dom_type") else values[1] <= 60
        except (TypeError, ValueError):
            raise GeometryError(f"{path}:{line}: malformed geometry row {row}") from None
        if in_ice:
            rows.append(values)
    if not rows:
        raise GeometryError(f"{path}: no in-ice DOMs in the geometry table")
    a = np.array(rows)
    return Geometry(a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4], source=f"table {path.name}")


def _interpolate_one(geometry: Geometry, string: int, om: int) -> np.ndarray:
    """Position of (string, om) from the nearest DOMs on the same string (linear in OM number;
    extrapolated from the two nearest at a string's end)."""
    on_string = geometry.string == string
    oms = geometry.om[on_string]
    if len(oms) < 2:
        raise GeometryError(f"DOM ({string}, {om}): cannot interpolate, string {string} has "
                            f"{len(oms)} DOM(s) in the geometry ({geometry.source})")
    pos = geometry.positions()[on_string]
    below, above = np.flatnonzero(oms < om), np.flatnonzero(oms > om)
    if len(below) and len(above):
        i, j = below[-1], above[0]
    elif len(below):
        i, j = below[-2], below[-1]
    else:
        i, j = above[0], above[1]
    f = (om - oms[i]) / (oms[j] - oms[i])
    return pos[i] + f * (pos[j] - pos[i])


def with_interpolated_doms(geometry: Geometry, string: np.ndarray, om: np.ndarray) -> Geometry:
    """``geometry`` plus interpolated positions for those of the given DOMs it lacks.

    Accurate to about 1 m (DOM spacing 17.02 m on standard strings, 7.01 m in the deep part of
    DeepCore strings; i3-format.md §8.4). The source notes how many DOMs were added.
    """
    want = np.unique(np.asarray(string, np.int64) * 1000 + np.asarray(om, np.int64))
    missing = np.setdiff1d(want, geometry.keys())
    if not len(missing):
        return geometry
    added = np.array([_interpolate_one(geometry, int(k // 1000), int(k % 1000)) for k in missing])
    pos = np.vstack([geometry.positions(), added])
    return Geometry(
        np.r_[geometry.string, missing // 1000], np.r_[geometry.om, missing % 1000],
        pos[:, 0], pos[:, 1], pos[:, 2],
        source=f"{geometry.source} + {len(missing)} interpolated DOM(s)",
    )


def default_geometry_table() -> Path | None:
    """The table named by ``$SKYSCAN_GEOMETRY_TABLE``, if set."""
    value = os.environ.get(GEOMETRY_TABLE_ENV)
    return Path(value) if value else None


def find_baseline_gcd(gcd: str | Path, base_filename: str) -> Path:
    """The GCD file to use: ``gcd`` itself, or the baseline named by the alert inside folder
    ``gcd`` (legacy ``current-gcd`` mapped as upstream does; ``.gz/.bz2/.zst`` accepted)."""
    gcd = Path(gcd)
    if gcd.is_file():
        return gcd
    if not gcd.is_dir():
        raise GeometryError(f"GCD path {gcd} is neither a file nor a folder")
    name = Path(LEGACY_BASELINES.get(base_filename, base_filename)).name
    for suffix in GCD_SUFFIXES:
        if (gcd / (name + suffix)).is_file():
            return gcd / (name + suffix)
    raise GeometryError(f"the event needs baseline GCD file {name!r}, not found in {gcd}")


def geometry_from_omgeo(omgeo: dict[OMKey, OMGeo], source: str) -> Geometry:
    """In-ice DOMs (OM type 20) of an OMKey → OMGeo map."""
    rows = [(s, o, g.x, g.y, g.z) for (s, o, _), g in omgeo.items() if g.omtype == OMTYPE_ICECUBE]
    if not rows:
        raise GeometryError(f"{source}: the geometry holds no in-ice DOM")
    a = np.array(rows, np.float64)
    return Geometry(a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4], source=source)


def read_gcd_geometry(path: str | Path, diff: GeometryDiffHeader | None = None) -> Geometry:
    """In-ice DOM positions from the first ``I3Geometry`` in an ``.i3`` GCD file.

    ``diff`` (an ``I3GeometryDiff`` header from an alert) adds/replaces its ``plus`` DOMs and
    removes its ``minus`` DOMs. The ``I3Geometry`` decoder awaits a check on a real GCD file.
    """
    return geometry_from_omgeo(read_omgeo_map(path, diff), f"GCD {Path(path).name}")
