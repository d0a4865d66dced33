import json

import numpy as np
import pytest

from skymap_scanner.event.io import (
    EventFileError,
    event_from_bytes,
    event_to_bytes,
    event_to_dict,
    read_event,
    write_event,
)
from skymap_scanner.event.model import EventError, EventMetadata
from skymap_scanner.io.events import load_event
from skymap_scanner.simulation.synthetic import synthetic_event


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_round_trip(tmp_path, suffix):
    event = synthetic_event(seed=3)
    back = load_event(write_event(event, tmp_path / f"e{suffix}"))
    assert back.metadata == event.metadata
    assert back.seeds == event.seeds and back.truth == event.truth
    for col in ("string", "om", "time", "charge", "flags"):
        np.testing.assert_array_equal(getattr(back.pulses, col), getattr(event.pulses, col))
    np.testing.assert_array_equal(back.geometry.positions(), event.geometry.positions())
    assert event_from_bytes(event_to_bytes(event)).metadata == event.metadata


def test_missing_and_garbage_files(tmp_path):
    with pytest.raises(EventFileError, match="no such event file"):
        load_event(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(EventFileError, match="bad.npz"):
        read_event(bad)
    txt = tmp_path / "bad.json"
    txt.write_text("{")
    with pytest.raises(EventFileError, match="bad.json"):
        load_event(txt)


def test_malformed_fields_are_named(tmp_path):
    d = json.loads(json.dumps(event_to_dict(synthetic_event())))
    del d["pulses"]["charge"]
    path = tmp_path / "e.json"
    path.write_text(json.dumps(d))
    with pytest.raises(EventFileError, match="charge"):
        load_event(path)
    d = json.loads(json.dumps(event_to_dict(synthetic_event())))
    d["format_version"] = 99
    path.write_text(json.dumps(d))
    with pytest.raises(EventFileError, match="format_version"):
        load_event(path)


def test_metadata_rules():
    with pytest.raises(EventError, match="run_id"):
        EventMetadata(12, 1, "neutrino", 59000.0, True)
    assert str(EventMetadata(136766, 7637140, "neutrino", 59754.6, True)) == "run00136766.evt000007637140.neutrino"
