"""The frames of one event (G, C, D, Q, P …) with key lookup, decoding cache and pulse resolution."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.frame import Frame
from skymap_scanner.i3.masks import PulseMask
from skymap_scanner.i3.pulses import PulseSeriesMap
from skymap_scanner.i3.registry import class_name, decode_entry
from skymap_scanner.i3.superdst import SuperDST

#: masks on masks deeper than this are refused (samples chain at most three)
MAX_MASK_DEPTH = 16


class FrameStack:
    """Frames in stream order; a key is looked up from the last frame backwards (P, then Q, …)."""

    def __init__(self, frames: Sequence[Frame]) -> None:
        self.frames = tuple(frames)
        self._cache: dict[tuple[int, str], Any] = {}

    def locate(self, key: str, below: int | None = None) -> int | None:
        """Index of the latest frame holding ``key`` (at or before frame index ``below``)."""
        last = len(self.frames) - 1 if below is None else below
        for i in range(last, -1, -1):
            if key in self.frames[i]:
                return i
        return None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.locate(key) is not None

    def class_name(self, key: str) -> str | None:
        i = self.locate(key)
        if i is None:
            return None
        return class_name(self.frames[i].entry(key), self.frames[i].label)

    def get(self, key: str, below: int | None = None) -> Any:
        """The decoded object for ``key``, or ``None`` when no frame has it."""
        i = self.locate(key, below)
        if i is None:
            return None
        if (i, key) not in self._cache:
            frame = self.frames[i]
            self._cache[(i, key)] = decode_entry(frame.entry(key), frame.label)
        return self._cache[(i, key)]

    def require(self, key: str, kind: type | tuple[type, ...], what: str) -> Any:
        """Like :meth:`get` but the key must exist and decode to ``kind``."""
        value = self.get(key)
        if value is None:
            raise I3DecodeError(f"the event has no {what} (key {key!r})")
        if not isinstance(value, kind):
            raise I3DecodeError(f"{what} is a {type(value).__name__}", key=key)
        return value

    def pulses(self, key: str, below: int | None = None, depth: int = 0) -> PulseSeriesMap:
        """Resolve a pulse series: a map, a SuperDST (unpacked) or a mask applied to its source."""
        i = self.locate(key, below)
        if i is None:
            raise I3DecodeError(f"no pulse series {key!r} in the event's frames")
        if depth > MAX_MASK_DEPTH:
            raise I3DecodeError("pulse mask chain too deep (circular?)", key=key)
        value = self.get(key, i)
        if isinstance(value, PulseSeriesMap):
            return value
        if isinstance(value, SuperDST):
            return value.pulses
        if isinstance(value, PulseMask):
            source = self.pulses(value.source_key, i, depth + 1)
            return value.apply(source, frame=self.frames[i].label, key=key)
        raise I3DecodeError(f"{type(value).__name__} is not a pulse series",
                            frame=self.frames[i].label, key=key)
