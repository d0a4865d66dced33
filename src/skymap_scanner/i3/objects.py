"""Decoders of the small frame objects (docs/i3-format.md §3.3).

POD holders, ``I3Time``, ``I3EventHeader``, ``I3Position``, ``I3Direction``, ``OMKey``,
``I3TimeWindow`` (and its series map), ``I3VectorOMKey`` and ``I3SuperDSTTriggerSeries``. Each
``read_*`` takes an :class:`ArchiveReader` positioned after the blob prologue (or at a nested
member) and the class version where the caller read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from skymap_scanner.i3.archive import ArchiveReader, check_version
from skymap_scanner.i3.i3time import I3Time

OMKey = tuple[int, int, int]  # (string, om, pmt)

#: daqTime cannot exceed one (leap) year plus leap seconds: 367 days of 0.1 ns ticks
MAX_DAQ_TIME = 367 * 86400 * 10**10


@dataclass(frozen=True)
class EventHeader:
    """``I3EventHeader``: run, sub-run, event, sub-event and the readout start/end times."""

    run_id: int
    subrun_id: int
    event_id: int
    state: int
    sub_event_id: int
    sub_event_stream: str
    start: I3Time
    end: I3Time


@dataclass(frozen=True)
class Trigger:
    """One ``I3SuperDSTTrigger``: index into the D-frame trigger map, start and length [ns]."""

    index: int
    start: int
    length: int


# -- POD holders ---------------------------------------------------------------------------------
def read_double(r: ArchiveReader, version: int) -> float:
    return r.f64("I3Double value")


def read_bool(r: ArchiveReader, version: int) -> bool:
    value = r.u8("I3Bool value")
    if value > 1:
        r.fail(f"I3Bool value {value} is neither 0 nor 1", r.pos - 1)
    return bool(value)


def read_int(r: ArchiveReader, version: int) -> int:
    return r.i32("I3Int value")


def read_string(r: ArchiveReader, version: int) -> str:
    return r.string("I3String value")


# -- nested classes ------------------------------------------------------------------------------
def read_nested_time(r: ArchiveReader) -> I3Time:
    """``I3Time`` member: class info on first use, object id, base, i32 year, i64 daqTime."""
    check_version(r, "I3Time", r.class_info("I3Time"), (0,))
    r.frame_object_base()
    return I3Time(r.i32("I3Time year"), r.i64("I3Time daqTime"))


def read_nested_position(r: ArchiveReader) -> tuple[float, float, float]:
    """``I3Position`` member → (x, y, z) [m]."""
    check_version(r, "I3Position", r.class_info("I3Position"), (0,))
    r.frame_object_base()
    return read_position(r, 0)


def read_nested_direction(r: ArchiveReader) -> tuple[float, float]:
    """``I3Direction`` member → (zenith, azimuth) [rad]."""
    check_version(r, "I3Direction", r.class_info("I3Direction"), (0,))
    r.frame_object_base()
    return r.f64("zenith"), r.f64("azimuth")


def read_omkey(r: ArchiveReader) -> OMKey:
    """``OMKey`` (v2: i32 string, u32 om, u8 pmt; v1 adds a frame-object base; v0 has no pmt)."""
    version = r.class_info("OMKey")
    check_version(r, "OMKey", version, (0, 1, 2))
    if version <= 1:
        r.frame_object_base()
    string = r.i32("OMKey string")
    om = r.u32("OMKey om")
    pmt = r.u8("OMKey pmt") if version >= 1 else 0
    return string, om, pmt


def read_time_window_member(r: ArchiveReader) -> tuple[float, float]:
    """``I3TimeWindow`` member (v1 with a frame-object base, v0 without)."""
    version = r.class_info("I3TimeWindow")
    check_version(r, "I3TimeWindow", version, (0, 1))
    if version >= 1:
        r.frame_object_base()
    return r.f64("time window start"), r.f64("time window stop")


# -- frame objects ---------------------------------------------------------------------------------
def read_time(r: ArchiveReader, version: int) -> I3Time:
    check_version(r, "I3Time", version, (0,))
    return I3Time(r.i32("I3Time year"), r.i64("I3Time daqTime"))


def read_event_header(r: ArchiveReader, version: int) -> EventHeader:
    check_version(r, "I3EventHeader", version, (3,))
    run, subrun, event = r.u32("run"), r.u32("subrun"), r.u32("event")
    state, sub_event_id = r.i32("state"), r.u32("sub_event_id")
    stream = r.string("sub_event_stream")
    at = r.pos
    start = read_nested_time(r)
    if not (1 <= start.year <= 9999 and 0 <= start.daq_time <= MAX_DAQ_TIME):
        r.fail(f"event start time out of range: year {start.year}, daqTime {start.daq_time}", at)
    end = read_nested_time(r)
    return EventHeader(run, subrun, event, state, sub_event_id, stream, start, end)


def read_position(r: ArchiveReader, version: int) -> tuple[float, float, float]:
    check_version(r, "I3Position", version, (0,))
    return r.f64("x"), r.f64("y"), r.f64("z")


def read_direction(r: ArchiveReader, version: int) -> tuple[float, float]:
    check_version(r, "I3Direction", version, (0,))
    return r.f64("zenith"), r.f64("azimuth")


def read_time_window(r: ArchiveReader, version: int) -> tuple[float, float]:
    check_version(r, "I3TimeWindow", version, (1,))
    return r.f64("time window start"), r.f64("time window stop")


def read_time_window_series_map(r: ArchiveReader, version: int) -> dict[OMKey, list[tuple[float, float]]]:
    """OMKey → list of (start, stop) [ns]."""
    r.class_info("map<OMKey,I3TimeWindowSeries>")
    out: dict[OMKey, list[tuple[float, float]]] = {}
    for _ in range(r.count(12, "time-window map")):
        r.class_info("pair<OMKey,I3TimeWindowSeries>")
        key = read_omkey(r)
        check_version(r, "I3TimeWindowSeries", r.class_info("I3TimeWindowSeries"), (1,))
        r.frame_object_base()
        r.class_info("list<I3TimeWindow>")
        out[key] = [read_time_window_member(r) for _ in range(r.count(16, "time-window list"))]
    return out


def read_vector_omkey(r: ArchiveReader, version: int) -> list[OMKey]:
    r.class_info("vector<OMKey>")
    return [read_omkey(r) for _ in range(r.count(9, "OMKey vector"))]


def read_size_codec(r: ArchiveReader) -> int:
    """``SizeCodec``: tag < 247 is the value, else ``255 - tag`` little-endian bytes follow."""
    r.class_info("SizeCodec")
    tag = r.u8("SizeCodec tag")
    if tag < 247:
        return tag
    return int.from_bytes(r.raw(255 - tag, "SizeCodec value"), "little")


def read_trigger_series(r: ArchiveReader, version: int) -> list[Trigger]:
    """``I3SuperDSTTriggerSeries`` (v0): start times are a running sum (the first is absolute)."""
    check_version(r, "I3SuperDSTTriggerSeries", version, (0,))
    n = read_size_codec(r)
    if n * 3 > r.remaining:
        r.fail(f"trigger count {n} exceeds the {r.remaining} bytes left")
    triggers = []
    start = 0
    for _ in range(n):
        tag = r.u8("trigger tag")
        length_high = read_size_codec(r)
        start += read_size_codec(r)
        triggers.append(Trigger(tag & 0xF, start, (length_high << 4) | (tag >> 4)))
    return triggers
