"""Geometry sources: the DOM table, interpolation for the DOMs it lacks, and baseline GCD lookup."""

from __future__ import annotations

import numpy as np
import pytest

from skymap_scanner.event.model import Geometry
from skymap_scanner.i3.alert import read_alert_packet
from skymap_scanner.i3.geometry import (
    GeometryError,
    find_baseline_gcd,
    read_geometry_table,
    with_interpolated_doms,
)

#: the in-ice DOMs the table lacks (docs/i3-format.md §8.4)
MISSING = ([(5, 21), (5, 22)] + [(7, om) for om in range(35, 43)] + [
    (7, 45), (7, 46), (8, 59), (8, 60), (9, 15), (9, 16), (11, 1), (11, 2), (18, 45), (18, 46), (24, 56),
    (26, 46), (27, 7), (27, 8), (28, 41), (28, 42), (29, 59), (29, 60), (30, 23), (30, 60), (32, 57), (32, 58)]
    + [(34, om) for om in range(11, 16)] + [
    (34, 17), (34, 22), (39, 22), (40, 33), (40, 34), (40, 51), (40, 52), (42, 47), (42, 48), (44, 25), (44, 26),
    (44, 47), (44, 48), (47, 55), (47, 56), (49, 55), (49, 56), (50, 36), (53, 17), (53, 18), (54, 47), (59, 45),
    (59, 46), (66, 33), (66, 34), (66, 45), (66, 46), (69, 23), (69, 24), (69, 44), (69, 47), (69, 48), (71, 39),
    (74, 9), (74, 17), (74, 18), (79, 55), (79, 56), (86, 27), (86, 28)])


@pytest.fixture(scope="module")
def table(geometry_table):
    return read_geometry_table(geometry_table)


@pytest.mark.shared_data
def test_table_holds_in_ice_doms_only_and_lacks_77(table):
    assert len(table) == 5083 and table.om.max() == 60 and table.source == "table icecube86.csv"
    grid = {(s, o) for s in range(1, 87) for o in range(1, 61)}
    missing = grid - set(zip(table.string.tolist(), table.om.tolist(), strict=True))
    assert len(MISSING) == 77 and missing == set(MISSING)


@pytest.mark.shared_data
@pytest.mark.parametrize("phase", range(3))
def test_interpolation_of_removed_doms(table, phase):
    # remove every third DOM of each string and interpolate it back; the DeepCore strings change
    # spacing between OM 10 and 11, which no neighbour-based fallback covers
    gap = (table.string >= 79) & np.isin(table.om, (10, 11))
    out = (table.om % 3 == phase) & ~gap
    rest = Geometry(table.string[~out], table.om[~out], table.x[~out], table.y[~out], table.z[~out])
    filled = with_interpolated_doms(rest, table.string[out], table.om[out])
    errors = np.linalg.norm(filled.lookup(table.string[out], table.om[out]) - table.positions()[out], axis=1)
    assert np.mean(errors < 1.0) > 0.97 and errors.max() < 4.0


@pytest.mark.shared_data
def test_every_hit_dom_gets_a_position(shared_data, table):
    for path in sorted((shared_data / "events").iterdir()):
        stack = read_alert_packet(path).stack
        hits = stack.pulses("InIceDSTPulses").in_ice()  # the whole Q frame, beyond the split event
        full = with_interpolated_doms(table, hits.string, hits.om)
        assert full.lookup(hits.string, hits.om).shape == (hits.n_doms, 3)
    gold = read_alert_packet(shared_data / "events" / "run00136766-evt000007637140-GOLD.pkl")
    hits = gold.stack.pulses("InIceDSTPulses").in_ice()
    assert ((hits.string == 9) & (hits.om == 16)).any()  # a hit on a DOM the table lacks
    full = with_interpolated_doms(table, hits.string, hits.om)
    assert "interpolated" in full.source
    x, y, z = full.lookup([9, 9, 9], [14, 16, 17])
    assert y[:2] == pytest.approx(x[:2]) and z[2] < y[2] < x[2]
    assert y[2] == pytest.approx(x[2] - 2 * (x[2] - z[2]) / 3)


def test_interpolation_needs_two_doms_on_the_string():
    geometry = Geometry([1, 1, 2], [1, 3, 1], [0, 0, 9], [0, 0, 9], [10, -10, 0])
    assert with_interpolated_doms(geometry, [1], [2]).lookup([1], [2]).tolist() == [[0, 0, 0]]
    assert with_interpolated_doms(geometry, [1], [5]).lookup([1], [5]).tolist() == [[0, 0, -30]]
    with pytest.raises(GeometryError, match="string 2 has 1 DOM"):
        with_interpolated_doms(geometry, [2], [2])


@pytest.mark.parametrize("text, reason", [
    ("string,om,x,y\n1,1,0,0\n", "lacks column"),
    ("string,om,x,y,z\n1,a,0,0,0\n", "malformed"),
    ("string,om,x,y,z\n1,1,0,0\n", "malformed"),
    ("string,om,x,y,z,dom_type\n1,61,0,0,0,30\n", "no in-ice DOMs"),
    ("string,om,x,y,z\n1,1,0,nan,0\n", "non-finite"),
])
def test_malformed_tables(tmp_path, text, reason):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(GeometryError, match=reason):
        read_geometry_table(path)


def test_table_without_dom_type_uses_om_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("string,om,x,y,z\n1,1,0,0,5\n1,61,0,0,0\n")
    assert len(read_geometry_table(path)) == 1


def test_find_baseline_gcd(tmp_path):
    (tmp_path / "baseline_gcd_135417.i3.zst").write_bytes(b"")
    (tmp_path / "2016_01_08_Run127381.i3").write_bytes(b"")
    assert find_baseline_gcd(tmp_path, "baseline_gcd_135417.i3").name == "baseline_gcd_135417.i3.zst"
    assert find_baseline_gcd(tmp_path, "current-gcd").name == "2016_01_08_Run127381.i3"
    assert find_baseline_gcd(tmp_path / "2016_01_08_Run127381.i3", "anything").name == "2016_01_08_Run127381.i3"
    with pytest.raises(GeometryError, match="baseline_gcd_999.i3"):
        find_baseline_gcd(tmp_path, "/some/where/baseline_gcd_999.i3")
    with pytest.raises(GeometryError, match="neither a file nor a folder"):
        find_baseline_gcd(tmp_path / "nope", "x")
