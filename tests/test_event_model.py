"""Every validation rule of the event model (event/model.py) and the open format (event/io.py)."""

from __future__ import annotations

import copy
import io
import json
import math

import numpy as np
import pytest

from skymap_scanner.event.io import (
    EventFileError,
    event_from_bytes,
    event_from_dict,
    event_to_dict,
    read_event,
    write_event,
)
from skymap_scanner.event.model import (
    FLAG_LC,
    Event,
    EventError,
    EventMetadata,
    Geometry,
    Particle,
    Pulses,
    dom_key,
    dom_of_key,
)

META = EventMetadata(1, 2, "synthetic", 60000.0, is_real_event=False)


def _geometry() -> Geometry:
    return Geometry([2, 1, 1], [1, 2, 1], [20.0, 10.0, 0.0], [0.0, 0.0, 0.0], [0.0, -17.0, 0.0], source="t")


def _pulses() -> Pulses:
    return Pulses([2, 1, 1, 1], [1, 2, 1, 1], [5.0, 4.0, 3.0, 1.0], [1.0, 2.0, 3.0, 4.0], [FLAG_LC, 0, 0, FLAG_LC])


def _event(**kw) -> Event:
    return Event(**{"metadata": META, "pulses": _pulses(), "geometry": _geometry(), **kw})


# -- event/model.py -----------------------------------------------------------------------------------
@pytest.mark.parametrize("run_id", [99_999, 1_000_000])
def test_a_real_event_needs_a_six_digit_run_id(run_id):
    with pytest.raises(EventError, match="run_id"):
        EventMetadata(run_id, 1, "neutrino", 60000.0, is_real_event=True)
    EventMetadata(run_id, 1, "simulated", 60000.0, is_real_event=False)  # the rule is for real events
    EventMetadata(100_000, 1, "neutrino", 60000.0, is_real_event=True)
    EventMetadata(999_999, 1, "neutrino", 60000.0, is_real_event=True)


@pytest.mark.parametrize("mjd", [math.nan, math.inf])
def test_mjd_must_be_finite(mjd):
    with pytest.raises(EventError, match="mjd"):
        EventMetadata(1, 1, "synthetic", mjd, is_real_event=False)


def test_metadata_names_the_files():
    assert str(META) == "run00000001.evt000000000002.synthetic"


@pytest.mark.parametrize("column", range(5))
def test_pulse_columns_are_one_dimensional_and_equally_long(column):
    cols = [[1, 1], [1, 2], [0.0, 1.0], [1.0, 1.0], [0, 0]]
    two_d = [*cols[:column], [cols[column]], *cols[column + 1:]]
    with pytest.raises(EventError, match="one-dimensional"):
        Pulses(*two_d)
    short = [*cols[:column], cols[column][:1], *cols[column + 1:]]
    with pytest.raises(EventError, match="differ in length"):
        Pulses(*short)


@pytest.mark.parametrize("column", ["time", "charge"])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_pulse_times_and_charges_are_finite(column, bad):
    cols = {"string": [1], "om": [1], "time": [0.0], "charge": [1.0], "flags": [0]}
    cols[column] = [bad]
    with pytest.raises(EventError, match=f"pulses.{column}"):
        Pulses(**cols)


def test_pulses_are_sorted_by_string_om_time_with_their_columns():
    p = _pulses()
    assert list(zip(p.string, p.om, p.time, p.charge, strict=True)) == [
        (1, 1, 1.0, 4.0), (1, 1, 3.0, 3.0), (1, 2, 4.0, 2.0), (2, 1, 5.0, 1.0)]
    assert p.flags.tolist() == [FLAG_LC, 0, 0, FLAG_LC] and p.hlc.tolist() == [True, False, False, True]
    assert (p.string.dtype, p.om.dtype, p.time.dtype, p.flags.dtype) == (np.int32, np.int32, np.float64, np.uint8)


def test_dom_keys_and_first_pulse_per_dom():
    p = _pulses()
    assert p.dom_keys().tolist() == [1001, 1001, 1002, 2001] and p.dom_keys().dtype == np.int64
    assert p.first_per_dom().tolist() == [0, 2, 3] and p.n_channels == 3
    assert p.time[p.first_per_dom()].tolist() == [1.0, 4.0, 5.0]
    assert Pulses.empty().first_per_dom().tolist() == [] and len(Pulses.empty()) == 0
    assert dom_key(86, 60) == 86060
    string, om = dom_of_key(np.array([1001, 86060]))
    assert string.tolist() == [1, 86] and om.tolist() == [1, 60]


@pytest.mark.parametrize("column", range(5))
def test_geometry_columns_are_one_dimensional_and_equally_long(column):
    cols = [[1, 1], [1, 2], [0.0, 0.0], [0.0, 0.0], [0.0, -17.0]]
    with pytest.raises(EventError, match="one-dimensional"):
        Geometry(*[*cols[:column], [cols[column]], *cols[column + 1:]])
    with pytest.raises(EventError, match="differ in length"):
        Geometry(*[*cols[:column], cols[column][:1], *cols[column + 1:]])


def test_geometry_lists_each_dom_once_sorted():
    with pytest.raises(EventError, match="twice"):
        Geometry([1, 1], [1, 1], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0])
    g = _geometry()
    assert g.keys().tolist() == [1001, 1002, 2001] and g.x.tolist() == [0.0, 10.0, 20.0]


def test_lookup_names_a_missing_dom():
    g = _geometry()
    assert g.lookup(np.array([2, 1]), np.array([1, 2])).tolist() == [[20.0, 0.0, 0.0], [10.0, 0.0, -17.0]]
    with pytest.raises(EventError, match=r"DOM \(3, 7\) has no position in the geometry \(t\)"):
        g.lookup(np.array([1, 3]), np.array([1, 7]))
    with pytest.raises(EventError, match=r"DOM \(1, 1\) has no position in the geometry \(unnamed\)"):
        Geometry([], [], [], [], []).lookup(np.array([1]), np.array([1]))


def test_an_event_needs_pulses_with_positions():
    with pytest.raises(EventError, match="no pulses"):
        _event(pulses=Pulses.empty())
    with pytest.raises(EventError, match=r"DOM \(2, 1\)"):
        _event(geometry=Geometry([1, 1], [1, 2], [0.0, 0.0], [0.0, 0.0], [0.0, -17.0]))
    assert _event().hit_positions()[-1].tolist() == [20.0, 0.0, 0.0]


@pytest.mark.parametrize("losses", [np.zeros(5), np.zeros((2, 4)), np.zeros((1, 5, 1))])
def test_truth_losses_have_five_columns(losses):
    with pytest.raises(EventError, match="truth_losses"):
        _event(truth_losses=losses)
    assert _event(truth_losses=[[1, 2, 3, 4, 5]]).truth_losses.dtype == np.float64


def test_particle_flags():
    assert not Particle().has_direction and not Particle().has_vertex
    assert Particle(zenith=1.0, azimuth=2.0).has_direction and not Particle(zenith=1.0).has_direction
    assert Particle(x=1.0, y=2.0, z=3.0).has_vertex and not Particle(x=1.0, y=2.0).has_vertex


# -- event/io.py --------------------------------------------------------------------------------------
@pytest.fixture
def layout() -> dict:
    return event_to_dict(_event(seeds={"s": Particle(zenith=1.0, shape="x")}))


def _broken(layout: dict, path: tuple, value: object = None, delete: bool = False) -> dict:
    d = copy.deepcopy(layout)
    target = d
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return d


@pytest.mark.parametrize(("path", "value", "delete", "message"), [
    (("format",), "other", False, "field 'format'"),
    (("format",), None, True, "field 'format'"),
    (("format_version",), 2, False, "unsupported format_version 2"),
    (("metadata",), None, True, "missing or malformed field 'metadata'"),
    (("pulses",), [1, 2], False, "missing or malformed field 'pulses'"),
    (("geometry",), "x", False, "missing or malformed field 'geometry'"),
    (("metadata", "mjd"), None, True, "metadata lacks 'mjd'"),
    (("metadata", "run_id"), "one", False, "metadata: "),
    (("metadata", "mjd"), "nan", False, "mjd must be a number"),
    (("metadata", "mjd"), float("nan"), False, "mjd must be finite"),
    (("pulses", "charge"), None, True, r"pulses lacks column\(s\) \['charge'\]"),
    (("geometry", "z"), None, True, r"geometry lacks column\(s\) \['z'\]"),
    (("pulses", "time"), ["a", "b", "c", "d"], False, "pulses.time must hold numbers"),
    (("seeds", "s"), [1.0], False, "seeds.s must be an object"),
    (("truth",), {"t": {"mass": 1.0}}, False, r"truth.t: unknown field\(s\) \['mass'\]"),
    (("seeds", "s", "zenith"), "up", False, "seeds.s.zenith must be a number or null"),
    (("pulses", "om"), [1, 2, 1], False, "differ in length"),
])
def test_event_from_dict_names_the_bad_field(layout, path, value, delete, message):
    with pytest.raises(EventError, match=message):
        event_from_dict(_broken(layout, path, value, delete))


def test_event_from_dict_needs_an_object_and_reads_nulls_as_nan(layout):
    with pytest.raises(EventError, match="top level must be an object"):
        event_from_dict([layout])
    event = event_from_dict(layout)
    assert event.seeds["s"].shape == "x" and math.isnan(event.seeds["s"].azimuth)
    assert event_from_dict(_broken(layout, ("seeds",), None)).seeds == {}


def test_files_need_a_known_suffix_and_readable_content(tmp_path):
    event = _event()
    with pytest.raises(EventFileError, match="end in .npz or .json"):
        write_event(event, tmp_path / "event.txt")
    (tmp_path / "event.txt").write_text("{}")
    with pytest.raises(EventFileError, match="unknown suffix"):
        read_event(tmp_path / "event.txt")
    with pytest.raises(EventFileError, match="no such event file"):
        read_event(tmp_path / "missing.npz")
    (tmp_path / "event.json").write_text("[1, 2]")
    with pytest.raises(EventFileError, match="event.json: top level must be an object"):
        read_event(tmp_path / "event.json")


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_npz_needs_a_json_object_header(tmp_path):
    with pytest.raises(EventError, match="no 'header' array"):
        event_from_bytes(_npz(other=np.zeros(1)))
    with pytest.raises(EventError, match="header must be a JSON object"):
        event_from_bytes(_npz(header=np.array(json.dumps([1]))))
    with pytest.raises(EventFileError, match=r"event bytes: not an \.npz \(zip\) file"):
        event_from_bytes(b"not a zip file")
    path = tmp_path / "event.npz"
    path.write_bytes(_npz(header=np.array(json.dumps([1]))))
    with pytest.raises(EventFileError, match="event.npz: header must be a JSON object"):
        read_event(path)
