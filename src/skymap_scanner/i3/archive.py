"""IceCube's portable binary archive: the reader behind every frame-object decoder (docs/i3-format.md §3).

Each frame blob is a separate archive. A class-type member carries a 2-byte class info (tracking,
version) the first time its C++ type occurs in the blob; a tracked class puts a u32 object id
before every instance, counting 0, 1, 2, … over the blob. Every read is bounds-checked and every
error names the frame, key and byte offset.
"""

from __future__ import annotations

import struct
from typing import NoReturn

import numpy as np

from skymap_scanner.i3.errors import I3DecodeError

_FORMATS = {name: struct.Struct("<" + code) for name, code in (
    ("u8", "B"), ("i16", "h"), ("u16", "H"), ("i32", "i"), ("u32", "I"),
    ("i64", "q"), ("u64", "Q"), ("f32", "f"), ("f64", "d"),
)}
_U8, _I16, _U16, _I32, _U32, _I64, _U64, _F32, _F64 = _FORMATS.values()


class ArchiveReader:
    """Cursor over one blob. ``base`` is the blob's offset in its frame (for messages)."""

    def __init__(self, data: bytes, *, frame: str, key: str, base: int = 0) -> None:
        self.data = data
        self.frame = frame
        self.key = key
        self.base = base
        self.pos = 0
        self._classes: dict[str, tuple[int, int]] = {}  # C++ type -> (tracking, version)
        self._next_oid = 0

    # -- errors ----------------------------------------------------------------------------------
    def error(self, reason: str, at: int | None = None) -> I3DecodeError:
        offset = self.base + (self.pos if at is None else at)
        return I3DecodeError(reason, frame=self.frame, key=self.key, offset=offset)

    def fail(self, reason: str, at: int | None = None) -> NoReturn:
        raise self.error(reason, at)

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def _need(self, n: int, what: str) -> None:
        if n > self.remaining:
            self.fail(f"truncated: {what} needs {n} bytes, {self.remaining} left")

    # -- primitives ------------------------------------------------------------------------------
    def _unpack(self, fmt: struct.Struct, what: str) -> int | float:
        self._need(fmt.size, what)
        (value,) = fmt.unpack_from(self.data, self.pos)
        self.pos += fmt.size
        return value

    def u8(self, what: str = "u8") -> int:
        return int(self._unpack(_U8, what))

    def i16(self, what: str = "i16") -> int:
        return int(self._unpack(_I16, what))

    def u16(self, what: str = "u16") -> int:
        return int(self._unpack(_U16, what))

    def i32(self, what: str = "i32") -> int:
        return int(self._unpack(_I32, what))

    def u32(self, what: str = "u32") -> int:
        return int(self._unpack(_U32, what))

    def i64(self, what: str = "i64") -> int:
        return int(self._unpack(_I64, what))

    def u64(self, what: str = "u64") -> int:
        return int(self._unpack(_U64, what))

    def f32(self, what: str = "f32") -> float:
        return float(self._unpack(_F32, what))

    def f64(self, what: str = "f64") -> float:
        return float(self._unpack(_F64, what))

    def raw(self, n: int, what: str) -> bytes:
        self._need(n, what)
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def string(self, what: str = "string") -> str:
        """``std::string``: u32 length + bytes."""
        at = self.pos
        n = self.u32(f"{what} length")
        try:
            return self.raw(n, what).decode("utf-8")
        except UnicodeDecodeError:
            self.fail(f"{what} is not UTF-8", at)

    def count(self, item_size: int, what: str) -> int:
        """A u32 element count, checked against the bytes left (each item ≥ ``item_size``)."""
        at = self.pos
        n = self.u32(f"{what} count")
        if n * item_size > self.remaining:
            self.fail(f"{what} count {n} exceeds the {self.remaining} bytes left", at)
        return n

    def array(self, dtype: np.dtype | str, n: int, what: str) -> np.ndarray:
        """``n`` raw little-endian elements as a numpy array (a copy)."""
        dt = np.dtype(dtype)
        data = self.raw(n * dt.itemsize, what)
        return np.frombuffer(data, dt).copy()

    # -- class information and object ids --------------------------------------------------------
    def class_info(self, cpp_type: str) -> int:
        """Start one instance of ``cpp_type``; returns its class version.

        Reads the class info on the type's first occurrence, then the object id if the type is
        tracked (a back-reference to an earlier object is an error: these objects never use one).
        """
        known = self._classes.get(cpp_type)
        if known is None:
            at = self.pos
            tracking = self.u8(f"{cpp_type} class info")
            version = self.u8(f"{cpp_type} class version")
            if tracking > 1:
                self.fail(f"{cpp_type}: bad tracking flag {tracking}", at)
            known = self._classes[cpp_type] = (tracking, version)
        if known[0]:
            self.object_id(cpp_type)
        return known[1]

    def object_id(self, what: str) -> None:
        at = self.pos
        oid = self.u32(f"{what} object id")
        if oid != self._next_oid:
            self.fail(f"{what}: object id {oid}, expected {self._next_oid}", at)
        self._next_oid += 1

    def object_ids(self, n: int, ids: np.ndarray, what: str, at: int) -> None:
        """Check ``n`` consecutive object ids read in bulk (e.g. a run of pulses)."""
        expected = np.arange(self._next_oid, self._next_oid + n, dtype=np.int64)
        if not np.array_equal(ids.astype(np.int64), expected):
            self.fail(f"{what}: object ids are not consecutive from {self._next_oid}", at)
        self._next_oid += n

    def known_class(self, cpp_type: str) -> tuple[int, int] | None:
        """(tracking, version) of a type already seen in this blob, else ``None``."""
        return self._classes.get(cpp_type)

    # -- whole blobs -----------------------------------------------------------------------------
    def prologue(self) -> tuple[str, int]:
        """Read the frame-object prologue (§3.1); returns (class name, class version)."""
        self.class_info("shared_ptr<I3FrameObject>")
        at = self.pos
        class_id = self.i16("class id")
        if class_id != 2:
            self.fail(f"unexpected class id {class_id} (expected 2: a new class with its name)", at)
        name = self.string("class name")
        version = self.class_info(name)
        self.frame_object_base()
        return name, version

    def frame_object_base(self) -> None:
        """The ``I3FrameObject`` base-class part of an object."""
        if self.class_info("I3FrameObject") != 0:
            self.fail("unsupported I3FrameObject class version")

    def expect_end(self) -> None:
        if self.remaining:
            self.fail(f"{self.remaining} bytes left over after the object")


def check_version(reader: ArchiveReader, what: str, version: int, supported: tuple[int, ...]) -> None:
    """Refuse class versions whose layout this decoder does not know."""
    if version not in supported:
        reader.fail(f"unsupported {what} class version {version} (supported: {supported})")
