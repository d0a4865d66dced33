"""``I3SuperDST``: IceCube's compressed pulses (docs/i3-format.md §4).

Version 1 (every sample) is verified against full-precision pulses; version 0 follows the layout
described from the IceTray sources and has no real sample. Decoding ends with IceTray's "Unpack"
step (sort per DOM, width post-processing), whose pulse order the masks index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skymap_scanner.event.model import FLAG_ATWD, FLAG_FADC, FLAG_LC
from skymap_scanner.i3.archive import ArchiveReader, check_version
from skymap_scanner.i3.objects import read_size_codec
from skymap_scanner.i3.pulses import MAX_INICE_OM, PulseSeriesMap

#: first readout time reference [ns] relative to the DAQ readout window (I3SuperDST.cxx)
T_REF_START = -512.0
#: escape codes: an 11-bit first time code, an 8-bit later time code, a 6-bit charge code
FIRST_TIME_ESCAPE, TIME_ESCAPE, CHARGE_ESCAPE = 2047, 255, 63
#: v1 in-ice charge bins [PE] (bin centres: code × 0.05 + 0.025); IceTop log scale
INICE_CHARGE_STEP, INICE_CHARGE_OFFSET = 0.05, 0.025
ICETOP_LOG_SCALE, ICETOP_LOG_OFFSET = 9.0 / 16383.0, -2.0
#: v0 quantisation: 4 ns time step, 0.15 PE charge step, fixed width code 2 (4 ns)
V0_TIME_STEP, V0_CHARGE_STEP, V0_WIDTH_CODE = 4.0, 0.15, 2
HLC_FLAGS = FLAG_LC | FLAG_ATWD | FLAG_FADC
SLC_FLAGS = FLAG_FADC


@dataclass(frozen=True)
class SuperDST:
    """Decoded SuperDST: the number of readouts and the unpacked pulse map (IceTop included)."""

    version: int
    n_readouts: int
    pulses: PulseSeriesMap


@dataclass
class _Readouts:
    """Decoded stamps, one entry per pulse (codes, before unit conversion)."""

    string: list[int]
    om: list[int]
    time: list[float]
    charge_code: list[int]
    width_code: list[int]
    hlc: list[int]

    @classmethod
    def empty(cls) -> _Readouts:
        return cls([], [], [], [], [], [])

    def add(self, string: int, om: int, t: float, qc: int, wc: int, hlc: int) -> None:
        self.string.append(string)
        self.om.append(om)
        self.time.append(t)
        self.charge_code.append(qc)
        self.width_code.append(wc)
        self.hlc.append(hlc)


class _Words:
    """Cursor over a decoded stream (the u16 stamps, or the IceTop extra bytes)."""

    def __init__(self, words: list[int], r: ArchiveReader, at: int, name: str = "stamp") -> None:
        self.words = words
        self.k = 0
        self.r = r
        self.at = at
        self.name = name

    def next(self) -> int:
        if self.k >= len(self.words):
            self.r.fail(f"SuperDST {self.name} stream exhausted after {self.k} values", self.at)
        self.k += 1
        return self.words[self.k - 1]

    def overflow(self, value: int) -> int:
        """v1 overflow: add following words while the word just added is 0xFFFF."""
        while True:
            word = self.next()
            value += word
            if word != 0xFFFF:
                return value


def _dom(header: int) -> tuple[int, int, int]:
    """DOMHeader → (string, om, slop): dom_id = (string << 6) | (om − 1) in bits 0-12."""
    return (header >> 6) & 0x7F, (header & 0x3F) + 1, header >> 13


def _width_runs(data: bytes, limit: int, r: ArchiveReader, at: int) -> list[int]:
    """Run-length coded width stream: low nibble code, high nibbles the run length (LE)."""
    codes: list[int] = []
    i = 0
    while i < len(data):
        code = data[i] & 0xF
        run = shift = 0
        while i < len(data) and data[i] & 0xF == code:
            run |= (data[i] >> 4) << shift
            shift += 4
            i += 1
        if len(codes) + run > limit:
            r.fail(f"SuperDST width stream longer than its {limit} stamps", at)
        codes.extend([code] * run)
    return codes


def _read_compact_vector(r: ArchiveReader, element: str, dtype: str) -> np.ndarray:
    r.class_info(f"CompactVector<{element}>")
    n = read_size_codec(r)
    return r.array(dtype, n, f"CompactVector<{element}>")


class _WidthStreams:
    """The four width streams (in-ice SLC, in-ice HLC, IceTop SLC, IceTop HLC)."""

    def __init__(self, streams: list[list[int]], r: ArchiveReader, at: int) -> None:
        self.streams = streams
        self.pos = [0, 0, 0, 0]
        self.r = r
        self.at = at

    def pop(self, icetop: bool, hlc: int) -> int:
        s = 2 * icetop + hlc
        if self.pos[s] >= len(self.streams[s]):
            self.r.fail(f"SuperDST width stream {s} exhausted", self.at)
        self.pos[s] += 1
        return self.streams[s][self.pos[s] - 1]

    def check_consumed(self) -> None:
        if self.pos != [len(s) for s in self.streams]:
            self.r.fail(f"SuperDST width streams not consumed exactly ({self.pos})", self.at)


def _decode_v1_readout(
    header: int, words: _Words, extra: _Words, widths: _WidthStreams, t_ref: float,
    out: _Readouts,
) -> float:
    """One readout; returns the new time reference (the readout's first pulse time)."""
    string, om, slop = _dom(header)
    icetop = om > MAX_INICE_OM
    stamp = words.next()
    hlc = (stamp >> 14) & 1
    tc = (stamp & 0xFF) | (slop << 8)
    if tc == FIRST_TIME_ESCAPE:
        tc = words.overflow(tc)
    qc = (stamp >> 8) & 0x3F
    if icetop:
        qc |= extra.next() << 6
    elif qc == CHARGE_ESCAPE:
        qc = words.overflow(qc)
    t = t_ref + tc
    out.add(string, om, t, qc, widths.pop(icetop, hlc), hlc)
    first_time = t
    while not stamp >> 15:
        if icetop:
            words.r.fail("SuperDST IceTop readout with more than one stamp", words.at)
        stamp = words.next()
        if (stamp >> 14) & 1 != hlc:
            words.r.fail("SuperDST readout mixes HLC and SLC stamps", words.at)
        tc = stamp & 0xFF
        if tc == TIME_ESCAPE:
            tc = words.overflow(tc)
        qc = (stamp >> 8) & 0x3F
        if qc == CHARGE_ESCAPE:
            qc = words.overflow(qc)
        t += tc
        out.add(string, om, t, qc, widths.pop(False, hlc), hlc)
    return first_time


def _read_v1(r: ArchiveReader) -> tuple[int, PulseSeriesMap]:
    at = r.pos
    stamps = _read_compact_vector(r, "ChargeStamp", "<u2").tolist()
    headers = _read_compact_vector(r, "DOMHeader", "<u2").tolist()
    runs = [_read_compact_vector(r, "u8", "u1").tobytes() for _ in range(4)]
    extra = _Words(_read_compact_vector(r, "u8", "u1").tolist(), r, at, "extra-byte")
    widths = _WidthStreams([_width_runs(w, len(stamps), r, at) for w in runs], r, at)
    words = _Words(stamps, r, at)
    out = _Readouts.empty()
    t_ref = T_REF_START
    for header in headers:
        t_ref = _decode_v1_readout(header, words, extra, widths, t_ref, out)
    if words.k != len(stamps) or extra.k != len(extra.words):
        r.fail("SuperDST stamps or extra bytes not consumed exactly", at)
    widths.check_consumed()
    icetop = np.asarray(out.om, np.int64) > MAX_INICE_OM
    code = np.asarray(out.charge_code, np.float64)
    charge = code * INICE_CHARGE_STEP + INICE_CHARGE_OFFSET
    charge[icetop] = 10.0 ** (code[icetop] * ICETOP_LOG_SCALE + ICETOP_LOG_OFFSET)  # 14-bit codes
    width = 2.0 ** np.asarray(out.width_code, np.float64)
    return len(headers), _unpack(out, charge, width)


def _read_v0(r: ArchiveReader) -> tuple[int, PulseSeriesMap]:
    at = r.pos
    n = r.u16("SuperDST record count")
    stamps = r.array("<u2", n, "SuperDST stamps").tolist()
    n_headers = sum(w >> 15 for w in stamps)
    headers = r.array("<u2", n_headers, "SuperDST DOM headers").tolist()
    words = _Words(stamps, r, at)
    out = _Readouts.empty()
    t_ref = T_REF_START
    for header in headers:
        t_ref = _decode_v0_readout(header, words, t_ref, out)
    if words.k != len(stamps):
        r.fail("SuperDST stamps not consumed exactly", at)
    charge = np.asarray(out.charge_code, np.float64) * V0_CHARGE_STEP
    width = np.full(len(out.time), 2.0**V0_WIDTH_CODE)
    return len(headers), _unpack(out, charge, width)


def _decode_v0_readout(header: int, words: _Words, t_ref: float, out: _Readouts) -> float:
    """v0: a single overflow word adds its low 15 bits; its bit 15 is the stop bit."""
    string, om, slop = _dom(header)
    last = stamp = words.next()
    hlc = (stamp >> 14) & 1
    tc = (stamp & 0xFF) | (slop << 8)
    if tc == FIRST_TIME_ESCAPE:
        last = words.next()
        tc += last & 0x7FFF
    t = t_ref + tc * V0_TIME_STEP
    first_time = t
    while True:
        qc = (stamp >> 8) & 0x3F
        if qc == CHARGE_ESCAPE:
            last = words.next()
            qc += last & 0x7FFF
        out.add(string, om, t, qc, V0_WIDTH_CODE, hlc)
        if last >> 15:
            return first_time
        last = stamp = words.next()
        t += (stamp & 0xFF) * V0_TIME_STEP


def _unpack(out: _Readouts, charge: np.ndarray, width: np.ndarray) -> PulseSeriesMap:
    """IceTray's Unpack: map by (string, om, pmt 0), pulses sorted by time, widths fixed."""
    string = np.asarray(out.string, np.int64)
    om = np.asarray(out.om, np.int64)
    time = np.asarray(out.time, np.float64)
    order = np.lexsort((time, om, string))
    string, om, time = string[order], om[order], time[order]
    charge = charge[order].astype(np.float32)
    width = width[order].astype(np.float32)
    flags = np.where(np.asarray(out.hlc, bool)[order], HLC_FLAGS, SLC_FLAGS).astype(np.uint8)
    dom = string * 64 + om
    starts = np.flatnonzero(np.r_[True, dom[1:] != dom[:-1]]) if len(dom) else np.empty(0, int)
    counts = np.diff(np.r_[starts, len(dom)])
    _fix_widths(time, width, starts, counts)
    keys = [(int(s), int(o), 0) for s, o in zip(string[starts], om[starts], strict=True)]
    return PulseSeriesMap.from_columns(keys, counts.tolist(), time, charge, width, flags)


def _fix_widths(time: np.ndarray, width: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> None:
    """Per DOM with ≥ 2 pulses, clip widths to the next pulse and merge coincident pulses."""
    for s, n in zip(starts.tolist(), counts.tolist(), strict=True):
        if n > 1:
            t = time[s : s + n].tolist()
            w = width[s : s + n].tolist()
            _merge_walk(t, w)
            time[s : s + n] = t
            width[s : s + n] = w


def _merge_walk(t: list[float], w: list[float]) -> None:
    merge = False
    for k in range(len(t) - 1):
        w[k] = min(w[k], float(np.float32(t[k + 1] - t[k])))
        if w[k] == 0 or merge:
            if k > 0:
                _merge(t, w, k - 1, k)
                merge = False
            else:
                merge = True
    if merge and len(t) > 1:
        _merge(t, w, len(t) - 2, len(t) - 1)


def _merge(t: list[float], w: list[float], prev: int, cur: int) -> None:
    if w[prev] == 0 and w[cur] > 0:
        w[prev] = w[cur]
    w[prev] = w[cur] = w[prev] / 2
    t[cur] = t[prev] + w[prev]


def read_superdst(r: ArchiveReader, version: int) -> SuperDST:
    check_version(r, "I3SuperDST", version, (0, 1))
    n_readouts, pulses = (_read_v1 if version == 1 else _read_v0)(r)
    return SuperDST(version, n_readouts, pulses)
