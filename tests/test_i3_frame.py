"""The I3Frame container, its checksums, and .i3 files (plain, gzip, bzip2, zstd)."""

from __future__ import annotations

import bz2
import gzip
import struct

import i3_bytes as b
import pytest
import zstandard

from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.files import iter_frames
from skymap_scanner.i3.frame import icetray_crc16, icetray_crc32c, parse_frame

ENTRIES = [("Alpha", "I3PODHolder<double>", b.pod_blob("I3Double", "d", 2.5)),
           ("beta", "I3PODHolder<bool>", b.pod_blob("I3Bool", "B", 1))]
FRAME = b.frame("Q", ENTRIES)


@pytest.mark.parametrize("data", [b"", b"123456789", bytes(range(256)) * 3])
def test_checksums_follow_icetray_convention(data):
    assert icetray_crc32c(data) == b.crc32c_plain(data)
    assert icetray_crc16(data) == b.crc16_ccitt(data)


def test_standard_crc32c_check_value_differs_by_the_inversions():
    # CRC-32C("123456789") = 0xE3069283 with the usual pre/post inversion (RFC 3720 check value)
    assert icetray_crc32c(b"123456789") != 0xE3069283
    assert b.crc32c_plain(b"123456789") == icetray_crc32c(b"123456789")


@pytest.mark.parametrize("version", [5, 6])
def test_frame_built_from_the_spec_parses(version):
    frame = parse_frame(b.frame("Q", ENTRIES, version), 4)
    assert (frame.stop, frame.version, frame.label) == ("Q", version, "Q frame #4")
    assert list(frame.entries) == ["Alpha", "beta"]
    entry = frame.entry("Alpha")
    assert entry.type_name == "I3PODHolder<double>" and entry.blob == ENTRIES[0][2]
    raw = b.frame("Q", ENTRIES, version)
    assert raw[entry.offset : entry.offset + len(entry.blob)] == entry.blob


def test_every_truncation_is_a_decode_error():
    for n in range(len(FRAME)):
        with pytest.raises(I3DecodeError):
            parse_frame(FRAME[:n], 1)


def test_every_bit_flip_is_a_decode_error():
    for i in range(len(FRAME)):
        for bit in range(8):
            data = bytearray(FRAME)
            data[i] ^= 1 << bit
            with pytest.raises(I3DecodeError):
                parse_frame(bytes(data), 1)


def test_checksum_error_names_frame_and_offset():
    data = bytearray(FRAME)
    data[-10] ^= 0x40
    with pytest.raises(I3DecodeError, match=r"Q frame #2, byte \d+: checksum mismatch"):
        parse_frame(bytes(data), 2)


@pytest.mark.parametrize("version", [4, 7, 2**31])
def test_unsupported_versions(version):
    data = FRAME[:4] + struct.pack("<I", version) + FRAME[8:]
    with pytest.raises(I3DecodeError, match=f"unsupported I3Frame version {version}"):
        parse_frame(data, 1)


def test_trailing_bytes_and_duplicate_keys_are_refused():
    with pytest.raises(I3DecodeError, match="follow the frame"):
        parse_frame(FRAME + b"\x00", 1)
    with pytest.raises(I3DecodeError, match="occurs twice"):
        parse_frame(b.frame("Q", [ENTRIES[0], ENTRIES[0]]), 1)


def test_truncated_blob_names_the_key():
    cut = FRAME[: FRAME.index(ENTRIES[1][2]) + 3]
    with pytest.raises(I3DecodeError, match="key 'beta'"):
        parse_frame(cut, 1)


def test_implausible_lengths_fail_without_allocating():
    data = FRAME[:15] + struct.pack("<I", 2**32 - 1) + FRAME[19:]
    with pytest.raises(I3DecodeError, match="implausible key length"):
        parse_frame(data, 1)


COMPRESSORS = {
    "plain": lambda d: d,
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "zst": lambda d: zstandard.ZstdCompressor().compress(d),
    "zst-two-frames": lambda d: b"".join(zstandard.ZstdCompressor().compress(x) for x in (d[:50], d[50:])),
}


#: a frame larger than one decompression chunk (64 kB)
BIG = b.frame("I", [("TrayInfo", "I3TrayInfo", bytes(range(256)) * 257)])


@pytest.mark.parametrize("kind", COMPRESSORS)
def test_i3_files_in_every_compression(tmp_path, kind):
    frames = [BIG, FRAME, b.frame("P", ENTRIES[1:])]
    path = tmp_path / f"f.i3.{kind}"
    path.write_bytes(COMPRESSORS[kind](b"".join(frames)))
    got = list(iter_frames(path))
    assert [f.label for f in got] == ["I frame #1", "Q frame #2", "P frame #3"]
    assert got[1].entry("beta").blob == ENTRIES[1][2]


@pytest.mark.parametrize("kind", ["gz", "bz2", "zst"])
def test_corrupt_or_truncated_compressed_files(tmp_path, kind):
    data = COMPRESSORS[kind](FRAME * 3)
    path = tmp_path / f"f.i3.{kind}"
    for bad in (data[: len(data) // 2], data[:20] + bytes(x ^ 0x55 for x in data[20:40]) + data[40:]):
        path.write_bytes(bad)
        with pytest.raises(I3DecodeError, match=str(path)):
            list(iter_frames(path))


def test_missing_file_and_garbage_file(tmp_path):
    with pytest.raises(I3DecodeError, match="cannot open"):
        list(iter_frames(tmp_path / "none.i3"))
    (tmp_path / "junk.i3").write_bytes(b"hello world")
    with pytest.raises(I3DecodeError, match="not an I3 frame"):
        list(iter_frames(tmp_path / "junk.i3"))
