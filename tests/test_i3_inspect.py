"""``skymap-scanner inspect``: the report, its text, the JSON keys and one-line errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from skymap_scanner.cli import cli
from skymap_scanner.event.io import write_event
from skymap_scanner.event.model import SEED_VERTEX, VERTEX_SHAPE
from skymap_scanner.i3.alert import read_alert_packet
from skymap_scanner.io.inspect import format_report, inspect_event
from skymap_scanner.simulation.synthetic import synthetic_event

GOLD = "run00136766-evt000007637140-GOLD.pkl"
JSON_KEYS = ("run_id", "event_id", "mjd", "event_type", "npulses", "nch", "qtot")


def run(*args: str):
    return CliRunner().invoke(cli, ["inspect", *map(str, args)])


@pytest.mark.shared_data
def test_report_of_an_alert(shared_data, geometry_table):
    report = inspect_event(shared_data / "events" / GOLD, geometry_table=geometry_table)
    message = read_alert_packet(shared_data / "events" / GOLD).metadata
    assert {k: report[k] for k in ("run_id", "event_id", "npulses", "nch", "qtot")} == {
        k: message[k] for k in ("run_id", "event_id", "npulses", "nch", "qtot")}
    assert report["event_time"] == message["eventtime"] and report["event_type"] == "neutrino"
    assert report["split_pulses"]["hlc"]["npulses"] + report["split_pulses"]["slc"]["npulses"] == 1781
    assert report["event_start_ns"] == pytest.approx(731657.4, abs=0.05)
    vertex = report["seeds"][SEED_VERTEX]  # added by the preparation, as in every scan
    assert (vertex["x"], vertex["y"], vertex["z"], vertex["time"]) == pytest.approx(
        (158.94, -345.23, -504.39, 735564.0), abs=1e-3)
    assert vertex["shape"] == VERTEX_SHAPE
    text = format_report(report)
    for fragment in ("sub-event 0 (InIceSplit)", "realtime version 2021a", "npulses 1641, nch 239",
                     "OnlineL2_SplineMPE", "baseline_gcd_135417.i3", "table icecube86.csv"):
        assert fragment in text


@pytest.mark.shared_data
def test_cli_json(shared_data, geometry_table):
    out = run(shared_data / "events" / GOLD, "--geometry", geometry_table, "--json")
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert set(JSON_KEYS) <= set(report)
    assert (report["npulses"], report["nch"], report["qtot"]) == (1641, 239, 2745.52501)
    assert report["mjd"] == pytest.approx(59754.67588432013, abs=1e-9)


@pytest.mark.shared_data
def test_cli_text_for_hese(shared_data, geometry_table):
    out = run(shared_data / "events" / "hese_event_01.json", "--geometry", geometry_table)
    assert out.exit_code == 0, out.output
    assert "event type        HESE, realtime version none" in out.output
    assert "HESE_VHESelfVetoVertexPos" in out.output


def test_cli_open_format_event(tmp_path):
    path = write_event(synthetic_event(), tmp_path / "event.npz")
    out = run(path, "--json")
    assert out.exit_code == 0, out.output
    assert set(JSON_KEYS) <= set(json.loads(out.output))


@pytest.mark.shared_data
def test_cli_errors_are_one_line(shared_data, tmp_path, geometry_table, monkeypatch):
    monkeypatch.delenv("SKYSCAN_GEOMETRY_TABLE", raising=False)
    truncated = tmp_path / GOLD
    truncated.write_bytes((shared_data / "events" / GOLD).read_bytes()[:5000])
    for args, fragment in (([truncated, "--geometry", geometry_table], "not a readable pickle"),
                           ([shared_data / "events" / GOLD], "baseline_gcd_135417.i3"),
                           ([tmp_path / "missing.pkl"], "missing.pkl")):
        out = run(*args)
        assert out.exit_code == 1 and fragment in out.output
        assert out.output.count("\n") == 1 and out.output.startswith("Error: ")
    both = run(shared_data / "events" / GOLD, "--gcd", tmp_path, "--geometry", geometry_table)
    assert both.exit_code == 2 and "exclude each other" in both.output
