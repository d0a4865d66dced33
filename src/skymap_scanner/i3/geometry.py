"""Geometry sources: a DOM table (CSV), an IceCube GCD file, and interpolation for missing DOMs.

The table ``icecube86.csv`` (columns ``string, om, x, y, z, dom_type, …``; docs/i3-format.md §8.4) lacks
77 in-ice DOMs; a hit on one of them gets a position interpolated along its string.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from skymap_scanner.event.model import EventError, Geometry, dom_key, dom_of_key
from skymap_scanner.i3.gcd import OMTYPE_ICECUBE, GeometryDiffHeader, OMGeo
from skymap_scanner.i3.gcd_file import read_omgeo_map
from skymap_scanner.i3.objects import OMKey
from skymap_scanner.i3.pulses import MAX_INICE_OM

#: environment variable naming a default geometry table
GEOMETRY_TABLE_ENV = "SKYSCAN_GEOMETRY_TABLE"
#: baseline names written by old alerts → the file upstream uses (docs/upstream-behaviour.md §3.3)
LEGACY_BASELINES = {"current-gcd": "2016_01_08_Run127381.i3"}
GCD_SUFFIXES = ("", ".gz", ".bz2", ".zst")
_REQUIRED_COLUMNS = ("string", "om", "x", "y", "z")
#: largest geometry table read [bytes] (the IceCube-86 table: 0.27 MB)
MAX_TABLE_BYTES = 64 * 1024 * 1024


class GeometryError(EventError):
    """No usable geometry: a missing or malformed table/GCD, or a DOM without a position."""


def _read_columns(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(N, 5) string, om, x, y, z and the ``dom_type`` column (``None`` when the table has none)."""
    if not path.is_file():  # a FIFO or device (/dev/zero) would hang or exhaust memory
        raise GeometryError(f"{path}: not a regular file")
    if path.stat().st_size > MAX_TABLE_BYTES:
        raise GeometryError(f"{path}: {path.stat().st_size} bytes, more than a geometry table's {MAX_TABLE_BYTES}")
    try:
        with path.open() as f:
            header = [name.strip() for name in f.readline().split(",")]
        missing = [c for c in _REQUIRED_COLUMNS if c not in header]
        if missing:
            raise GeometryError(f"{path}: geometry table lacks column(s) {missing}")
        columns = [header.index(c) for c in _REQUIRED_COLUMNS]
        if "dom_type" in header:
            columns.append(header.index("dom_type"))
        data = np.loadtxt(path, delimiter=",", skiprows=1, usecols=columns, ndmin=2)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise GeometryError(f"{path}: malformed or unreadable geometry table ({e})") from None
    return data[:, :5], (data[:, 5] if data.shape[1] > 5 else None)


def read_geometry_table(path: str | Path) -> Geometry:
    """In-ice DOMs of a CSV table (``dom_type`` 20 when the column exists, else OM ≤ 60) [m]."""
    path = Path(path)
    a, dom_type = _read_columns(path)
    a = a[dom_type == OMTYPE_ICECUBE] if dom_type is not None else a[a[:, 1] <= MAX_INICE_OM]
    if not len(a):
        raise GeometryError(f"{path}: no in-ice DOMs in the geometry table")
    if not np.isfinite(a).all():
        raise GeometryError(f"{path}: geometry table holds non-finite values")
    try:
        return Geometry(a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4], source=f"table {path.name}")
    except GeometryError:
        raise
    except EventError as e:
        raise GeometryError(f"{path}: {e}") from None


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
    DeepCore strings; docs/i3-format.md §8.4). The source notes how many DOMs were added.
    """
    missing = np.setdiff1d(np.unique(dom_key(string, om)), geometry.keys())
    if not len(missing):
        return geometry
    missing_string, missing_om = dom_of_key(missing)
    added = np.array([_interpolate_one(geometry, int(s), int(o))
                      for s, o in zip(missing_string, missing_om, strict=True)])
    pos = np.vstack([geometry.positions(), added])
    return Geometry(
        np.r_[geometry.string, missing_string], np.r_[geometry.om, missing_om],
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
