"""Simulate one muon event with truth: track → losses → expected light → photons → pulses → Event.

Recipe of docs/physics.md §13 with the mismatches of §14 kept on purpose (stochastic losses, layered ice,
a non-Pandel delay model). Saturation is left out: very bright DOMs keep their full charge.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from skymap_scanner.event.io import write_event
from skymap_scanner.event.model import SEED_DIRECTION, Event, EventMetadata, Particle, Pulses
from skymap_scanner.simulation.detector import Detector, icecube86_like
from skymap_scanner.simulation.ice import LayeredIce, spice3_layered
from skymap_scanner.simulation.light import Emission, cascade_emission, track_emission
from skymap_scanner.simulation.linefit import linefit_seed
from skymap_scanner.simulation.muon import (
    IMPACT_RADIUS_M,
    READOUT_WINDOW_NS,
    Losses,
    MuonTrack,
    isotropic_direction,
    propagate,
    starting_track,
    throughgoing_track,
)
from skymap_scanner.simulation.photons import (
    SPE_MEAN_PE,
    jitter,
    local_coincidence,
    merge_pulses,
    noise_photons,
    scattering_delays,
    spe_charges,
)
from skymap_scanner.sky import dir_to_equa

#: event times (MJD, UTC) are drawn uniformly from 2024 when not given
MJD_RANGE = (60310.0, 60676.0)
#: cascades are processed in blocks of this many (memory: block × DOMs × ~15 float64 arrays)
_CASCADE_BLOCK = 64


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. Angles in rad (None: isotropic), energy [GeV] of the muon where it enters the
    generation sphere (through-going) or at its creation (starting)."""

    energy_gev: float = 1e5
    zenith: float | None = None
    azimuth: float | None = None
    starting: bool = False
    impact_radius_m: float = IMPACT_RADIUS_M
    mjd: float | None = None
    noise: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.energy_gev) and self.energy_gev > 0):
            raise ValueError(f"energy must be a positive number of GeV, got {self.energy_gev}")
        if (self.zenith is None) != (self.azimuth is None):
            raise ValueError("give both zenith and azimuth, or neither (isotropic)")
        if self.zenith is not None and not 0.0 <= self.zenith <= math.pi:
            raise ValueError(f"zenith must lie in [0, π] rad, got {self.zenith}")


@dataclass(frozen=True)
class Photons:
    """Detected photoelectrons: DOM index and arrival time [ns]."""

    dom: np.ndarray
    time_ns: np.ndarray


def _draw_photons(emission: Emission, dom_index: np.ndarray, rng: np.random.Generator) -> Photons:
    """Poisson photoelectron counts for every emitter/DOM pair (mean: expected charge / mean SPE charge)
    and their scattered arrival times."""
    counts = rng.poisson(emission.expected_charge_pe / SPE_MEAN_PE).ravel()
    hit = np.flatnonzero(counts)
    n = counts[hit]

    def per_photon(a: np.ndarray) -> np.ndarray:
        return np.repeat(np.broadcast_to(a, emission.expected_charge_pe.shape).ravel()[hit], n)

    delays = scattering_delays(per_photon(emission.path_m), per_photon(emission.scattering_m),
                               per_photon(emission.absorption_m), rng)
    return Photons(per_photon(dom_index), per_photon(emission.direct_time_ns) + delays)


def _signal_photons(track: MuonTrack, losses: Losses, detector: Detector, ice: LayeredIce,
                    rng: np.random.Generator) -> list[Photons]:
    pos, eff = detector.positions, detector.efficiency
    doms = np.arange(len(detector))
    out = [_draw_photons(track_emission(pos, eff, track.start, track.direction, track.time_ns,
                                        losses.energy_at, ice), doms, rng)]
    where = track.position(losses.s_m)
    when = track.time(losses.s_m)
    for b in range(0, len(losses.s_m), _CASCADE_BLOCK):
        block = slice(b, b + _CASCADE_BLOCK)
        emission = cascade_emission(pos, eff, where[block], when[block], losses.energy_gev[block],
                                    losses.hadronic[block], track.direction, ice)
        out.append(_draw_photons(emission, doms[None, :], rng))
    return out


def _pulses(photons: list[Photons], detector: Detector, noise: bool, rng: np.random.Generator) -> Pulses:
    dom = np.concatenate([p.dom for p in photons])
    time = np.concatenate([p.time_ns for p in photons])
    time = time + jitter(len(time), rng)
    if noise:
        noise_dom, noise_time = noise_photons(detector.noise_rate_hz, READOUT_WINDOW_NS, rng)
        dom, time = np.concatenate([dom, noise_dom]), np.concatenate([time, noise_time])
    inside = (time >= 0.0) & (time < READOUT_WINDOW_NS)
    dom, time = dom[inside], time[inside]
    dom, time, charge = merge_pulses(dom, time, spe_charges(len(dom), rng))
    g = detector.geometry
    flags = local_coincidence(g.string[dom], g.om[dom], time)
    return Pulses(g.string[dom], g.om[dom], time, charge, flags)


def _truth(track: MuonTrack, losses: Losses) -> tuple[dict[str, Particle], np.ndarray]:
    x, y, z = track.start
    shape = "StartingTrack" if track.starting else "InfiniteTrack"
    truth = {"muon": Particle(track.zenith, track.azimuth, x, y, z, track.time_ns, track.energy_gev, shape)}
    if track.starting:
        truth["cascade"] = Particle(track.zenith, track.azimuth, x, y, z, track.time_ns,
                                    track.cascade_energy_gev, "Cascade")
    table = np.column_stack([track.position(losses.s_m), track.time(losses.s_m), losses.energy_gev])
    return truth, table


def make_track(config: SimulationConfig, rng: np.random.Generator) -> MuonTrack:
    """The true muon of one event (direction isotropic unless configured)."""
    if config.zenith is None or config.azimuth is None:
        zenith, azimuth = isotropic_direction(rng)
    else:
        zenith, azimuth = config.zenith, config.azimuth
    if config.starting:
        return starting_track(config.energy_gev, zenith, azimuth, rng)
    return throughgoing_track(config.energy_gev, zenith, azimuth, rng, config.impact_radius_m)


def simulate_event(config: SimulationConfig, seed: int, event_id: int = 0, detector: Detector | None = None,
                   ice: LayeredIce | None = None) -> Event:
    """One simulated event; the same (config, seed, event_id) always gives the same event.

    Metadata: run_id = seed, event_id, event_type "simulated". Truth: "muon" (and "cascade" for
    starting events); ``truth_losses`` lists every discrete loss (x, y, z [m], t [ns], E [GeV]).
    The direction seed is an improved LineFit of the pulses (like an online first guess), not truth.
    """
    rng = np.random.default_rng([seed, event_id])
    detector = detector or icecube86_like()
    ice = ice or spice3_layered()
    mjd = config.mjd if config.mjd is not None else float(rng.uniform(*MJD_RANGE))
    track = make_track(config, rng)
    losses = propagate(track, rng)
    pulses = _pulses(_signal_photons(track, losses, detector, ice, rng), detector, config.noise, rng)
    truth, table = _truth(track, losses)
    meta = EventMetadata(run_id=seed, event_id=event_id, event_type="simulated", mjd=mjd, is_real_event=False)
    event = Event(meta, pulses, detector.geometry, truth=truth, truth_losses=table,
                  source=f"simulation seed={seed} event={event_id} ice={ice.name}")
    return replace(event, seeds={SEED_DIRECTION: linefit_seed(event)})


def simulate_events(config: SimulationConfig, seed: int, n_events: int, detector: Detector | None = None,
                    ice: LayeredIce | None = None) -> Iterator[Event]:
    """``n_events`` independent events (event_id 0 … n-1) of the same configuration."""
    detector = detector or icecube86_like()
    ice = ice or spice3_layered()
    for event_id in range(n_events):
        yield simulate_event(config, seed, event_id, detector, ice)


def write_simulated_events(config: SimulationConfig, seed: int, n_events: int, output: Path,
                           detector: Detector | None = None, ice: LayeredIce | None = None) -> Iterator[Event]:
    """Simulate and write events in the open format: one event → the file ``output`` (.npz or .json);
    several → ``output``/<run…evt….simulated>.npz. Yields each event after writing it."""
    if n_events == 1 and output.suffix not in (".npz", ".json"):
        raise ValueError(f"{output}: a single event is written to a .npz or .json file")
    for event in simulate_events(config, seed, n_events, detector, ice):
        write_event(event, output if n_events == 1 else output / f"{event.metadata}.npz")
        yield event


def describe(event: Event) -> str:
    """One line about a simulated event: pulses, charge, true direction (detector and sky)."""
    mu = event.truth["muon"]
    ra, dec = dir_to_equa(mu.zenith, mu.azimuth, event.metadata.mjd)
    return (f"{event.metadata}: {len(event.pulses)} pulses on {event.pulses.n_channels} DOMs, "
            f"{event.pulses.charge.sum():.0f} PE ({int(event.pulses.hlc.sum())} HLC); true "
            f"{mu.shape} E={mu.energy:.3g} GeV zenith {math.degrees(mu.zenith):.2f} deg azimuth "
            f"{math.degrees(mu.azimuth):.2f} deg = RA {math.degrees(float(ra)):.3f} deg, "
            f"Dec {math.degrees(float(dec)):.3f} deg (MJD {event.metadata.mjd:.5f})")
