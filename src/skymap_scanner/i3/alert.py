"""IceCube realtime alert messages (``.json`` / ``.pkl``) → the project's :class:`Event`.

Frames are decoded without IceTray (docs/i3-format.md); pulses come from the split-event key of the
message's realtime format version, with the P-frame masks applied and IceTop removed; times are
ns relative to the Q-frame readout window. Positions come from a GCD file or a DOM table (the
alert itself carries only a geometry diff against a named baseline file).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skymap_scanner.event.model import (
    SEED_DIRECTION,
    SEED_VERTEX,
    VERTEX_SHAPE,
    Event,
    EventError,
    EventMetadata,
    Geometry,
    Particle,
)
from skymap_scanner.i3.envelope import FrameBudget, decode_frame_string, frame_strings, load_message
from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.frame import Frame, parse_frame
from skymap_scanner.i3.framestack import FrameStack
from skymap_scanner.i3.gcd import GeometryDiffHeader
from skymap_scanner.i3.geometry import (
    GEOMETRY_TABLE_ENV,
    LEGACY_BASELINES,
    GeometryError,
    default_geometry_table,
    find_baseline_gcd,
    read_gcd_geometry,
    read_geometry_table,
    with_interpolated_doms,
)
from skymap_scanner.i3.objects import EventHeader
from skymap_scanner.i3.particle import I3ParticleData
from skymap_scanner.i3.pulses import PulseSeriesMap

#: realtime format version → (event pulse key, online SplineMPE key); missing or unknown versions
#: use 2021a's (icecube/skymap_scanner skymap_scanner/config.py)
REALTIME_KEYS = {
    "2021a": ("SplitUncleanedInIcePulses", "OnlineL2_SplineMPE"),
    "2023a": ("SplitInIcePulses", "l2_online_SplineMPE"),
    "2024a": ("SplitInIcePulses", "l2_online_SplineMPE"),
}
DEFAULT_REALTIME_KEYS = REALTIME_KEYS["2021a"]
#: AlertShortFollowupMsg key → event type, in upstream's order (utils/extract_json_message.py)
EVENT_TYPE_BY_MESSAGE_KEY = {"hese": "HESE", "ehe": "EHE", "neutrino": "neutrino", "estres": "ESTRES"}
#: without that message: a P-frame key that marks the event type
EVENT_TYPE_BY_FRAME_KEY = {"HESE_llhratio": "HESE", "Estres_p_miss": "ESTRES",
                           "PoleEHEOphelia_ImpLF": "EHE"}
FOLLOWUP_KEY = "AlertShortFollowupMsg"
#: online vertex seeds stored by IceTray: (position key, time key)
VERTEX_KEYS = (("HESE_VHESelfVetoVertexPos", "HESE_VHESelfVetoVertexTime"),
               ("SeedVertexPos", "SeedVertexTime"))
Q_HEADER_KEYS = ("QI3EventHeader", "I3EventHeader")
PHYSICS_STOPS = ("P", "p")


@dataclass(frozen=True)
class AlertPacket:
    """The decoded frames of one alert message and its metadata (``value.data`` without frames)."""

    source: str
    version: str
    stack: FrameStack
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def physics(self) -> Frame:
        return self.stack.frames[-1]

    @property
    def daq_index(self) -> int:
        for i in range(len(self.stack.frames) - 2, -1, -1):
            if self.stack.frames[i].stop == "Q":
                return i
        raise I3DecodeError(f"{self.source}: no Q frame before the physics frame")

    @property
    def keys(self) -> tuple[str, str]:
        """(event pulse key, online SplineMPE key) for this realtime version."""
        return REALTIME_KEYS.get(self.version, DEFAULT_REALTIME_KEYS)

    def header(self) -> EventHeader:
        """The P-frame (split event) header."""
        return self.stack.require("I3EventHeader", EventHeader, "P-frame I3EventHeader")

    def daq_header(self) -> EventHeader:
        """The Q-frame header: its start is the time zero of pulses and fits."""
        q = self.stack.frames[self.daq_index]
        for key in Q_HEADER_KEYS:
            if key in q:
                header = self.stack.get(key, self.daq_index)
                if isinstance(header, EventHeader):
                    return header
        raise I3DecodeError("the Q frame has no I3EventHeader", frame=q.label)

    def pulses(self) -> PulseSeriesMap:
        """The split event's in-ice pulses (P-frame masks applied, IceTop removed)."""
        return self.stack.pulses(self.keys[0]).in_ice()

    def geometry_diff(self) -> GeometryDiffHeader | None:
        diff = self.stack.get("I3GeometryDiff")
        return diff if isinstance(diff, GeometryDiffHeader) else None

    def baseline_gcd(self) -> str | None:
        """The baseline GCD file the alert's geometry diff refers to."""
        diff = self.geometry_diff()
        return diff.base_filename if diff else None

    def event_type(self) -> str:
        followup = self.stack.get(FOLLOWUP_KEY)
        if isinstance(followup, str):
            try:
                keys = json.loads(followup)
            except (ValueError, RecursionError):
                raise I3DecodeError("not valid JSON", frame=self.physics.label,
                                    key=FOLLOWUP_KEY) from None
            for key, event_type in EVENT_TYPE_BY_MESSAGE_KEY.items():
                if isinstance(keys, dict) and key in keys:
                    return event_type
        for key, event_type in EVENT_TYPE_BY_FRAME_KEY.items():
            if key in self.physics:
                return event_type
        return "none"

    def online_fits(self) -> dict[str, I3ParticleData]:
        """Every ``I3Particle`` of the physics frame, by key."""
        fits = {}
        for key in self.physics.entries:
            if self.stack.class_name(key) == "I3Particle":
                fits[key] = self.stack.get(key)
        return fits

    def online_vertex(self) -> tuple[str, Particle] | None:
        """(key, vertex) stored in the physics frame: HESE VHESelfVeto or a scanner packet's seed."""
        for pos_key, time_key in VERTEX_KEYS:
            pos, time = self.stack.get(pos_key), self.stack.get(time_key)
            if isinstance(pos, tuple) and isinstance(time, float):
                x, y, z = pos
                return pos_key, Particle(x=x, y=y, z=z, time=time, shape=VERTEX_SHAPE)
        return None


def _decode_frames(message: dict[str, Any]) -> list[Frame]:
    frames = []
    budget = FrameBudget()
    for i, (stop, b64) in enumerate(frame_strings(message), start=1):
        frame = parse_frame(decode_frame_string(b64, f"{stop} frame #{i}", budget), i)
        if frame.stop != stop:
            raise I3DecodeError(f"the message says stop {stop!r}, the frame says {frame.stop!r}",
                                frame=frame.label, offset=10)
        frames.append(frame)
    if frames[-1].stop not in PHYSICS_STOPS:
        raise I3DecodeError(f"the last frame must be a physics frame, not {frames[-1].stop!r}",
                            frame=frames[-1].label)
    return frames


def _value(message: dict[str, Any]) -> dict[str, Any]:
    value = message.get("value")
    return value if isinstance(value, dict) else {}


def read_alert_packet(path: str | Path) -> AlertPacket:
    """Decode the frames of an alert message (or a scanner startup packet)."""
    message = load_message(path)
    try:
        frames = _decode_frames(message)
    except I3DecodeError as e:
        raise _in_file(path, e) from None
    value = _value(message)
    data = value.get("data")
    metadata = {k: v for k, v in data.items() if k != "frames"} if isinstance(data, dict) else {}
    version = value.get("version", "")
    if not any(f.stop == "Q" for f in frames[:-1]):
        raise I3DecodeError(f"{path}: no Q frame before the physics frame")
    return AlertPacket(str(path), version if isinstance(version, str) else "",
                       FrameStack(frames), metadata)


def alert_geometry(packet: AlertPacket, gcd: str | Path | None = None,
                   geometry_table: str | Path | None = None) -> Geometry:
    """DOM positions for the alert: ``gcd`` (a file, or a folder holding the baseline named by
    the alert), else ``geometry_table``, else ``$SKYSCAN_GEOMETRY_TABLE``."""
    if gcd is not None:
        base = packet.baseline_gcd() or ""
        return read_gcd_geometry(find_baseline_gcd(gcd, base), packet.geometry_diff())
    table = geometry_table if geometry_table is not None else default_geometry_table()
    if table is not None:
        return read_geometry_table(table)
    base = packet.baseline_gcd()
    needed = f"{base!r}" if base else "(not named in the message)"
    if base in LEGACY_BASELINES:
        needed += f" (= {LEGACY_BASELINES[base]})"
    raise GeometryError(
        f"{packet.source}: no geometry: the event needs baseline GCD file {needed}; pass a GCD "
        f"file or folder (--gcd) or a DOM table (--geometry, or ${GEOMETRY_TABLE_ENV})"
    )


def build_event(packet: AlertPacket, geometry: Geometry) -> Event:
    """Assemble the :class:`Event` (geometry completed for hit DOMs the source lacks).

    Seeds: the frame's fits, ``SEED_DIRECTION`` = the online SplineMPE, ``SEED_VERTEX`` = the stored
    online vertex if any (a computed one is added in preparation, ``prepare.with_vertex_seed``)."""
    header = packet.header()
    try:
        pulses = packet.pulses().to_pulses()
    except I3DecodeError:
        raise
    except EventError as e:
        raise I3DecodeError(f"invalid pulses: {e}", frame=packet.physics.label, key=packet.keys[0]) from None
    geometry = with_interpolated_doms(geometry, pulses.string, pulses.om)
    seeds = {key: fit.to_particle() for key, fit in packet.online_fits().items()}
    if packet.keys[1] in seeds:
        seeds[SEED_DIRECTION] = seeds[packet.keys[1]]
    online = packet.online_vertex()
    if online is not None:
        seeds[online[0]] = seeds[SEED_VERTEX] = online[1]
    try:
        metadata = EventMetadata(header.run_id, header.event_id, packet.event_type(),
                                 header.start.mjd, is_real_event=True)
    except I3DecodeError:
        raise
    except EventError as e:
        raise I3DecodeError(f"invalid event header: {e}", frame=packet.physics.label,
                            key="I3EventHeader") from None
    return Event(metadata, pulses, geometry, seeds=seeds, realtime_version=packet.version,
                 source=packet.source)


def read_alert_event(path: str | Path, gcd: str | Path | None = None,
                     geometry_table: str | Path | None = None) -> Event:
    """Read an IceCube alert message (``.json`` or ``.pkl``) into an :class:`Event`.

    Geometry: ``gcd`` (baseline GCD file or a folder of them), else ``geometry_table`` (CSV),
    else ``$SKYSCAN_GEOMETRY_TABLE``; without any, a :class:`GeometryError` names the baseline
    GCD file the alert needs. Decoding problems raise :class:`I3DecodeError`.
    """
    packet = read_alert_packet(path)
    geometry = alert_geometry(packet, gcd, geometry_table)
    try:
        return build_event(packet, geometry)
    except I3DecodeError as e:
        raise _in_file(path, e) from None


def _in_file(path: str | Path, e: I3DecodeError) -> I3DecodeError:
    """``e`` with the file named (once)."""
    reason = e.reason if str(path) in e.reason else f"{path}: {e.reason}"
    return I3DecodeError(reason, frame=e.frame, key=e.key, offset=e.offset)
