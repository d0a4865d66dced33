"""Geometry frame objects: ``I3Geometry`` and the ``I3GeometryDiff`` header (docs/i3-format.md §8).

The ``I3GeometryDiff`` header is verified on the sample alerts. ``I3Geometry``/``I3OMGeo`` follow
the layout read from the IceTray sources; no real baseline GCD file was available to check them.
Only the DOM map is read (everything after it is ignored).
"""

from __future__ import annotations

from dataclasses import dataclass

from skymap_scanner.i3.archive import ArchiveReader, check_version
from skymap_scanner.i3.objects import OMKey, read_nested_position, read_omkey

#: I3OMGeo::OMType of in-ice IceCube/DeepCore DOMs (dataclasses/public/dataclasses/geometry/I3OMGeo.h)
OMTYPE_ICECUBE = 20


@dataclass(frozen=True)
class OMGeo:
    """One DOM: position [m], OM type, effective area [m²], PMT type (v2; 0 when absent)."""

    x: float
    y: float
    z: float
    omtype: int
    area: float
    pmt_type: int = 0


@dataclass(frozen=True)
class GeometryDiffHeader:
    """The start of an ``I3GeometryDiff``: the baseline file and the DOMs added or removed."""

    base_filename: str
    plus: dict[OMKey, OMGeo]
    minus: list[OMKey]


def _read_orientation(r: ArchiveReader) -> None:
    """``I3Orientation`` (frame-object base + ``I3Quaternion`` x, y, z, w); not needed, skipped."""
    check_version(r, "I3Orientation", r.class_info("I3Orientation"), (0,))
    r.frame_object_base()
    check_version(r, "I3Quaternion", r.class_info("I3Quaternion"), (0,))
    r.frame_object_base()
    r.raw(32, "I3Quaternion")


def read_omgeo(r: ArchiveReader) -> OMGeo:
    """``I3OMGeo`` v0-v2: position, orientation (v0: an enum), OM type, area, (v0 azimuth),
    (v2 PMT type)."""
    version = r.class_info("I3OMGeo")
    check_version(r, "I3OMGeo", version, (0, 1, 2))
    x, y, z = read_nested_position(r)
    if version == 0:
        r.i32("orientation")
    else:
        _read_orientation(r)
    omtype, area = r.i32("OMType"), r.f64("area")
    if version == 0:
        r.f64("azimuth")
    pmt_type = r.i32("PMTType") if version >= 2 else 0
    return OMGeo(x, y, z, omtype, area, pmt_type)


def _read_omgeo_map(r: ArchiveReader, cpp_map: str) -> dict[OMKey, OMGeo]:
    r.class_info(cpp_map)
    out: dict[OMKey, OMGeo] = {}
    for _ in range(r.count(13, "OMGeo map")):
        r.class_info("pair<OMKey,I3OMGeo>")
        key = read_omkey(r)
        out[key] = read_omgeo(r)
    return out


def read_geometry(r: ArchiveReader, version: int) -> dict[OMKey, OMGeo]:
    """``I3Geometry`` v0-v3 → its OMGeo map (the ``I3Map`` wrapper from v1 on)."""
    check_version(r, "I3Geometry", version, (0, 1, 2, 3))
    if version >= 1:
        r.class_info("I3OMGeoMap")
        r.frame_object_base()
    return _read_omgeo_map(r, "map<OMKey,I3OMGeo>")


def read_geometry_diff(r: ArchiveReader, version: int) -> GeometryDiffHeader:
    """``I3GeometryDiff`` v0 header: base file name, then the OMGeo map diff's plus and minus."""
    check_version(r, "I3GeometryDiff", version, (0,))
    base = r.string("base_filename")
    r.class_info("I3OMGeoMapDiff")
    r.frame_object_base()
    r.string("OMGeo diff base_filename")
    plus = _read_omgeo_map(r, "map<OMKey,I3OMGeo>")
    r.class_info("vector<OMKey>")
    minus = [read_omkey(r) for _ in range(r.count(9, "OMKey vector"))]
    return GeometryDiffHeader(base, plus, minus)
