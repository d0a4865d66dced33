"""Simulated events from ``.i3`` files: pulses, header and MC truth (docs/i3-format.md §7, §12).

Each physics frame with its preceding Q frame gives one :class:`Event` (``event_type``
"simulated"): the split in-ice pulses, the reconstructions of the P frame as seeds, and
``truth`` = the tree's first primary ("primary") and most energetic muon ("muon") with the
muon's stochastic losses. MC times share the pulses' time frame; ``TimeShift`` is already applied.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from skymap_scanner.event.model import Event, EventError, EventMetadata, Geometry, Particle
from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.files import iter_frames
from skymap_scanner.i3.frame import Frame
from skymap_scanner.i3.framestack import FrameStack
from skymap_scanner.i3.geometry import (
    geometry_from_omgeo,
    read_gcd_geometry,
    read_geometry_table,
    with_interpolated_doms,
)
from skymap_scanner.i3.mctree import MCTree
from skymap_scanner.i3.objects import EventHeader

#: pulse keys tried in order when none is given (oscNext simulation, then alert-style names)
SIMULATION_PULSE_KEYS = ("SplitInIcePulses", "SplitUncleanedInIcePulses")
EVENT_TYPE = "simulated"


def truth_particles(tree: MCTree) -> tuple[dict[str, Particle], np.ndarray | None]:
    """({"primary": …, "muon": …}, losses (N, 5) of the muon or ``None``)."""
    truth: dict[str, Particle] = {}
    primaries = tree.primaries()
    if primaries:
        truth["primary"] = tree.particles[primaries[0]].to_particle()
    muon = tree.leading_muon()
    if muon is None:
        return truth, None
    truth["muon"] = tree.particles[muon].to_particle()
    return truth, tree.losses(muon)


def _pulse_key(stack: FrameStack, pulses_key: str | None, frame: Frame) -> str:
    if pulses_key is not None:
        return pulses_key
    for key in SIMULATION_PULSE_KEYS:
        if key in frame:
            return key
    raise I3DecodeError(f"no pulse series among {SIMULATION_PULSE_KEYS}", frame=frame.label)


def _event(stack: FrameStack, geometry: Geometry, pulses_key: str | None, source: str) -> Event:
    physics = stack.frames[-1]
    header = stack.require("I3EventHeader", EventHeader, "I3EventHeader")
    pulses = stack.pulses(_pulse_key(stack, pulses_key, physics)).in_ice().to_pulses()
    geometry = with_interpolated_doms(geometry, pulses.string, pulses.om)
    seeds = {key: stack.get(key).to_particle() for key in physics.entries
             if stack.class_name(key) == "I3Particle"}
    tree = stack.get("I3MCTree")
    truth, losses = truth_particles(tree) if isinstance(tree, MCTree) else ({}, None)
    try:
        metadata = EventMetadata(header.run_id, header.event_id, EVENT_TYPE, header.start.mjd,
                                 is_real_event=False)
        return Event(metadata, pulses, geometry, seeds=seeds, truth=truth, truth_losses=losses,
                     source=f"{source} {physics.label}")
    except EventError as e:
        raise I3DecodeError(f"inconsistent event: {e}", frame=physics.label) from None


def read_i3_events(path: str | Path, geometry_table: str | Path | None = None,
                   gcd: str | Path | None = None, pulses_key: str | None = None) -> Iterator[Event]:
    """Yield one :class:`Event` per physics frame of an ``.i3`` file (plain/.gz/.bz2/.zst).

    Positions: a G frame in the file itself, else ``gcd``, else ``geometry_table`` (one of them is
    needed). ``pulses_key`` defaults to the first of ``SIMULATION_PULSE_KEYS`` present.
    """
    geometry = read_gcd_geometry(gcd) if gcd is not None else None
    if geometry is None and geometry_table is not None:
        geometry = read_geometry_table(geometry_table)
    latest: dict[str, Frame] = {}
    for frame in iter_frames(path):
        if frame.stop == "G" and "I3Geometry" in frame:
            omgeo = FrameStack([frame]).get("I3Geometry")
            geometry = geometry_from_omgeo(omgeo, f"{Path(path).name} {frame.label}")
        if frame.stop != "P":
            latest[frame.stop] = frame
            continue
        if "Q" not in latest:
            raise I3DecodeError(f"{path}: physics frame without a preceding Q frame", frame=frame.label)
        if geometry is None:
            raise I3DecodeError(f"{path}: no geometry: the file has no G frame; pass a GCD file or a "
                                "geometry table")
        yield _event(FrameStack([latest["Q"], frame]), geometry, pulses_key, str(path))

