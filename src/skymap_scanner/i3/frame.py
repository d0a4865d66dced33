"""The I3Frame container, versions 6 and 5 (docs/i3-format.md §2), with its checksum verified.

Layout: ``[i3]``, u32 version, 2 class-info bytes, u8 stop, u32 nslots, nslots × (u32 str key,
u32 str type name, u32 n + n bytes blob), u32 checksum. The checksum covers every byte from the
stop byte up to itself: CRC-32C with register 0 and no final inversion (v6), CRC-16-CCITT with
register 0xFFFF (v5).
"""

from __future__ import annotations

import binascii
import io
import struct
from dataclasses import dataclass, field
from typing import BinaryIO

import crc32c

from skymap_scanner.i3.errors import I3DecodeError

TAG = b"[i3]"
SUPPORTED_VERSIONS = (5, 6)
#: frame keys and C++ type names are short; a longer length field means corruption
MAX_NAME_BYTES = 1 << 16
#: largest frame read [bytes] (the largest sample frame is 0.74 MB; a GCD's C frame some 10 MB):
#: reading a frame holds it about three times, so this bounds a reader's memory
MAX_FRAME_BYTES = 128 * 1024 * 1024
_CHUNK = 1 << 20
_U32 = struct.Struct("<I")


def icetray_crc32c(data: bytes) -> int:
    """IceTray's frame checksum (v6): CRC-32C with register 0 and no final inversion.

    A standard (inverting) CRC-32C started from 0xFFFFFFFF and inverted again gives exactly that.
    """
    return crc32c.crc32c(data, 0xFFFFFFFF) ^ 0xFFFFFFFF


def icetray_crc16(data: bytes) -> int:
    """IceTray's frame checksum (v5): CRC-16-CCITT (polynomial 0x1021) with register 0xFFFF."""
    return binascii.crc_hqx(data, 0xFFFF)


@dataclass(frozen=True)
class FrameEntry:
    """One frame slot: ``blob`` is a separate serialisation archive starting at ``offset``."""

    key: str
    type_name: str
    blob: bytes
    offset: int


@dataclass(frozen=True)
class Frame:
    """A decoded frame container: entries in stored order; blobs are decoded on demand."""

    stop: str
    version: int
    label: str
    size: int
    entries: dict[str, FrameEntry] = field(default_factory=dict)

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def entry(self, key: str) -> FrameEntry:
        try:
            return self.entries[key]
        except KeyError:
            raise I3DecodeError("no such key in the frame", frame=self.label, key=key) from None


class _FrameReader:
    """Reads one frame from a stream, keeping the checksummed bytes and the position."""

    def __init__(self, stream: BinaryIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.pos = 0
        self.body = bytearray()  # bytes covered by the checksum

    def error(self, reason: str, *, key: str | None = None, at: int | None = None) -> I3DecodeError:
        return I3DecodeError(reason, frame=self.label, key=key, offset=self.pos if at is None else at)

    def read(self, n: int, what: str, *, key: str | None = None, checksummed: bool = True) -> bytes:
        if self.pos + n > MAX_FRAME_BYTES:
            raise self.error(f"{what} of {n} bytes makes the frame larger than {MAX_FRAME_BYTES} bytes", key=key)
        chunks = []
        left = n
        while left:
            chunk = self.stream.read(min(left, _CHUNK))
            if not chunk:
                raise self.error(f"truncated frame: {what} needs {n} bytes, {n - left} left", key=key)
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if checksummed:
            self.body += data
        self.pos += n
        return data

    def u32(self, what: str, *, key: str | None = None, checksummed: bool = True) -> int:
        return _U32.unpack(self.read(4, what, key=key, checksummed=checksummed))[0]

    def name(self, what: str, *, key: str | None = None) -> str:
        at = self.pos
        n = self.u32(f"{what} length", key=key)
        if n > MAX_NAME_BYTES:
            raise self.error(f"implausible {what} length {n}", key=key, at=at)
        try:
            return self.read(n, what, key=key).decode("utf-8")
        except UnicodeDecodeError:
            raise self.error(f"{what} is not UTF-8", key=key, at=at + 4) from None


def _read_header(r: _FrameReader, head: bytes) -> int:
    if head != TAG:
        raise r.error(f"not an I3 frame (starts with {head!r}, expected {TAG!r})", at=0)
    version = r.u32("version", checksummed=False)
    if version not in SUPPORTED_VERSIONS:
        raise r.error(f"unsupported I3Frame version {version} (supported: 5, 6)", at=4)
    if r.read(2, "class info", checksummed=False) != b"\x00\x00":
        raise r.error("frame class-info bytes are not 00 00", at=8)
    return version


def _read_entry(r: _FrameReader, entries: dict[str, FrameEntry]) -> None:
    at = r.pos
    key = r.name("key")
    type_name = r.name("type name", key=key)
    n = r.u32("blob length", key=key)
    offset = r.pos
    blob = r.read(n, "blob", key=key)
    if key in entries:
        raise r.error("key occurs twice in the frame", key=key, at=at)
    entries[key] = FrameEntry(key, type_name, blob, offset)


def _check_checksum(r: _FrameReader, version: int) -> None:
    at = r.pos
    stored = r.u32("checksum", checksummed=False)
    body = bytes(r.body)
    computed = icetray_crc32c(body) if version == 6 else icetray_crc16(body)
    if stored != computed:
        raise r.error(f"checksum mismatch: stored {stored:#010x}, computed {computed:#010x}", at=at)


def read_frame(stream: BinaryIO, index: int) -> Frame | None:
    """Read the next frame from ``stream``; ``None`` at a clean end of the stream.

    ``index`` (1-based) names the frame in error messages.
    """
    r = _FrameReader(stream, f"frame #{index}")
    head = stream.read(4)
    if not head:
        return None
    r.pos = len(head)
    if len(head) < 4:
        raise r.error("truncated frame: fewer than 4 bytes")
    version = _read_header(r, head)
    stop = r.read(1, "stop byte").decode("latin1")
    if not stop.isprintable() or stop.isspace():
        raise r.error(f"invalid stop byte {stop!r}", at=r.pos - 1)
    r.label = f"{stop} frame #{index}"
    nslots = r.u32("number of entries")
    entries: dict[str, FrameEntry] = {}
    for _ in range(nslots):
        _read_entry(r, entries)
    _check_checksum(r, version)
    return Frame(stop=stop, version=version, label=r.label, size=r.pos, entries=entries)


def parse_frame(data: bytes, index: int) -> Frame:
    """Decode one frame held in ``data`` (nothing may follow it)."""
    stream = io.BytesIO(data)
    frame = read_frame(stream, index)
    if frame is None:
        raise I3DecodeError("empty frame", frame=f"frame #{index}", offset=0)
    if frame.size != len(data):
        raise I3DecodeError(
            f"{len(data) - frame.size} bytes follow the frame", frame=frame.label, offset=frame.size
        )
    return frame
