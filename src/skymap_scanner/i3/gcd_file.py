"""Read the DOM map of a baseline GCD ``.i3`` file, optionally updated by an alert's geometry diff."""

from __future__ import annotations

from pathlib import Path

from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.files import iter_frames
from skymap_scanner.i3.gcd import GeometryDiffHeader, OMGeo
from skymap_scanner.i3.objects import OMKey
from skymap_scanner.i3.registry import class_name, decode_entry

GEOMETRY_KEY = "I3Geometry"


def read_omgeo_map(path: str | Path, diff: GeometryDiffHeader | None = None) -> dict[OMKey, OMGeo]:
    """OMKey → OMGeo from the first frame holding an ``I3Geometry`` (then ``diff`` applied)."""
    for frame in iter_frames(path):
        if GEOMETRY_KEY not in frame:
            continue
        entry = frame.entry(GEOMETRY_KEY)
        name = class_name(entry, frame.label)
        if name != "I3Geometry":
            raise I3DecodeError(f"{path}: {GEOMETRY_KEY} is a {name}, not a full I3Geometry "
                                "(a compressed GCD needs its baseline file)",
                                frame=frame.label, key=GEOMETRY_KEY)
        omgeo = dict(decode_entry(entry, frame.label))
        if diff is not None:
            omgeo.update(diff.plus)
            for key in diff.minus:
                omgeo.pop(key, None)
        return omgeo
    raise I3DecodeError(f"{path}: no frame holds an {GEOMETRY_KEY}")
