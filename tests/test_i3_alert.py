"""Golden tests on every sample alert (docs/i3-format.md §10) and the alert-level rules."""

from __future__ import annotations

import pickle

import i3_bytes as b
import pytest

from skymap_scanner.event.model import SEED_DIRECTION, SEED_VERTEX, VERTEX_SHAPE
from skymap_scanner.i3.alert import read_alert_event, read_alert_packet
from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.frame import parse_frame
from skymap_scanner.i3.geometry import GeometryError
from skymap_scanner.io.events import load_event
from skymap_scanner.prepare.seed_vertex import with_vertex_seed

GOLDEN = {
    "run00136766-evt000007637140-GOLD.pkl": dict(
        frames=[("G", 1), ("C", 1), ("D", 1), ("Q", 5), ("P", 14)], start=(2022, 150919964052594113),
        time="2022-06-24 16:13:16.405259", mjd=59754.67588432013, sub_event=0, run=136766, event=7637140,
        q_start="2022-06-24 16:13:16.404528", q_length=1240063.2, offset=731657.4,
        time_range=(731350.50, 751241.62), triggers=11, first_trigger=(2, 10000, 1224063),
        base="baseline_gcd_135417.i3", type="neutrino", version="2021a",
        spline=(2.2794648, 0.3753281, (100.361, -389.716, -449.026), 735782.443),
        vertex=((158.94, -345.23, -504.39), 735564.0)),
    "run00136662-evt000035405932-BRONZE.pkl": dict(
        frames=[("G", 1), ("C", 1), ("D", 1), ("Q", 5), ("P", 14)], start=(2022, 123828921853524946),
        time="2022-05-24 07:41:32.185352", mjd=59723.32051140454, sub_event=1, run=136662, event=35405932,
        q_start="2022-05-24 07:41:32.185325", q_length=47231.6, offset=27758.5,
        time_range=(27452.49, 47086.42), triggers=14, first_trigger=(0, 10000, 3388),
        base="baseline_gcd_135417.i3", type="neutrino", version="2021a",
        spline=(1.5107753, 0.6658713, (-178.693, 346.641, 186.546), 32493.643),
        vertex=((22.11, 509.50, 199.662), 31674.0)),
    "hese_event_01.json": dict(
        frames=[("G", 1), ("C", 1), ("D", 1), ("Q", 9), ("P", 17)], start=(2016, 112012019883772887),
        time="2016-05-09 15:26:41.988377", mjd=57517.64354153215, sub_event=0, run=127907, event=20178442,
        q_start="2016-05-09 15:26:41.988371", q_length=26522.9, offset=6000.0,
        time_range=(5693.16, 25750.77), triggers=5, first_trigger=(0, 10000, 9873),
        base="current-gcd", type="HESE", version="", spline=None,
        vertex=((-369.279, -210.286, 358.082), 9965.0)),
}


@pytest.mark.shared_data
def test_every_sample_event_has_golden_numbers(shared_data):
    assert sorted(p.name for p in (shared_data / "events").iterdir()) == sorted(GOLDEN)


@pytest.fixture(scope="module")
def decoded(shared_data, geometry_table):
    return {name: (read_alert_packet(shared_data / "events" / name),
                   read_alert_event(shared_data / "events" / name, geometry_table=geometry_table))
            for name in GOLDEN}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", GOLDEN)
def test_frames_header_and_time(decoded, name):
    g = GOLDEN[name]
    packet, event = decoded[name]
    assert [(f.stop, len(f.entries)) for f in packet.stack.frames] == g["frames"]
    assert all(f.version == 6 for f in packet.stack.frames)
    header, daq = packet.header(), packet.daq_header()
    assert (header.start.year, header.start.daq_time) == g["start"]
    assert header.start.to_datetime().isoformat(sep=" ") == g["time"]
    assert (header.run_id, header.event_id, header.sub_event_id) == (g["run"], g["event"], g["sub_event"])
    assert daq.start.to_datetime().isoformat(sep=" ") == g["q_start"]
    assert daq.end.ns_since(daq.start) == pytest.approx(g["q_length"], abs=0.05)
    assert header.start.ns_since(daq.start) == pytest.approx(g["offset"], abs=0.05)
    assert event.metadata.mjd == pytest.approx(g["mjd"], abs=1e-9)
    assert (event.metadata.run_id, event.metadata.event_id) == (g["run"], g["event"])
    assert event.metadata.is_real_event and event.metadata.event_type == g["type"]
    assert packet.version == event.realtime_version == g["version"]


@pytest.mark.shared_data
@pytest.mark.parametrize("name", GOLDEN)
def test_time_range_triggers_and_geometry_diff(decoded, name):
    g = GOLDEN[name]
    stack = decoded[name][0].stack
    assert stack.get("SplitUncleanedInIcePulsesTimeRange") == pytest.approx(g["time_range"], abs=0.01)
    triggers = stack.get("DSTTriggers")
    assert len(triggers) == g["triggers"]
    assert (triggers[0].index, triggers[0].start, triggers[0].length) == g["first_trigger"]
    diff = decoded[name][0].geometry_diff()
    assert (diff.base_filename, diff.plus, diff.minus) == (g["base"], {}, [])


@pytest.mark.shared_data
@pytest.mark.parametrize("name", GOLDEN)
def test_seeds_equal_the_online_fits_and_the_message(decoded, name):
    g = GOLDEN[name]
    packet, event = decoded[name]
    (x, y, z), t = g["vertex"]
    vertex = with_vertex_seed(event).seeds[SEED_VERTEX]
    assert (vertex.x, vertex.y, vertex.z, vertex.time) == pytest.approx((x, y, z, t), abs=1e-3)
    assert vertex.shape == VERTEX_SHAPE
    if g["spline"] is None:
        assert SEED_DIRECTION not in event.seeds and "HESE_SPEFit2" in event.seeds
        assert event.seeds["HESE_VHESelfVetoVertexPos"] == event.seeds[SEED_VERTEX] == vertex  # IceTray's
        return
    assert SEED_VERTEX not in event.seeds  # decoders only decode: the seed is computed in preparation
    zen, azi, pos, time = g["spline"]
    fit = event.seeds[SEED_DIRECTION]
    assert event.seeds["OnlineL2_SplineMPE"] == fit and "OnlineL2_BestFit" in event.seeds
    assert (fit.zenith, fit.azimuth) == pytest.approx((zen, azi), abs=1e-7)
    assert (fit.x, fit.y, fit.z, fit.time) == pytest.approx((*pos, time), abs=1e-3)
    message = packet.metadata["reco"]["splinempe"]
    assert (round(fit.zenith, 5), round(fit.azimuth, 5)) == (message["zen"], message["azi"])
    assert packet.metadata["eventtime"] == g["time"]


@pytest.mark.shared_data
@pytest.mark.parametrize("which", ["GOLD", "BRONZE"])
def test_startup_packet_muex_energy_equals_the_message(shared_data, which):
    packet = read_alert_packet(shared_data / "reference" / "cleaning_masks" / f"splinempe-{which}-startup.json")
    name = next(n for n in GOLDEN if which in n)
    message = read_alert_packet(shared_data / "events" / name).metadata
    assert packet.physics.stop == "p"
    assert round(packet.stack.get("OnlineL2_BestFit_MuEx").energy, 5) == message["reco"]["energy"]["mpe_muex"]


@pytest.mark.shared_data
def test_alert_without_geometry_names_the_baseline_gcd(shared_data, monkeypatch):
    monkeypatch.delenv("SKYSCAN_GEOMETRY_TABLE", raising=False)
    with pytest.raises(GeometryError, match="baseline_gcd_135417.i3"):
        load_event(shared_data / "events" / "run00136766-evt000007637140-GOLD.pkl")
    with pytest.raises(GeometryError, match=r"current-gcd.*2016_01_08_Run127381\.i3"):
        load_event(shared_data / "events" / "hese_event_01.json")


@pytest.mark.shared_data
def test_geometry_table_from_the_environment(shared_data, geometry_table, monkeypatch):
    monkeypatch.setenv("SKYSCAN_GEOMETRY_TABLE", str(geometry_table))
    event = load_event(shared_data / "events" / "run00136662-evt000035405932-BRONZE.pkl")
    assert event.geometry.source.startswith("table icecube86.csv")


def _rewrite(shared_data, tmp_path, version, renames=None, drop=()):
    """The GOLD message with another version and P-frame keys renamed or dropped (frames rebuilt)."""
    src = shared_data / "events" / "run00136766-evt000007637140-GOLD.pkl"
    message = pickle.loads(src.read_bytes())
    packet = read_alert_packet(src)
    frames = []
    for frame in packet.stack.frames:
        entries = [((renames or {}).get(k, k), e.type_name, e.blob) for k, e in frame.entries.items()
                   if k not in drop]
        frames.append([frame.stop, b.frame_string(b.frame(frame.stop, entries))])
    message["value"]["version"] = version
    message["value"]["data"]["frames"] = frames
    path = tmp_path / "rewritten.pkl"
    path.write_bytes(pickle.dumps(message, protocol=3))
    return path


@pytest.mark.shared_data
def test_realtime_version_selects_the_keys(shared_data, geometry_table, tmp_path):
    renames = {"SplitUncleanedInIcePulses": "SplitInIcePulses", "OnlineL2_SplineMPE": "l2_online_SplineMPE"}
    event = read_alert_event(_rewrite(shared_data, tmp_path, "2024a", renames), geometry_table=geometry_table)
    assert len(event.pulses) == 1781 and event.realtime_version == "2024a"
    assert event.seeds[SEED_DIRECTION] == event.seeds["l2_online_SplineMPE"]
    with pytest.raises(I3DecodeError, match="SplitInIcePulses"):
        read_alert_event(_rewrite(shared_data, tmp_path, "2023a"), geometry_table=geometry_table)
    unknown = read_alert_event(_rewrite(shared_data, tmp_path, "2099z"), geometry_table=geometry_table)
    assert len(unknown.pulses) == 1781


@pytest.mark.shared_data
def test_event_type_without_the_followup_message(shared_data, geometry_table, tmp_path):
    path = _rewrite(shared_data, tmp_path, "2021a", drop={"AlertShortFollowupMsg"})
    assert read_alert_event(path, geometry_table=geometry_table).metadata.event_type == "none"


def _message_file(tmp_path, frames):
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps({"value": {"data": {"frames": frames}}}, protocol=3))
    return path


def test_packet_structure_errors(tmp_path):
    p = b.frame_string(b.frame("P", []))
    q = b.frame_string(b.frame("Q", []))
    with pytest.raises(I3DecodeError, match="last frame must be a physics frame"):
        read_alert_packet(_message_file(tmp_path, [["P", p], ["Q", q]]))
    with pytest.raises(I3DecodeError, match="no Q frame"):
        read_alert_packet(_message_file(tmp_path, [["P", p]]))
    with pytest.raises(I3DecodeError, match="message says stop 'Q'"):
        read_alert_packet(_message_file(tmp_path, [["Q", p], ["P", p]]))
    assert parse_frame(b.frame("P", []), 1).entries == {}
