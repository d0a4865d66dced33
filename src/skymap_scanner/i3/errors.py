"""The one exception every decoding problem in :mod:`skymap_scanner.i3` raises."""

from __future__ import annotations

from skymap_scanner.event.model import EventError


class I3DecodeError(EventError):
    """Malformed, truncated, corrupt or unsupported IceCube data.

    The message names where it happened: the frame (e.g. ``"P frame #5"``), the frame key and the
    byte offset (inside the frame, or inside the message/file when no frame applies).
    """

    def __init__(
        self,
        reason: str,
        *,
        frame: str | None = None,
        key: str | None = None,
        offset: int | None = None,
    ) -> None:
        self.reason = reason
        self.frame = frame
        self.key = key
        self.offset = offset
        super().__init__(self._text())

    def _text(self) -> str:
        where = []
        if self.frame is not None:
            where.append(self.frame)
        if self.key is not None:
            where.append(f"key {self.key!r}")
        if self.offset is not None:
            where.append(f"byte {self.offset}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason
