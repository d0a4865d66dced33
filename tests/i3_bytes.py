"""Byte-level builders of I3 test data, written from docs/i3-format.md.

Independent of the decoder under test: frames, archives, pickle envelopes and checksums are
assembled here byte by byte (the checksums with plain bitwise CRC loops).
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterable, Sequence


def crc32c_plain(data: bytes) -> int:
    """CRC-32C (reflected 0x82F63B78), register 0, no final inversion: IceTray's v6 checksum."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


def crc16_ccitt(data: bytes) -> int:
    """CRC-16-CCITT (0x1021, MSB first), register 0xFFFF: IceTray's v5 checksum."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def u32str(s: str | bytes) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<I", len(b)) + b


def frame(stop: str, entries: Sequence[tuple[str, str, bytes]], version: int = 6) -> bytes:
    """An I3Frame: tag, version, class info, stop, slots, checksum."""
    body = stop.encode("latin1") + struct.pack("<I", len(entries))
    for key, type_name, blob in entries:
        body += u32str(key) + u32str(type_name) + struct.pack("<I", len(blob)) + blob
    checksum = crc32c_plain(body) if version == 6 else crc16_ccitt(body)
    return b"[i3]" + struct.pack("<I", version) + b"\x00\x00" + body + struct.pack("<I", checksum)


class Archive:
    """Writes one portable-binary-archive blob with per-blob class info and object ids."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.seen: dict[str, bool] = {}
        self.next_oid = 0

    def pack(self, fmt: str, *values: object) -> Archive:
        self.buf += struct.pack("<" + fmt, *values)
        return self

    def string(self, s: str) -> Archive:
        self.buf += u32str(s)
        return self

    def cls(self, cpp_type: str, version: int = 0, tracked: bool = False) -> Archive:
        """Class info on the type's first use, then an object id if it is tracked."""
        if cpp_type not in self.seen:
            self.pack("BB", int(tracked), version)
            self.seen[cpp_type] = tracked
        if self.seen[cpp_type]:
            self.pack("I", self.next_oid)
            self.next_oid += 1
        return self

    def base(self) -> Archive:
        return self.cls("I3FrameObject", 0, True)

    def prologue(self, name: str, version: int) -> Archive:
        self.cls("shared_ptr", 1).pack("h", 2).string(name)
        return self.cls(name, version, True).base()

    def omkey(self, string: int, om: int, pmt: int = 0) -> Archive:
        return self.cls("OMKey", 2, True).pack("iIB", string, om, pmt)

    def position(self, x: float, y: float, z: float) -> Archive:
        return self.cls("I3Position", 0, True).base().pack("ddd", x, y, z)

    def direction(self, zenith: float, azimuth: float) -> Archive:
        return self.cls("I3Direction", 0, True).base().pack("dd", zenith, azimuth)

    def time(self, year: int, daq_time: int) -> Archive:
        return self.cls("I3Time", 0, True).base().pack("iq", year, daq_time)

    def particle(self, pdg: int, shape: int, pos: tuple[float, float, float],
                 direction: tuple[float, float], time: float, energy: float) -> Archive:
        self.cls("I3Particle", 5, True).base().pack("iQiii", 0, 1, pdg, shape, 0)
        self.position(*pos).direction(*direction)
        return self.pack("ddddi", time, energy, 0.0, 0.3, 20)

    def size_codec(self, n: int) -> Archive:
        self.cls("SizeCodec")
        if n < 247:
            return self.pack("B", n)
        nbytes = max(1, (n.bit_length() + 7) // 8)
        self.pack("B", 255 - nbytes)
        self.buf += n.to_bytes(nbytes, "little")
        return self

    def bitmask(self, bits: Sequence[int]) -> Archive:
        nbytes = (len(bits) + 7) // 8
        data = bytearray(nbytes)
        for i, bit in enumerate(bits):
            data[i // 8] |= bit << (i % 8)
        self.cls("bitmask").pack("HB", nbytes, 8 * nbytes - len(bits))
        self.buf += data
        return self

    def bytes(self) -> bytes:
        return bytes(self.buf)


def omgeo(a: Archive, x: float, y: float, z: float, omtype: int, version: int = 1) -> None:
    """I3OMGeo v0-v2 (docs/i3-format.md §8.3)."""
    a.cls("I3OMGeo", version, False).position(x, y, z)
    if version == 0:
        a.pack("i", 1)
    else:
        a.cls("I3Orientation", 0, True).base().cls("I3Quaternion", 0, True).base()
        a.pack("dddd", 0.0, 0.0, 0.0, 1.0)
    a.pack("id", omtype, 0.0444)
    if version == 0:
        a.pack("d", 0.0)
    if version >= 2:
        a.pack("i", 1)


def geometry_blob(doms: Iterable[tuple[int, int, float, float, float, int]], omgeo_version: int = 1) -> bytes:
    """I3Geometry v1: base, I3OMGeoMap (I3Map: base + std::map) of (string, om, x, y, z, omtype)."""
    doms = list(doms)
    a = Archive().prologue("I3Geometry", 1)
    a.cls("I3OMGeoMap", 0, True).base().cls("map").pack("I", len(doms))
    for string, om, x, y, z, omtype in doms:
        a.cls("pair").omkey(string, om)
        omgeo(a, x, y, z, omtype, omgeo_version)
    return a.bytes()


def geometry_diff_blob(base: str, plus: Sequence[tuple[int, int, float, float, float, int]] = (),
                       minus: Sequence[tuple[int, int]] = ()) -> bytes:
    a = Archive().prologue("I3GeometryDiff", 0).string(base)
    a.cls("I3OMGeoMapDiff", 0, True).base().string("").cls("map").pack("I", len(plus))
    for string, om, x, y, z, omtype in plus:
        a.cls("pair").omkey(string, om)
        omgeo(a, x, y, z, omtype)
    a.cls("vector<OMKey>").pack("I", len(minus))
    for string, om in minus:
        a.omkey(string, om)
    return a.bytes() + b"\x00" * 24  # station diffs and times follow (not decoded)


def pulse_map_blob(doms: Sequence[tuple[tuple[int, int], Sequence[tuple[float, float, float, int]]]]) -> bytes:
    """I3RecoPulseSeriesMap of ((string, om), [(time, charge, width, flags), ...])."""
    a = Archive().prologue("I3RecoPulseSeriesMap", 0).cls("map").pack("I", len(doms))
    for (string, om), pulses in doms:
        a.cls("pair").omkey(string, om).cls("vector<I3RecoPulse>").pack("I", len(pulses))
        for t, q, w, flags in pulses:
            a.cls("I3RecoPulse", 3, True).pack("dffB", t, q, w, flags)
    return a.bytes()


def mask_blob(source: str, omkey_bits: Sequence[int], element_bits: Sequence[Sequence[int]],
              version: int = 2) -> bytes:
    a = Archive().prologue("I3RecoPulseSeriesMapMask", version).string(source)
    if version == 1:
        a.pack("f", 0.0)
    a.bitmask(omkey_bits).cls("vector<bitmask>").pack("I", len(element_bits))
    for bits in element_bits:
        a.bitmask(bits)
    return a.bytes()


def superdst_v1_blob(stamps: Sequence[int], headers: Sequence[int], widths: Sequence[bytes],
                     extra: bytes = b"") -> bytes:
    """I3SuperDST v1 from raw streams (u16 stamps, u16 DOM headers, 4 width run streams, extra)."""
    a = Archive().prologue("I3SuperDST", 1)
    a.cls("CompactVector<ChargeStamp>").size_codec(len(stamps)).pack(f"{len(stamps)}H", *stamps)
    a.cls("CompactVector<DOMHeader>").size_codec(len(headers)).pack(f"{len(headers)}H", *headers)
    for stream in [*widths, extra]:
        a.cls("CompactVector<u8>").size_codec(len(stream))
        a.buf += stream
    return a.bytes()


def superdst_v0_blob(stamps: Sequence[int], headers: Sequence[int]) -> bytes:
    a = Archive().prologue("I3SuperDST", 0).pack("H", len(stamps))
    return a.pack(f"{len(stamps)}H", *stamps).pack(f"{len(headers)}H", *headers).bytes()


def dom_header(string: int, om: int, slop: int = 0) -> int:
    return (slop << 13) | (string << 6) | (om - 1)


def stamp(rel_time: int, charge: int, hlc: int, stop: int) -> int:
    return rel_time | (charge << 8) | (hlc << 14) | (stop << 15)


def event_header_blob(run: int, event: int, sub_event: int, year: int, daq_time: int,
                      stream: str = "InIceSplit") -> bytes:
    a = Archive().prologue("I3EventHeader", 3).pack("IIIiI", run, 0, event, 20, sub_event).string(stream)
    return a.time(year, daq_time).time(year, daq_time + 10**8).bytes()


def pod_blob(name: str, fmt: str, value: object) -> bytes:
    return Archive().prologue(name, 0).pack(fmt, value).bytes()


# -- pickle envelopes (docs/i3-format.md §1.2) -------------------------------------------------------------
def _binstring(data: bytes) -> bytes:
    return b"T" + struct.pack("<I", len(data)) + data


def _binunicode(text: str) -> bytes:
    raw = text.encode("utf-8")
    return b"X" + struct.pack("<I", len(raw)) + raw


def envelope(frame_bytes: bytes, variant: str) -> bytes:
    """A frame pickle as each producer writes it: "py2", "py3-proto2" or "proto4"."""
    if variant == "py2":
        return (b"\x80\x02cicecube.icetray\nI3Frame\nq\x01)Rq\x02}q\x03"
                + _binstring(frame_bytes) + b"\x86b.")
    if variant == "py3-proto2":
        return (b"\x80\x02cicecube._icetray\nI3Frame\nq\x00)Rq\x01}q\x02c_codecs\nencode\nq\x03"
                + _binunicode(frame_bytes.decode("latin1")) + b"q\x04" + _binunicode("latin1")
                + b"q\x05\x86q\x06Rq\x07\x86q\x08b.")
    if variant == "proto4":
        module, name = b"icecube._icetray", b"I3Frame"
        return (b"\x80\x04\x8c" + bytes([len(module)]) + module + b"\x94\x8c" + bytes([len(name)]) + name
                + b"\x94\x93\x94)\x81\x94}\x94B" + struct.pack("<I", len(frame_bytes)) + frame_bytes
                + b"\x94\x86\x94b.")
    raise ValueError(variant)


def frame_string(frame_bytes: bytes, variant: str = "py2") -> str:
    """base64(zlib(pickle)) as stored in a message."""
    return base64.b64encode(zlib.compress(envelope(frame_bytes, variant))).decode()
