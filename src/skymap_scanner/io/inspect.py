"""The ``inspect`` report of an event file: identity, time, pulse counts, cleaning, fits, geometry.

:func:`inspect_event` returns a JSON-ready dict (top-level ``run_id, event_id, mjd, event_type,
npulses, nch, qtot`` describe the OnlineL2-cleaned pulses; ``seeds`` are the event's after the
preparation every scan applies, i.e. with the VHESelfVeto vertex seed); :func:`format_report`
renders it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from skymap_scanner.event.io import FORMAT_NAME, load_json, read_text
from skymap_scanner.event.model import Event, EventError, Particle, Pulses
from skymap_scanner.i3.alert import AlertPacket, alert_geometry, build_event, read_alert_packet
from skymap_scanner.io.events import load_event
from skymap_scanner.prepare.cleaning import online_l2_cleaning, pulse_summary
from skymap_scanner.prepare.seed_vertex import with_vertex_seed

#: message metadata compared with the cleaning
MESSAGE_COUNTS = ("npulses", "nch", "qtot")


def _is_alert(path: Path) -> bool:
    if path.suffix == ".pkl":
        return True
    if path.suffix != ".json":
        return False
    try:
        head = load_json(read_text(path), "the file")
    except (OSError, EventError):
        return True  # let the alert reader report the problem
    return not (isinstance(head, dict) and head.get("format") == FORMAT_NAME)


def _counts(pulses: Pulses) -> dict[str, Any]:
    n, nch, qtot = pulse_summary(pulses)
    return {"npulses": n, "nch": nch, "qtot": round(qtot, 6)}


def _particle(p: Particle) -> dict[str, Any]:
    values = {"zenith": p.zenith, "azimuth": p.azimuth, "x": p.x, "y": p.y, "z": p.z,
              "time": p.time, "energy": p.energy}
    out: dict[str, Any] = {k: v for k, v in values.items() if math.isfinite(v)}
    out["shape"] = p.shape
    return out


def _alert_part(packet: AlertPacket) -> dict[str, Any]:
    header, daq = packet.header(), packet.daq_header()
    part: dict[str, Any] = {
        "sub_event_id": header.sub_event_id,
        "sub_event_stream": header.sub_event_stream,
        "event_time": header.start.to_datetime().isoformat(sep=" "),
        "readout_start": daq.start.to_datetime().isoformat(sep=" "),
        "event_start_ns": header.start.ns_since(daq.start),
        "realtime_version": packet.version or "none",
        "pulse_key": packet.keys[0],
        "baseline_gcd": packet.baseline_gcd(),
    }
    message = {k: packet.metadata[k] for k in MESSAGE_COUNTS if k in packet.metadata}
    if message:
        part["message"] = message
    return part


def _event_part(event: Event) -> dict[str, Any]:
    event = with_vertex_seed(event)
    pulses = event.pulses
    cleaning = online_l2_cleaning(pulses, event.geometry)
    return {
        "run_id": event.metadata.run_id,
        "event_id": event.metadata.event_id,
        "mjd": event.metadata.mjd,
        "event_type": event.metadata.event_type,
        "npulses": cleaning.npulses,
        "nch": cleaning.nch,
        "qtot": round(cleaning.qtot, 5),
        "split_pulses": {**_counts(pulses), "hlc": _counts(pulses.select(pulses.hlc)),
                         "slc": _counts(pulses.select(~pulses.hlc))},
        "seeds": {k: _particle(p) for k, p in event.seeds.items()},
        "truth": {k: _particle(p) for k, p in event.truth.items()},
        "geometry": event.geometry.source,
    }


def inspect_event(path: str | Path, gcd: str | Path | None = None,
                  geometry_table: str | Path | None = None) -> dict[str, Any]:
    """Report on an alert message or an open-format event file (raises ``EventError`` subclasses
    on bad input)."""
    path = Path(path)
    if not _is_alert(path):
        return {"file": str(path), **_event_part(load_event(path, gcd=gcd, geometry_table=geometry_table))}
    packet = read_alert_packet(path)
    event = build_event(packet, alert_geometry(packet, gcd, geometry_table))
    return {"file": str(path), **_event_part(event), **_alert_part(packet)}


def _fit_line(name: str, fit: dict[str, Any]) -> str:
    parts = [f"{k} {fit[k]:.5f}" for k in ("zenith", "azimuth") if k in fit]
    if "x" in fit:
        parts.append(f"vertex ({fit['x']:.2f}, {fit['y']:.2f}, {fit['z']:.2f}) m")
    parts += [f"time {fit['time']:.1f} ns"] if "time" in fit else []
    parts += [f"energy {fit['energy']:.4g} GeV"] if "energy" in fit else []
    return f"  {name:<28} {fit['shape'] or '-':<18} " + ", ".join(parts)


def _counts_text(c: dict[str, Any]) -> str:
    return f"{c['npulses']} pulses on {c['nch']} DOMs, {c['qtot']:.3f} PE"


def format_report(report: dict[str, Any]) -> str:
    """Human-readable text of an :func:`inspect_event` report."""
    split = report["split_pulses"]
    lines = [f"file              {report['file']}",
             f"event             run {report['run_id']}, event {report['event_id']}"
             + (f", sub-event {report['sub_event_id']} ({report['sub_event_stream']})"
                if "sub_event_id" in report else ""),
             *([f"event time        {report['event_time']} UTC (readout start "
                f"{report['readout_start']}, {report['event_start_ns']:.1f} ns earlier)"]
               if "event_time" in report else []),
             f"MJD               {report['mjd']:.9f}",
             f"event type        {report['event_type']}"
             + (f", realtime version {report['realtime_version']}" if "realtime_version" in report else ""),
             f"pulses            {report.get('pulse_key', 'event pulses')}: {_counts_text(split)}",
             f"  HLC / SLC       {_counts_text(split['hlc'])} / {_counts_text(split['slc'])}",
             f"cleaned (OnlineL2) npulses {report['npulses']}, nch {report['nch']}, qtot {report['qtot']:.5f}"]
    if "message" in report:
        lines.append("message           " + ", ".join(f"{k} {v}" for k, v in report["message"].items()))
    lines.append("online fits / seeds" if report["seeds"] else "online fits / seeds: none")
    lines += [_fit_line(k, v) for k, v in report["seeds"].items()]
    lines += ["MC truth"] + [_fit_line(k, v) for k, v in report["truth"].items()] if report["truth"] else []
    geometry = report["geometry"]
    if report.get("baseline_gcd"):
        geometry += f" (the alert's baseline GCD: {report['baseline_gcd']})"
    lines.append(f"geometry          {geometry}")
    return "\n".join(lines)
