"""Pulse maps, masks and SuperDST: blobs built from the spec, then the golden numbers of the samples."""

from __future__ import annotations

import math

import i3_bytes as b
import numpy as np
import pytest

from skymap_scanner.i3.alert import read_alert_packet
from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.frame import FrameEntry, parse_frame
from skymap_scanner.i3.framestack import FrameStack
from skymap_scanner.i3.registry import decode_entry


def decode(blob: bytes):
    return decode_entry(FrameEntry("k", "t", blob, 0), "Q frame #4")


# -- built from the spec ------------------------------------------------------------------------------
MAP = [((1, 5), [(10.0, 1.5, 4.0, 7), (30.0, 0.25, 8.0, 4)]),
       ((1, 61), [(12.5, 3.0, 2.0, 5)]),
       ((2, 7), [(-4.0, 0.5, 1.0, 7), (5.0, 1.0, 1.0, 7), (9.0, 2.0, 1.0, 4)])]


def test_pulse_series_map():
    m = decode(b.pulse_map_blob(MAP))
    assert (m.string.tolist(), m.om.tolist(), m.counts.tolist()) == ([1, 1, 2], [5, 61, 7], [2, 1, 3])
    assert m.time.tolist() == [10.0, 30.0, 12.5, -4.0, 5.0, 9.0]
    assert m.charge.dtype == np.float32 and m.flags.tolist() == [7, 4, 5, 7, 7, 4]
    ice = m.in_ice()
    assert ice.n_doms == 2 and ice.n_pulses == 5
    pulses = ice.to_pulses()
    assert pulses.hlc.tolist() == [True, False, True, True, False]


def test_pulse_map_keys_out_of_order_are_refused():
    with pytest.raises(I3DecodeError, match="increasing"):
        decode(b.pulse_map_blob([MAP[1], MAP[0]]))


def _stack(*frames):
    return FrameStack([parse_frame(f, i) for i, f in enumerate(frames, start=1)])


def test_mask_chain_indexes_the_applied_parent():
    q = b.frame("Q", [("Pulses", "map", b.pulse_map_blob(MAP)),
                      ("Sel", "mask", b.mask_blob("Pulses", [1, 0, 1], [[0, 1], [1, 0, 1]]))])
    # the child sees Sel's two DOMs (1,5):[30] and (2,7):[-4, 9]; it keeps (2,7):[9]
    p = b.frame("P", [("Child", "mask", b.mask_blob("Sel", [0, 1], [[0, 1]], version=1))])
    stack = _stack(q, p)
    sel = stack.pulses("Sel")
    assert sel.time.tolist() == [30.0, -4.0, 9.0] and sel.counts.tolist() == [1, 2]
    child = stack.pulses("Child")
    assert (child.string.tolist(), child.time.tolist()) == ([2], [9.0])


def test_v0_mask_padding_bug_means_empty():
    q = b.frame("Q", [("Pulses", "map", b.pulse_map_blob(MAP)),
                      ("Sel", "mask", b.mask_blob("Pulses", [1] * 64, [], version=0))])
    assert _stack(q).pulses("Sel").n_pulses == 0


@pytest.mark.parametrize("omkey_bits, elements, reason", [
    ([1, 0], [[1, 1]], "2 bits but its source"),
    ([1, 0, 1], [[1, 1], [1, 1]], "element mask lengths"),
    ([1, 0, 0], [[1, 1], [1]], "2 element masks for 1 selected"),
])
def test_inconsistent_masks(omkey_bits, elements, reason):
    q = b.frame("Q", [("Pulses", "map", b.pulse_map_blob(MAP)),
                      ("Sel", "mask", b.mask_blob("Pulses", omkey_bits, elements))])
    with pytest.raises(I3DecodeError, match=reason):
        _stack(q).pulses("Sel")


def test_circular_and_dangling_masks():
    q = b.frame("Q", [("A", "mask", b.mask_blob("B", [1], [[1]])), ("B", "mask", b.mask_blob("A", [1], [[1]])),
                      ("C", "mask", b.mask_blob("Nowhere", [1], [[1]]))])
    with pytest.raises(I3DecodeError, match="too deep"):
        _stack(q).pulses("A")
    with pytest.raises(I3DecodeError, match="no pulse series 'Nowhere'"):
        _stack(q).pulses("C")


def test_superdst_v1_overflows_icetop_and_width_runs():
    stamps = [b.stamp(0xFF, 10, 1, 0), 4626,  # first time 2047 (slop 7) + 4626 = 6673
              b.stamp(20, 63, 1, 1), 0xFFFF, 5,  # charge 63 + 65535 + 5
              b.stamp(100, 5, 0, 1)]  # IceTop: 14-bit charge 5 | 0x40 << 6
    headers = [b.dom_header(1, 5, slop=7), b.dom_header(1, 61)]
    sd = decode(b.superdst_v1_blob(stamps, headers, [b"", b"\x23", b"\x11", b""], extra=b"\x40"))
    p = sd.pulses
    assert sd.n_readouts == 2 and p.counts.tolist() == [2, 1] and p.om.tolist() == [5, 61]
    assert p.time.tolist() == [-512 + 6673, -512 + 6673 + 20, -512 + 6673 + 100]
    assert p.charge[:2].tolist() == pytest.approx([0.525, (63 + 65535 + 5) * 0.05 + 0.025])
    assert p.charge[2] == pytest.approx(10 ** ((5 | 0x40 << 6) * 9 / 16383 - 2), rel=1e-6)
    assert p.width.tolist() == [8.0, 8.0, 2.0]
    assert p.flags.tolist() == [7, 7, 4]


def test_superdst_width_run_example_e3_43():
    stamps = [b.stamp(1, 0, 0, 0)] * 77 + [b.stamp(1, 0, 0, 1)]
    sd = decode(b.superdst_v1_blob(stamps, [b.dom_header(3, 3)], [b"\xe3\x43", b"", b"", b""]))
    assert sd.pulses.n_pulses == 78
    assert sd.pulses.width.tolist() == [1.0] * 77 + [8.0]  # clipped to the 1 ns spacing, last kept


def test_superdst_unpack_merges_coincident_pulses():
    stamps = [b.stamp(50, 1, 0, 1), b.stamp(0, 2, 0, 1)]  # two readouts of one DOM at the same time
    sd = decode(b.superdst_v1_blob(stamps, [b.dom_header(2, 1)] * 2, [b"\x24", b"", b"", b""]))
    assert sd.pulses.time.tolist() == [-462.0, -454.0] and sd.pulses.width.tolist() == [8.0, 8.0]


@pytest.mark.parametrize("streams, reason", [
    ([b"", b"", b"", b""], "width stream 0 exhausted"),
    ([b"\x11", b"\x11", b"", b""], "not consumed exactly"),
    ([b"\xf1" * 9, b"", b"", b""], "longer than"),
])
def test_superdst_stream_mismatches(streams, reason):
    with pytest.raises(I3DecodeError, match=reason):
        decode(b.superdst_v1_blob([b.stamp(1, 0, 0, 1)], [b.dom_header(1, 1)], streams))


def test_superdst_missing_stamps():
    with pytest.raises(I3DecodeError, match="stamp stream exhausted"):
        decode(b.superdst_v1_blob([b.stamp(1, 0, 0, 0)], [b.dom_header(1, 1)], [b"\x11", b"", b"", b""]))


def test_superdst_v0():
    stamps = [b.stamp(0xFF, 4, 1, 0), 3 | 0x0000,  # time 2047 + 3 (overflow word, no stop)
              b.stamp(5, 63, 1, 0), 0x8000 | 7]  # later stamp, charge 63 + 7, the word ends the readout
    p = decode(b.superdst_v0_blob(stamps, [b.dom_header(4, 2, slop=7)])).pulses
    assert p.time.tolist() == [-512 + 2050 * 4, -512 + 2050 * 4 + 20]
    assert p.charge.tolist() == pytest.approx([0.6, 70 * 0.15])
    assert p.width.tolist() == [4.0, 4.0]


# -- the sample events (docs/i3-format.md §10) ----------------------------------------------------------------
EVENTS = {
    "GOLD": "run00136766-evt000007637140-GOLD.pkl",
    "BRONZE": "run00136662-evt000035405932-BRONZE.pkl",
    "HESE": "hese_event_01.json",
}
# readouts, DOMs, IceTop DOMs, pulses, ΣQ; InIceDSTPulses bits/elements; split bits/elements
SUPERDST = {"GOLD": (3553, 1711, 13, 5615, 8304.65, 1711, 1698, 1698, 321),
            "BRONZE": (284, 256, 8, 889, 2603.62, 256, 248, 248, 176),
            "HESE": (95, 84, 7, 420, 2829.53, 84, 77, 77, 75)}
# split in-ice: all, without DeepCore, HLC, SLC as (pulses, DOMs, Q)
SPLIT = {"GOLD": ((1781, 321, 2875.625), (1743, 288, 2842.775), (1657, 226, 2759.775), (124, 114, 115.85)),
         "BRONZE": ((763, 176, 1418.425), (758, 171, 1406.55), (686, 119, 1338.95), (77, 65, 79.475)),
         "HESE": ((410, 75, 2050.25), (406, 71, 2046.25), (353, 29, 1996.275), None)}


@pytest.fixture(scope="module")
def packets(shared_data):
    return {name: read_alert_packet(shared_data / "events" / f) for name, f in EVENTS.items()}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", EVENTS)
def test_superdst_golden(packets, name):
    stack = packets[name].stack
    sd = stack.get("I3SuperDST")
    readouts, doms, icetop, pulses, q, dst_bits, dst_el, split_bits, split_el = SUPERDST[name]
    assert (sd.n_readouts, sd.pulses.n_doms, int((sd.pulses.om > 60).sum()), sd.pulses.n_pulses) == (
        readouts, doms, icetop, pulses)
    assert sd.pulses.total_charge() == pytest.approx(q, abs=0.005)
    dst, split = stack.get("InIceDSTPulses"), stack.get("SplitUncleanedInIcePulses")
    assert (len(dst.omkey_bits), len(dst.element_bits)) == (dst_bits, dst_el)
    assert (len(split.omkey_bits), len(split.element_bits)) == (split_bits, split_el)
    inice = sd.pulses.charge[np.repeat(sd.pulses.om <= 60, sd.pulses.counts)].astype(np.float64)
    assert np.allclose(np.mod(inice - 0.025 + 1e-4, 0.05), 1e-4, atol=2e-4)  # bin centres


def _counts(m):
    return m.n_pulses, m.n_doms, m.total_charge()


@pytest.mark.shared_data
@pytest.mark.parametrize("name", EVENTS)
def test_split_pulses_golden(packets, name):
    split = packets[name].pulses()
    parts = [split, split.select(np.repeat(split.string < 79, split.counts)),
             split.select((split.flags & 1) == 1), split.select((split.flags & 1) == 0)]
    for got, want in zip(parts, SPLIT[name], strict=True):
        if want is not None:
            n, nch, q = _counts(got)
            assert (n, nch) == want[:2] and q == pytest.approx(want[2], abs=1e-5)


@pytest.mark.shared_data
def test_superdst_matches_full_precision_pulses(packets):
    stack = packets["HESE"].stack
    full, dst = stack.pulses("UncleanedInIcePulses"), stack.pulses("InIceDSTPulses")
    assert full.n_doms == dst.n_doms == 77 and full.n_pulses == dst.n_pulses == 413
    assert np.array_equal(full.counts, dst.counts)
    assert np.array_equal(full.string, dst.string) and np.array_equal(full.om, dst.om)
    assert np.array_equal(full.flags & 1, dst.flags & 1)
    assert np.abs(full.time - dst.time).max() <= 0.5
    assert np.abs(full.charge - dst.charge).max() <= 0.025 + 1e-6
    assert math.isclose(np.abs(full.time - dst.time).max(), 0.4996, abs_tol=1e-4)
