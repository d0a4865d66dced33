"""Pulse series maps: the columnar ``PulseSeriesMap`` and the ``I3RecoPulseSeriesMap`` decoder.

A map holds DOMs in map order ((string, om, pmt) ascending) and, per DOM, its pulses in stored
order; masks index exactly that order (docs/i3-format.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skymap_scanner.event.model import Pulses
from skymap_scanner.i3.archive import ArchiveReader, check_version
from skymap_scanner.i3.objects import read_omkey

#: highest in-ice OM number; IceTop DOMs are OM 61-64 (docs/i3-format.md §8.4)
MAX_INICE_OM = 60


@dataclass(frozen=True)
class PulseSeriesMap:
    """Per DOM: ``string``, ``om``, ``pmt``, ``counts``; per pulse (grouped by DOM): ``time`` [ns],
    ``charge`` [PE, float32 as stored], ``width`` [ns, float32], ``flags`` (I3RecoPulse bits)."""

    string: np.ndarray
    om: np.ndarray
    pmt: np.ndarray
    counts: np.ndarray
    time: np.ndarray
    charge: np.ndarray
    width: np.ndarray
    flags: np.ndarray

    @property
    def n_doms(self) -> int:
        return len(self.counts)

    @property
    def n_pulses(self) -> int:
        return len(self.time)

    def dom_index(self) -> np.ndarray:
        """Index of each pulse's DOM."""
        return np.repeat(np.arange(self.n_doms), self.counts)

    def select(self, keep: np.ndarray) -> PulseSeriesMap:
        """The pulses where ``keep`` is true; DOMs left without pulses are dropped."""
        counts = np.bincount(self.dom_index()[keep], minlength=self.n_doms)
        doms = counts > 0
        return PulseSeriesMap(
            self.string[doms], self.om[doms], self.pmt[doms], counts[doms],
            self.time[keep], self.charge[keep], self.width[keep], self.flags[keep],
        )

    def in_ice(self) -> PulseSeriesMap:
        """Without IceTop DOMs (OM > 60)."""
        return self.select(np.repeat(self.om <= MAX_INICE_OM, self.counts))

    def total_charge(self) -> float:
        """Sum of the float32 charges in double precision [PE] (as IceTray's qtot)."""
        return float(np.sum(self.charge, dtype=np.float64))

    def to_pulses(self) -> Pulses:
        """The event model's pulse table (sorted by string, om, time)."""
        return Pulses(
            np.repeat(self.string, self.counts), np.repeat(self.om, self.counts),
            self.time, self.charge.astype(np.float64), self.flags,
        )

    @classmethod
    def from_columns(
        cls, keys: list[tuple[int, int, int]], counts: list[int], time: np.ndarray,
        charge: np.ndarray, width: np.ndarray, flags: np.ndarray,
    ) -> PulseSeriesMap:
        k = np.asarray(keys, dtype=np.int64).reshape(-1, 3)
        return cls(
            k[:, 0].astype(np.int32), k[:, 1].astype(np.int32), k[:, 2].astype(np.int32),
            np.asarray(counts, dtype=np.int64), np.asarray(time, np.float64),
            np.asarray(charge, np.float32), np.asarray(width, np.float32),
            np.asarray(flags, np.uint8),
        )


def _pulse_dtype(version: int, tracked: bool) -> np.dtype:
    fields = [("oid", "<u4")] if tracked else []
    fields += [("time", "<f8" if version == 3 else "<f4"), ("charge", "<f4"), ("width", "<f4"),
               ("flags", "u1")]
    return np.dtype(fields)


def _read_first_pulse(r: ArchiveReader) -> tuple[float, float, float, int]:
    version = r.class_info("I3RecoPulse")
    check_version(r, "I3RecoPulse", version, (2, 3))
    time = r.f64("pulse time") if version == 3 else r.f32("pulse time")
    return time, r.f32("pulse charge"), r.f32("pulse width"), r.u8("pulse flags")


def _read_pulses(r: ArchiveReader, n: int) -> np.ndarray:
    """``n`` I3RecoPulses as a structured array (time, charge, width, flags)."""
    out = np.empty(n, _pulse_dtype(3, False))
    if n == 0:
        return out
    first = 0
    if r.known_class("I3RecoPulse") is None:
        out[0] = _read_first_pulse(r)
        first = 1
    tracking, version = r.known_class("I3RecoPulse")
    dtype = _pulse_dtype(version, bool(tracking))
    at = r.pos
    rest = np.frombuffer(r.raw((n - first) * dtype.itemsize, "pulses"), dtype)
    if tracking:
        r.object_ids(n - first, rest["oid"], "I3RecoPulse", at)
    for name in ("time", "charge", "width", "flags"):
        out[name][first:] = rest[name]
    return out


def read_pulse_series_map(r: ArchiveReader, version: int) -> PulseSeriesMap:
    """``I3RecoPulseSeriesMap``: map info, nDOM × (pair info, OMKey, vector info, n, n pulses)."""
    r.class_info("map<OMKey,vector<I3RecoPulse>>")
    keys, counts, series = [], [], []
    for _ in range(r.count(13, "pulse map")):
        r.class_info("pair<OMKey,vector<I3RecoPulse>>")
        keys.append(read_omkey(r))
        r.class_info("vector<I3RecoPulse>")
        n = r.count(13, "pulse series")
        series.append(_read_pulses(r, n))
        counts.append(n)
    pulses = np.concatenate(series) if series else np.empty(0, _pulse_dtype(3, False))
    _check_map_order(r, keys)
    return PulseSeriesMap.from_columns(
        keys, counts, pulses["time"], pulses["charge"], pulses["width"], pulses["flags"]
    )


def _check_map_order(r: ArchiveReader, keys: list[tuple[int, int, int]]) -> None:
    if any(a >= b for a, b in zip(keys, keys[1:], strict=False)):
        r.fail("pulse map keys are not in strictly increasing (string, om, pmt) order")
