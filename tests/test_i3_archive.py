"""The portable binary archive reader and the small frame objects, on blobs built from the spec."""

from __future__ import annotations

import i3_bytes as b
import pytest

from skymap_scanner.i3.archive import ArchiveReader
from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.frame import FrameEntry
from skymap_scanner.i3.i3time import I3Time
from skymap_scanner.i3.objects import EventHeader, Trigger, read_size_codec
from skymap_scanner.i3.registry import class_name, decode_entry


def decode(blob: bytes, key: str = "k"):
    return decode_entry(FrameEntry(key, "whatever<demangled>", blob, 100), "P frame #5")


@pytest.mark.parametrize("data, value", [(b"\x00", 0), (b"\xf6", 246), (b"\xfd\x19\x04", 1049),
                                         (b"\xfe\x2a", 42), (b"\xf7" + (2**60).to_bytes(8, "little"), 2**60)])
def test_size_codec(data, value):
    r = ArchiveReader(b"\x00\x00" + data, frame="Q frame #4", key="I3SuperDST")
    assert read_size_codec(r) == value and r.remaining == 0


@pytest.mark.parametrize("name, fmt, value", [("I3Double", "d", -1.25), ("I3Bool", "B", True),
                                               ("I3Int", "i", -7)])
def test_pod_holders(name, fmt, value):
    assert decode(b.pod_blob(name, fmt, value)) == value


def test_string_holder_and_class_dispatch_ignores_the_type_name():
    blob = b.Archive().prologue("I3String", 0).string('{"hese": 1}').bytes()
    entry = FrameEntry("AlertShortFollowupMsg", "I3PODHolder<__cxx11::string >", blob, 0)
    assert class_name(entry, "P frame #5") == "I3String"
    assert decode(blob) == '{"hese": 1}'


def test_event_header_and_time():
    header = decode(b.event_header_blob(136766, 7637140, 3, 2022, 150919964052594113))
    assert isinstance(header, EventHeader)
    assert (header.run_id, header.event_id, header.sub_event_id, header.sub_event_stream) == (
        136766, 7637140, 3, "InIceSplit")
    assert header.start == I3Time(2022, 150919964052594113)
    assert header.end.daq_time - header.start.daq_time == 10**8


def test_i3time_handles_a_leap_second_inside_the_year():
    # 2015-06-30 had a leap second: daqTime of 2015-07-01 00:00:00 UTC counts 181 days + 1 s
    t = I3Time(2015, (181 * 86400 + 1) * 10**10)
    assert t.to_datetime().isoformat() == "2015-07-01T00:00:00"
    assert t.mjd == 57204.0


def test_particle_position_direction():
    a = b.Archive().prologue("I3Particle", 5).pack("iQiii", 7, 99, 13, 40, 0)
    blob = a.position(1.0, 2.0, 3.0).direction(0.5, 1.5).pack("ddddi", 100.0, 2e3, 5.0, 0.3, 20).bytes()
    p = decode(blob)
    assert (p.minor_id, p.major_id, p.pdg, p.shape_name, p.location) == (7, 99, 13, "InfiniteTrack", 20)
    model = p.to_particle()
    assert (model.x, model.y, model.z, model.zenith, model.azimuth, model.time, model.energy) == (
        1.0, 2.0, 3.0, 0.5, 1.5, 100.0, 2e3)
    assert decode(b.Archive().prologue("I3Position", 0).pack("ddd", 1, 2, 3).bytes()) == (1, 2, 3)
    assert decode(b.Archive().prologue("I3Direction", 0).pack("dd", 1, 2).bytes()) == (1, 2)


def test_time_window_series_map_and_vector_omkey():
    a = b.Archive().prologue("I3TimeWindowSeriesMap", 0).cls("map").pack("I", 2)
    for string, windows in ((1, [(1.0, 2.0)]), (2, [(3.0, 4.0), (5.0, 6.0)])):
        a.cls("pair").omkey(string, 38).cls("I3TimeWindowSeries", 1, True).base()
        a.cls("list").pack("I", len(windows))
        for start, stop in windows:
            a.cls("I3TimeWindow", 1, True).base().pack("dd", start, stop)
    assert decode(a.bytes()) == {(1, 38, 0): [(1.0, 2.0)], (2, 38, 0): [(3.0, 4.0), (5.0, 6.0)]}
    v = b.Archive().prologue("I3VectorOMKey", 0).cls("vector").pack("I", 2).omkey(79, 1).omkey(86, 60)
    assert decode(v.bytes()) == [(79, 1, 0), (86, 60, 0)]
    assert decode(b.Archive().prologue("I3TimeWindow", 1).pack("dd", -5.0, 7.5).bytes()) == (-5.0, 7.5)


def test_trigger_series_running_start():
    a = b.Archive().prologue("I3SuperDSTTriggerSeries", 0).size_codec(2)
    a.pack("B", (0xF << 4) | 2).size_codec(76503).size_codec(10000)  # length 76503 << 4 | 15
    a.pack("B", 0x10).size_codec(0).size_codec(725657)
    assert decode(a.bytes()) == [Trigger(2, 10000, (76503 << 4) | 0xF), Trigger(0, 735657, 1)]


def test_errors_name_frame_key_and_offset():
    blob = b.pod_blob("I3Double", "d", 1.0)
    with pytest.raises(I3DecodeError, match=r"P frame #5, key 'k', byte 1\d\d: truncated"):
        decode(blob[:-1])
    with pytest.raises(I3DecodeError, match="bytes left over"):
        decode(blob + b"\x00")
    with pytest.raises(I3DecodeError, match="no decoder for class 'I3Mystery'"):
        decode(b.pod_blob("I3Mystery", "d", 1.0))
    with pytest.raises(I3DecodeError, match="unsupported I3EventHeader class version 9"):
        decode(b.Archive().prologue("I3EventHeader", 9).bytes())
    with pytest.raises(I3DecodeError, match="unexpected class id 5"):
        decode(b"\x00\x01\x05\x00" + blob[4:])


def test_object_id_back_reference_is_refused():
    a = b.Archive().prologue("I3VectorOMKey", 0).cls("vector").pack("I", 2).omkey(1, 1)
    a.next_oid -= 1  # the second OMKey repeats the first id
    with pytest.raises(I3DecodeError, match="object id 2, expected 3"):
        decode(a.omkey(1, 2).bytes())


def test_huge_counts_fail_before_allocating():
    a = b.Archive().prologue("I3VectorOMKey", 0).cls("vector").pack("I", 2**32 - 1)
    with pytest.raises(I3DecodeError, match="exceeds"):
        decode(a.bytes())


def test_event_start_time_out_of_range():
    with pytest.raises(I3DecodeError, match="start time out of range"):
        decode(b.event_header_blob(1, 2, 0, 0, 5))
