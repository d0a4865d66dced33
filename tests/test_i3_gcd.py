"""GCD geometry from frames built byte by byte from the spec (no real baseline GCD file is available)."""

from __future__ import annotations

import gzip

import i3_bytes as b
import numpy as np
import pytest

from skymap_scanner.i3.alert import read_alert_event, read_alert_packet
from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.frame import FrameEntry
from skymap_scanner.i3.gcd import GeometryDiffHeader, OMGeo
from skymap_scanner.i3.geometry import read_gcd_geometry, read_geometry_table
from skymap_scanner.i3.registry import decode_entry
from skymap_scanner.i3.simulation import read_i3_events
from skymap_scanner.prepare.cleaning import online_l2_cleaning

DOMS = [(1, 1, -256.14, -521.08, 496.03, 20), (1, 2, -256.14, -521.08, 479.01, 20),
        (1, 61, -264.38, -520.4, 1945.0, 30), (79, 11, 31.25, -72.93, -159.13, 20)]


def decode(blob: bytes):
    return decode_entry(FrameEntry("I3Geometry", "I3Geometry", blob, 0), "G frame #1")


@pytest.mark.parametrize("omgeo_version", [0, 1, 2])
def test_geometry_blob(omgeo_version):
    omgeo = decode(b.geometry_blob(DOMS, omgeo_version))
    assert list(omgeo) == [(1, 1, 0), (1, 2, 0), (1, 61, 0), (79, 11, 0)]
    assert omgeo[(79, 11, 0)] == OMGeo(31.25, -72.93, -159.13, 20, 0.0444, 1 if omgeo_version == 2 else 0)
    assert omgeo[(1, 61, 0)].omtype == 30


def test_geometry_diff_header():
    diff = decode(b.geometry_diff_blob("baseline_gcd_135417.i3", plus=DOMS[:1], minus=[(1, 2)]))
    assert isinstance(diff, GeometryDiffHeader) and diff.base_filename == "baseline_gcd_135417.i3"
    assert diff.plus == {(1, 1, 0): OMGeo(-256.14, -521.08, 496.03, 20, 0.0444)}
    assert diff.minus == [(1, 2, 0)]


def _gcd_file(path, doms, key_blob=None):
    blob = key_blob if key_blob is not None else b.geometry_blob(doms)
    frames = [b.frame("I", []), b.frame("G", [("I3Geometry", "I3Geometry", blob)]), b.frame("C", []),
              b.frame("D", [])]
    path.write_bytes(gzip.compress(b"".join(frames)))
    return path


def test_gcd_geometry_keeps_in_ice_doms_and_applies_a_diff(tmp_path):
    path = _gcd_file(tmp_path / "g.i3.gz", DOMS)
    geometry = read_gcd_geometry(path)
    assert geometry.source == "GCD g.i3.gz" and len(geometry) == 3
    assert geometry.lookup([79], [11]).tolist() == [[31.25, -72.93, -159.13]]
    moved = OMGeo(0.0, 0.0, 0.0, 20, 0.0444)
    diff = GeometryDiffHeader("g.i3", {(1, 1, 0): moved, (2, 1, 0): moved}, [(79, 11, 0)])
    updated = read_gcd_geometry(path, diff)
    assert updated.keys().tolist() == [1001, 1002, 2001]
    assert updated.lookup([1], [1]).tolist() == [[0.0, 0.0, 0.0]]


def test_gcd_files_without_a_full_geometry(tmp_path):
    compressed = b.geometry_diff_blob("baseline.i3")
    with pytest.raises(I3DecodeError, match="compressed GCD needs its baseline"):
        read_gcd_geometry(_gcd_file(tmp_path / "c.i3.gz", [], compressed))
    (tmp_path / "none.i3").write_bytes(b.frame("I", []))
    with pytest.raises(I3DecodeError, match="no frame holds an I3Geometry"):
        read_gcd_geometry(tmp_path / "none.i3")
    with pytest.raises(I3DecodeError, match="truncated"):
        read_gcd_geometry(_gcd_file(tmp_path / "t.i3.gz", [], b.geometry_blob(DOMS)[:-9]))


@pytest.fixture(scope="module")
def table_doms(geometry_table):
    table = read_geometry_table(geometry_table)
    return [(int(s), int(o), x, y, z, 20) for s, o, x, y, z in
            zip(table.string, table.om, table.x, table.y, table.z, strict=True)]


@pytest.mark.shared_data
def test_alert_with_a_gcd_folder(shared_data, tmp_path, table_doms, geometry_table):
    _gcd_file(tmp_path / "baseline_gcd_135417.i3.gz", table_doms)
    path = shared_data / "events" / "run00136766-evt000007637140-GOLD.pkl"
    event = read_alert_event(path, gcd=tmp_path)
    assert event.geometry.source == "GCD baseline_gcd_135417.i3.gz"
    reference = read_alert_event(path, geometry_table=geometry_table)
    assert np.array_equal(event.hit_positions(), reference.hit_positions())
    cleaned = online_l2_cleaning(event.pulses, event.geometry)
    message = read_alert_packet(path).metadata
    assert (cleaned.npulses, cleaned.nch, round(cleaned.qtot, 5)) == (
        message["npulses"], message["nch"], message["qtot"])


@pytest.mark.shared_data
def test_legacy_baseline_name_and_interpolation_with_gcd(shared_data, tmp_path, table_doms):
    path = shared_data / "events" / "hese_event_01.json"
    hits = read_alert_packet(path).pulses()
    dropped = (int(hits.string[0]), int(hits.om[0]))
    _gcd_file(tmp_path / "2016_01_08_Run127381.i3.gz", [d for d in table_doms if d[:2] != dropped])
    event = read_alert_event(path, gcd=tmp_path)
    assert event.geometry.source == "GCD 2016_01_08_Run127381.i3.gz + 1 interpolated DOM(s)"
    assert event.geometry.lookup([dropped[0]], [dropped[1]]).shape == (1, 3)


@pytest.mark.shared_data
def test_simulation_file_with_its_own_g_frame(shared_data, tmp_path, table_doms):
    raw = gzip.decompress((shared_data / "simulation" / "oscNext_muongun_level3_v02_first_5_frames.i3.gz").read_bytes())
    g = b.frame("G", [("I3Geometry", "I3Geometry", b.geometry_blob(table_doms))])
    path = tmp_path / "sim_with_g.i3"
    path.write_bytes(g + raw)
    events = list(read_i3_events(path))
    assert len(events) == 5 and events[0].geometry.source == "sim_with_g.i3 G frame #1"
