"""``.i3`` files: frames back to back, plain or gzip/bzip2/zstd compressed (docs/i3-format.md §2)."""

from __future__ import annotations

import bz2
import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

import zstandard

from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.frame import Frame, read_frame

_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\x28\xb5\x2f\xfd": "zstd"}
_CHUNK = 1 << 16


class _ZstdReader(io.RawIOBase):
    """zstd decompression that reports a truncated stream (zstandard's reader ends silently)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._dec = zstandard.ZstdDecompressor().decompressobj()
        self._pending = b""
        self._started = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:
        while not self._pending:
            if self._dec.eof:  # a further zstd frame may follow
                rest = self._dec.unused_data
                self._dec = zstandard.ZstdDecompressor().decompressobj()
                self._started = False
                if rest:
                    self._feed(rest)
                    continue
            chunk = self._raw.read(_CHUNK)
            if not chunk:
                if self._started:
                    raise EOFError("truncated zstd stream")
                return 0
            self._feed(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _feed(self, data: bytes) -> None:
        self._started = True
        self._pending = self._dec.decompress(data)


def _compression(head: bytes) -> str:
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    return "none"


def _open(path: Path, stack: ExitStack) -> BinaryIO:
    raw = stack.enter_context(path.open("rb"))
    kind = _compression(raw.read(4))
    raw.seek(0)
    if kind == "gzip":
        return stack.enter_context(gzip.GzipFile(fileobj=raw))
    if kind == "bzip2":
        return stack.enter_context(bz2.BZ2File(raw))
    if kind == "zstd":
        return stack.enter_context(io.BufferedReader(_ZstdReader(raw)))
    return raw


def iter_frames(path: str | Path) -> Iterator[Frame]:
    """Yield the frames of an ``.i3`` file (compression detected from the magic bytes).

    Frame labels are ``"<stop> frame #<n>"`` (1-based); errors also name the file.
    """
    path = Path(path)
    with ExitStack() as stack:
        try:
            stream = _open(path, stack)
        except OSError as e:
            raise I3DecodeError(f"{path}: cannot open ({e.strerror})") from None
        index = 0
        while True:
            index += 1
            try:
                frame = read_frame(stream, index)
            except I3DecodeError as e:
                raise I3DecodeError(f"{path}: {e.reason}", frame=e.frame, key=e.key,
                                    offset=e.offset) from None
            except (OSError, EOFError, zlib.error, zstandard.ZstdError) as e:
                raise I3DecodeError(f"{path}: corrupt compressed data ({e})",
                                    frame=f"frame #{index}") from None
            if frame is None:
                return
            yield frame
