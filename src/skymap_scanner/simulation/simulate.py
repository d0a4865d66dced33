"""Simulate one event with truth: particles → losses → expected light → photons → pulses → Event.

``interaction="muon"`` (default): a through-going (or ``starting=True``) muon, as before; the other
interactions (``interactions.INTERACTIONS``: νe CC ``cascade``, ``nc``, νμ CC ``starting``, ντ CC ``tau``)
add cascades with the light model of ``cascade.py``; muons they make use the same muon code.
Recipe of docs/physics.md §13 with the mismatches of §14 kept on purpose (stochastic losses, layered ice,
a non-Pandel delay model, extended and directional cascades). Saturation is left out: very bright DOMs
keep their full charge.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from skymap_scanner.event.io import write_event
from skymap_scanner.event.model import SEED_DIRECTION, Event, EventMetadata, Particle, Pulses
from skymap_scanner.simulation.cascade import cascade_sources, secondaries_profile
from skymap_scanner.simulation.constants import RW_CASCADE_M_PER_GEV
from skymap_scanner.simulation.detector import Detector, icecube86_like
from skymap_scanner.simulation.ice import LayeredIce, spice3_layered
from skymap_scanner.simulation.interactions import (
    INTERACTIONS,
    Cascade,
    InstrumentedVolume,
    Interaction,
    deposited_energies,
    generate,
)
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
    _BISECTION_STEPS,
    CASCADE_BISECTION_STEPS,
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
    """What to simulate. Angles in rad (None: isotropic). ``interaction`` "muon" (default): energy [GeV]
    of the muon where it enters the generation sphere (through-going) or at its creation
    (``starting``); other interactions (``interactions.INTERACTIONS``): the neutrino energy, with the
    ``vertex`` [m] (default: uniform in ``interactions.VERTEX_CYLINDER_M``) and the inelasticity y
    (default: drawn) optionally fixed."""

    energy_gev: float = 1e5
    zenith: float | None = None
    azimuth: float | None = None
    starting: bool = False
    impact_radius_m: float = IMPACT_RADIUS_M
    mjd: float | None = None
    noise: bool = True
    interaction: str = "muon"
    vertex: tuple[float, float, float] | None = None
    inelasticity: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.energy_gev) and self.energy_gev > 0):
            raise ValueError(f"energy must be a positive number of GeV, got {self.energy_gev}")
        if (self.zenith is None) != (self.azimuth is None):
            raise ValueError("give both zenith and azimuth, or neither (isotropic)")
        if self.zenith is not None and not 0.0 <= self.zenith <= math.pi:
            raise ValueError(f"zenith must lie in [0, π] rad, got {self.zenith}")
        if self.interaction not in INTERACTIONS:
            raise ValueError(f"interaction must be one of {list(INTERACTIONS)}, got {self.interaction!r}")
        if self.interaction == "muon" and (self.vertex is not None or self.inelasticity is not None):
            raise ValueError("vertex and inelasticity apply to neutrino interactions, not to interaction='muon'")
        if self.interaction != "muon" and self.starting:
            raise ValueError("starting=True is the legacy starting muon; use interaction='starting' instead")
        if self.vertex is not None and (len(self.vertex) != 3 or not all(math.isfinite(v) for v in self.vertex)):
            raise ValueError(f"vertex must be three finite numbers [m], got {self.vertex}")
        if self.inelasticity is not None and not 0.0 <= self.inelasticity <= 1.0:
            raise ValueError(f"inelasticity must lie in [0, 1], got {self.inelasticity}")


@dataclass(frozen=True)
class Photons:
    """Detected photoelectrons: DOM index and arrival time [ns]."""

    dom: np.ndarray
    time_ns: np.ndarray


def _draw_photons(emission: Emission, dom_index: np.ndarray, rng: np.random.Generator,
                  steps: int = _BISECTION_STEPS) -> Photons:
    """Poisson photoelectron counts for every emitter/DOM pair (mean: expected charge / mean SPE charge)
    and their scattered arrival times."""
    counts = rng.poisson(emission.expected_charge_pe / SPE_MEAN_PE).ravel()
    hit = np.flatnonzero(counts)
    n = counts[hit]

    def per_photon(a: np.ndarray) -> np.ndarray:
        return np.repeat(np.broadcast_to(a, emission.expected_charge_pe.shape).ravel()[hit], n)

    delays = scattering_delays(per_photon(emission.path_m), per_photon(emission.scattering_m),
                               per_photon(emission.absorption_m), rng, steps)
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


def _cascade_emissions(cascades: list[Cascade], direction: np.ndarray, detector: Detector,
                       ice: LayeredIce) -> Iterator[Emission]:
    """Expected light of neutrino cascades, in blocks of point sources: each cascade split into its
    longitudinal points (``cascade.py``), with the secondaries' angular emission and the Rädel-Wiebusch
    light per GeV (times the cascade's light factor)."""
    if not cascades:
        return
    parts = [cascade_sources(c.position, c.time_ns, direction, c.energy_gev, c.kind, c.light_factor)
             for c in cascades]
    where, when, energy = (np.concatenate([p[i] for p in parts]) for i in range(3))
    for b in range(0, len(energy), _CASCADE_BLOCK):
        block = slice(b, b + _CASCADE_BLOCK)
        yield cascade_emission(detector.positions, detector.efficiency, where[block], when[block],
                               energy[block], np.zeros(len(energy[block]), bool), direction, ice,
                               profile=secondaries_profile, track_m_per_gev=RW_CASCADE_M_PER_GEV)


def cascade_expected_charge(cascades: list[Cascade], direction: np.ndarray, detector: Detector,
                            ice: LayeredIce) -> np.ndarray:
    """Expected charge [PE] per DOM (geometry order) of neutrino cascades: the model the photons are
    drawn from (before the discriminator and the readout window)."""
    total = np.zeros(len(detector))
    for emission in _cascade_emissions(cascades, direction, detector, ice):
        total += emission.expected_charge_pe.sum(axis=0)
    return total


def _cascade_photons(cascades: list[Cascade], direction: np.ndarray, detector: Detector, ice: LayeredIce,
                     rng: np.random.Generator) -> list[Photons]:
    doms = np.arange(len(detector))
    return [_draw_photons(emission, doms[None, :], rng, CASCADE_BISECTION_STEPS)
            for emission in _cascade_emissions(cascades, direction, detector, ice)]


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


def _loss_truth(inter: Interaction) -> tuple[np.ndarray, tuple[str, ...], float]:
    """Loss table (x, y, z, t, E), loss kinds and the EM-equivalent deposited energy of an interaction,
    sorted by time."""
    rows = [np.concatenate([c.position, [c.time_ns, c.energy_gev]]) for c in inter.cascades]
    kinds = [c.kind for c in inter.cascades]
    em_equivalent = sum(c.light_factor * c.energy_gev for c in inter.cascades)
    for tr in inter.tracks:
        ls = tr.losses
        if len(ls.s_m):
            rows.extend(np.column_stack([tr.track.position(ls.s_m), tr.track.time(ls.s_m), ls.energy_gev]))
            kinds.extend(str(k) for k in ls.kind)
            em_equivalent += float(np.sum(ls.energy_gev))  # the muon's losses are treated as EM
    table = np.array(rows, np.float64).reshape(-1, 5)
    order = np.argsort(table[:, 3], kind="stable")
    return table[order], tuple(kinds[i] for i in order), float(em_equivalent)


_SHAPES = {"em": "EMCascade", "hadronic": "HadronicCascade", "muon": "StartingTrack", "tau": "TauTrack"}


def _interaction_truth(inter: Interaction, detector: Detector) -> tuple[dict[str, Particle], np.ndarray,
                                                                        tuple[str, ...], dict]:
    zen, azi, t0 = inter.zenith, inter.azimuth, inter.time_ns
    truth = {"primary": Particle(zen, azi, *inter.vertex, t0, inter.energy_gev, "Neutrino")}
    for c in inter.cascades:
        truth[c.name] = Particle(zen, azi, *c.position, c.time_ns, c.energy_gev, _SHAPES[c.kind])
    for tr in inter.tracks:
        truth[tr.name] = Particle(zen, azi, *tr.track.start, tr.track.time_ns, tr.track.energy_gev,
                                  _SHAPES[tr.kind])
    table, kinds, em_equivalent = _loss_truth(inter)
    volume = InstrumentedVolume.of(detector.geometry)
    e_tot, e_in = deposited_energies(volume, inter.vertex, t0, inter.direction, table[:, 3], table[:, 4])
    info = {"interaction": inter.interaction, "neutrino_energy_gev": inter.energy_gev,
            "inelasticity": inter.inelasticity, "deposited_energy_gev": e_tot, "deposited_energy_in_gev": e_in,
            "deposited_em_equivalent_gev": em_equivalent, "vertex_contained": volume.contains(inter.vertex),
            **inter.info}
    return truth, table, kinds, info


def _muon_info(track: MuonTrack, table: np.ndarray, detector: Detector) -> dict:
    volume = InstrumentedVolume.of(detector.geometry)
    e_tot, e_in = deposited_energies(volume, track.start, track.time_ns, track.direction, table[:, 3], table[:, 4])
    return {"interaction": "starting_muon" if track.starting else "muon", "deposited_energy_gev": e_tot,
            "deposited_energy_in_gev": e_in}


def make_track(config: SimulationConfig, rng: np.random.Generator) -> MuonTrack:
    """The true muon of one event (direction isotropic unless configured)."""
    if config.zenith is None or config.azimuth is None:
        zenith, azimuth = isotropic_direction(rng)
    else:
        zenith, azimuth = config.zenith, config.azimuth
    if config.starting:
        return starting_track(config.energy_gev, zenith, azimuth, rng)
    return throughgoing_track(config.energy_gev, zenith, azimuth, rng, config.impact_radius_m)


def make_interaction(config: SimulationConfig, rng: np.random.Generator) -> Interaction:
    """The true neutrino interaction of one event (direction isotropic unless configured)."""
    if config.zenith is None or config.azimuth is None:
        zenith, azimuth = isotropic_direction(rng)
    else:
        zenith, azimuth = config.zenith, config.azimuth
    vertex = None if config.vertex is None else np.asarray(config.vertex, np.float64)
    return generate(config.interaction, config.energy_gev, zenith, azimuth, rng, vertex, config.inelasticity)


def simulate_event(config: SimulationConfig, seed: int, event_id: int = 0, detector: Detector | None = None,
                   ice: LayeredIce | None = None) -> Event:
    """One simulated event; the same (config, seed, event_id) always gives the same event.

    Metadata: run_id = seed, event_id, event_type "simulated". Truth: "muon" (and "cascade" for
    starting events); neutrino interactions: "primary" (the neutrino at the vertex) and the particles
    it made ("cascade", "em_cascade", "muon", "tau", "tau_decay"). ``truth_losses`` lists every discrete
    loss (x, y, z [m], t [ns], E [GeV]), ``truth_loss_types`` its kind, ``truth_info`` the interaction
    type, neutrino energy, y and deposited energies (total and E_in).
    The direction seed is an improved LineFit of the pulses (like an online first guess), not truth.
    """
    rng = np.random.default_rng([seed, event_id])
    detector = detector or icecube86_like()
    ice = ice or spice3_layered()
    mjd = config.mjd if config.mjd is not None else float(rng.uniform(*MJD_RANGE))
    if config.interaction == "muon":
        track = make_track(config, rng)
        losses = propagate(track, rng)
        pulses = _pulses(_signal_photons(track, losses, detector, ice, rng), detector, config.noise, rng)
        truth, table = _truth(track, losses)
        kinds = None if losses.kind is None else tuple(str(k) for k in losses.kind)
        info = _muon_info(track, table, detector)
    else:
        inter = make_interaction(config, rng)
        photons = []
        for tr in inter.tracks:
            photons += _signal_photons(tr.track, tr.losses, detector, ice, rng)
        photons += _cascade_photons(inter.cascades, inter.direction, detector, ice, rng)
        pulses = _pulses(photons, detector, config.noise, rng)
        truth, table, kinds, info = _interaction_truth(inter, detector)
    meta = EventMetadata(run_id=seed, event_id=event_id, event_type="simulated", mjd=mjd, is_real_event=False)
    event = Event(meta, pulses, detector.geometry, truth=truth, truth_losses=table,
                  source=f"simulation seed={seed} event={event_id} ice={ice.name}", truth_info=info,
                  truth_loss_types=kinds)
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
    mu = event.truth["primary"] if "primary" in event.truth else event.truth["muon"]
    ra, dec = dir_to_equa(mu.zenith, mu.azimuth, event.metadata.mjd)
    what = mu.shape if "primary" not in event.truth else (
        f"{event.truth_info.get('interaction', 'neutrino')} (deposited "
        f"{event.truth_info.get('deposited_energy_gev', math.nan):.3g} GeV)")
    return (f"{event.metadata}: {len(event.pulses)} pulses on {event.pulses.n_channels} DOMs, "
            f"{event.pulses.charge.sum():.0f} PE ({int(event.pulses.hlc.sum())} HLC); true "
            f"{what} E={mu.energy:.3g} GeV zenith {math.degrees(mu.zenith):.2f} deg azimuth "
            f"{math.degrees(mu.azimuth):.2f} deg = RA {math.degrees(float(ra)):.3f} deg, "
            f"Dec {math.degrees(float(dec)):.3f} deg (MJD {event.metadata.mjd:.5f})")
