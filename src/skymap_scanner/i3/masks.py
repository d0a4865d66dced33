"""``I3RecoPulseSeriesMapMask``: pulse selections on a source map (docs/i3-format.md §5).

One bit per DOM of the source map (map order), then, for each set bit, one bit per pulse of that
DOM. A mask's source can itself be a mask; a child mask indexes the *applied* parent, from which
DOMs without selected pulses are gone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skymap_scanner.i3.archive import ArchiveReader, check_version
from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.pulses import PulseSeriesMap

#: v0 masks: an empty selection was written as 64 set OMKey bits and no element masks
V0_EMPTY_PADDING_BITS = 64


@dataclass(frozen=True)
class PulseMask:
    """``source_key``; ``omkey_bits`` (bool per source DOM); one bool array per selected DOM."""

    source_key: str
    omkey_bits: np.ndarray
    element_bits: tuple[np.ndarray, ...]
    empty: bool = False  # a v0 mask written with IceTray's padding bug: selects nothing

    def apply(self, source: PulseSeriesMap, *, frame: str, key: str) -> PulseSeriesMap:
        """The selected pulses of ``source``; raises I3DecodeError if the shapes disagree."""
        keep = np.zeros(source.n_pulses, bool)
        if self.empty:
            return source.select(keep)
        if len(self.omkey_bits) != source.n_doms:
            raise I3DecodeError(
                f"OMKey mask has {len(self.omkey_bits)} bits but its source "
                f"{self.source_key!r} has {source.n_doms} DOMs", frame=frame, key=key,
            )
        doms = np.flatnonzero(self.omkey_bits)
        lengths = np.array([len(b) for b in self.element_bits], dtype=np.int64)
        if not np.array_equal(lengths, source.counts[doms]):
            raise I3DecodeError(
                f"element mask lengths differ from the pulse counts of source "
                f"{self.source_key!r}", frame=frame, key=key,
            )
        if len(doms):
            starts = np.r_[0, np.cumsum(source.counts)[:-1]][doms]
            index = np.concatenate([s + np.flatnonzero(b) for s, b in
                                    zip(starts, self.element_bits, strict=True)])
            keep[index] = True
        return source.select(keep)


def _read_bitmask(r: ArchiveReader, what: str) -> np.ndarray:
    """bitmask: class info on first use, u16 nbytes, u8 padding, nbytes (bit i in byte i // 8)."""
    r.class_info("bitmask")
    at = r.pos
    nbytes = r.u16(f"{what} size")
    padding = r.u8(f"{what} padding")
    if padding > 7 or (padding and not nbytes):
        r.fail(f"{what}: invalid padding {padding} for {nbytes} bytes", at)
    bits = np.unpackbits(np.frombuffer(r.raw(nbytes, what), np.uint8), bitorder="little")
    return bits[: 8 * nbytes - padding].astype(bool)


def read_mask(r: ArchiveReader, version: int) -> PulseMask:
    check_version(r, "I3RecoPulseSeriesMapMask", version, (0, 1, 2))
    source = r.string("mask source key")
    if version == 1:
        r.f32("mask time reference")
    omkey_bits = _read_bitmask(r, "OMKey mask")
    r.class_info("vector<bitmask>")
    elements = tuple(_read_bitmask(r, "element mask") for _ in range(r.count(3, "element masks")))
    if (version == 0 and not elements and len(omkey_bits) == V0_EMPTY_PADDING_BITS
            and omkey_bits.all()):
        return PulseMask(source, omkey_bits, elements, empty=True)
    if len(elements) != int(omkey_bits.sum()):
        r.fail(f"{len(elements)} element masks for {int(omkey_bits.sum())} selected DOMs")
    return PulseMask(source, omkey_bits, elements)
