"""Decode a frame entry by the class name inside its blob (never by the frame's type name)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skymap_scanner.i3 import gcd, masks, mctree, objects, particle, pulses, superdst
from skymap_scanner.i3.archive import ArchiveReader
from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.frame import FrameEntry

Decoder = Callable[[ArchiveReader, int], Any]

DECODERS: dict[str, Decoder] = {
    "I3Double": objects.read_double,
    "I3Bool": objects.read_bool,
    "I3Int": objects.read_int,
    "I3String": objects.read_string,
    "I3Time": objects.read_time,
    "I3EventHeader": objects.read_event_header,
    "I3Position": objects.read_position,
    "I3Direction": objects.read_direction,
    "I3TimeWindow": objects.read_time_window,
    "I3TimeWindowSeriesMap": objects.read_time_window_series_map,
    "I3VectorOMKey": objects.read_vector_omkey,
    "I3SuperDSTTriggerSeries": objects.read_trigger_series,
    "I3Particle": particle.read_particle,
    "I3RecoPulseSeriesMap": pulses.read_pulse_series_map,
    "I3RecoPulseSeriesMapMask": masks.read_mask,
    "I3SuperDST": superdst.read_superdst,
    "I3MCTree": mctree.read_mctree,
    "I3Geometry": gcd.read_geometry,
    "I3GeometryDiff": gcd.read_geometry_diff,
}
#: decoders that read only the part of the object the scanner needs
HEADER_ONLY = {"I3Geometry", "I3GeometryDiff"}


def class_name(entry: FrameEntry, frame_label: str) -> str:
    """The export class name at the start of the entry's blob."""
    r = ArchiveReader(entry.blob, frame=frame_label, key=entry.key, base=entry.offset)
    return r.prologue()[0]


def decode_entry(entry: FrameEntry, frame_label: str) -> Any:
    """Decode one frame entry; every failure is an :class:`I3DecodeError` naming frame and key."""
    r = ArchiveReader(entry.blob, frame=frame_label, key=entry.key, base=entry.offset)
    name, version = r.prologue()
    decoder = DECODERS.get(name)
    if decoder is None:
        raise r.error(f"no decoder for class {name!r}")
    try:
        value = decoder(r, version)
    except (ValueError, OverflowError, IndexError) as e:  # a safety net for values no check caught
        if isinstance(e, I3DecodeError):
            raise
        raise r.error(f"corrupt {name} ({type(e).__name__}: {e})") from None
    if name not in HEADER_ONLY:
        r.expect_end()
    return value
