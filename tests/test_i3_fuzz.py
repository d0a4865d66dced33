"""Bad input never escapes as anything but the project's decode error, and never hangs.

Truncated, bit-flipped and wrong-version data at every level: message files, frame pickles, frame
containers, and blobs whose frame checksum was recomputed (so the decoders themselves are hit).
"""

from __future__ import annotations

import contextlib
import os
import pickle

import i3_bytes as b
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skymap_scanner.i3.alert import AlertPacket, read_alert_event, read_alert_packet
from skymap_scanner.i3.envelope import frame_bytes_from_pickle
from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.frame import parse_frame
from skymap_scanner.i3.framestack import FrameStack
from skymap_scanner.i3.registry import DECODERS, class_name

BRONZE = "run00136662-evt000035405932-BRONZE.pkl"
#: examples per property (raise FUZZ_N for a longer hunt, e.g. FUZZ_N=800 with --timeout=0)
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_N", "60")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
pytestmark = [pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def bronze(shared_data):
    packet = read_alert_packet(shared_data / "events" / BRONZE)
    entries = [(i, key) for i, f in enumerate(packet.stack.frames) if f.stop in "QP" for key in f.entries]
    return packet, entries


def _raw(frame) -> bytes:
    return b.frame(frame.stop, [(k, e.type_name, e.blob) for k, e in frame.entries.items()], frame.version)


def _decode_all(stack: FrameStack) -> None:
    """Decode every decodable entry, resolve the event pulses, read header, type, fits and vertex."""
    for i, frame in enumerate(stack.frames):
        for key in frame.entries:
            if class_name(frame.entry(key), frame.label) in DECODERS:
                stack.get(key, i)
    packet = AlertPacket("fuzz", "2021a", stack)
    packet.pulses().to_pulses()
    packet.header().start.mjd  # noqa: B018 - the conversion must not fail either
    packet.event_type()
    packet.online_fits()
    packet.online_vertex()


def _must_fail_cleanly(call) -> None:
    """``call`` either succeeds (the damage was harmless) or raises I3DecodeError, nothing else."""
    with contextlib.suppress(I3DecodeError):
        call()


@pytest.mark.shared_data
@FUZZ
@given(data=st.data())
def test_truncated_or_bit_flipped_frames(bronze, data):
    packet, _ = bronze
    frame = data.draw(st.sampled_from(packet.stack.frames))
    raw = _raw(frame)
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(I3DecodeError):
        parse_frame(raw[:cut], 1)
    bit = data.draw(st.integers(0, 8 * len(raw) - 1))
    flipped = bytearray(raw)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(I3DecodeError):
        parse_frame(bytes(flipped), 1)


def _corrupt(blob: bytes, data) -> bytes:
    kind = data.draw(st.sampled_from(["flip", "byte", "truncate", "version"]))
    if kind == "truncate":
        return blob[: data.draw(st.integers(0, len(blob) - 1))]
    out = bytearray(blob)
    if kind == "version":  # the concrete class version follows the name: 00 01 | 02 00 | len | name | 01 VV
        at = 8 + int.from_bytes(blob[4:8], "little") + 1
        out[at] = data.draw(st.integers(0, 255))
    elif kind == "byte":
        out[data.draw(st.integers(0, len(out) - 1))] = data.draw(st.integers(0, 255))
    else:
        for _ in range(data.draw(st.integers(1, 4))):
            bit = data.draw(st.integers(0, 8 * len(out) - 1))
            out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@pytest.mark.shared_data
@FUZZ
@given(data=st.data())
def test_corrupt_blobs_with_valid_checksums(bronze, data):
    packet, entries = bronze
    index, key = data.draw(st.sampled_from(entries))
    frames = []
    for i, frame in enumerate(packet.stack.frames):
        items = [(k, e.type_name, _corrupt(e.blob, data) if (i, k) == (index, key) else e.blob)
                 for k, e in frame.entries.items()]
        frames.append(parse_frame(b.frame(frame.stop, items), i + 1))
    _must_fail_cleanly(lambda: _decode_all(FrameStack(frames)))


@FUZZ
@given(st.binary(max_size=300))
def test_random_frame_pickles(data):
    _must_fail_cleanly(lambda: frame_bytes_from_pickle(data, "P frame #1"))


@FUZZ
@given(st.binary(max_size=2000))
def test_random_frames(data):
    _must_fail_cleanly(lambda: parse_frame(b"[i3]\x06\x00\x00\x00\x00\x00" + data, 1))


@pytest.mark.shared_data
@FUZZ
@given(data=st.data())
def test_damaged_message_files(shared_data, geometry_table, tmp_path_factory, data):
    source = shared_data / "events" / BRONZE
    raw = bytearray(source.read_bytes())
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        for _ in range(data.draw(st.integers(1, 3))):
            bit = data.draw(st.integers(0, 8 * len(raw) - 1))
            raw[bit // 8] ^= 1 << (bit % 8)
    path = tmp_path_factory.mktemp("fuzz") / BRONZE
    path.write_bytes(bytes(raw))
    _must_fail_cleanly(lambda: read_alert_event(path, geometry_table=geometry_table))


@pytest.mark.shared_data
@pytest.mark.parametrize("cut", [10, 1000, 50_000, -2])
def test_truncated_json_message(shared_data, tmp_path, cut):
    path = tmp_path / "hese.json"
    path.write_bytes((shared_data / "events" / "hese_event_01.json").read_bytes()[:cut])
    with pytest.raises(I3DecodeError):
        read_alert_packet(path)


def test_pickled_message_with_wrong_frame_version(tmp_path):
    frame = bytearray(b.frame("P", []))
    frame[4] = 7
    message = {"value": {"data": {"frames": [["Q", b.frame_string(b.frame("Q", []))],
                                             ["P", b.frame_string(bytes(frame))]]}}}
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(message, protocol=3))
    with pytest.raises(I3DecodeError, match="frame #2, byte 4: .*m.pkl: unsupported I3Frame version 7"):
        read_alert_packet(path)
