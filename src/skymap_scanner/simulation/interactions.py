"""Neutrino interactions: kinematics, the particles they make, and truth (deposited energies, E_in).

Interactions (``INTERACTIONS``; the CLI's ``--interaction``):

- ``cascade``: νe CC — an electromagnetic cascade of (1 - y) E_ν (the electron) and a hadronic cascade
  of y E_ν at the vertex;
- ``nc``: neutral current — a hadronic cascade of y E_ν (the outgoing neutrino is invisible);
- ``starting``: νμ CC — a hadronic cascade of y E_ν at the vertex and a muon of (1 - y) E_ν starting
  there, propagated with the simulator's muon code (continuous and stochastic losses);
- ``tau``: ντ CC — a hadronic cascade of y E_ν and a τ of (1 - y) E_ν that flies E_τ/m_τ · cτ
  (exponential) as a minimum-ionising track and decays: to hadrons (a hadronic cascade), e (an EM
  cascade) or μ (a muon track), carrying a fraction z of E_τ ("double bang" at high energy);
- ``muon``: the through-going (or legacy ``starting=True``) muon of ``simulate.py``, not handled here.

All secondaries are collinear with the neutrino (the CC lepton's angle, ~0.7° · (E/TeV)^-0.5, is
neglected). Inelasticity y: p(y) = (n + 1) (1 - y)^n on [0, 1] with n = 1/⟨y⟩ - 2, whose mean is the
⟨y⟩(E_ν) of Gandhi et al. 1996 (nearly flat at TeV, falling at PeV), the same for NC (an approximation).
Neutrinos only (no ν̄; its CC y distribution ∝ (1 - y)² is softer).

Units: m, ns, GeV, rad.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import ConvexHull

from skymap_scanner.event.model import Geometry
from skymap_scanner.physics.volume import prism_chord
from skymap_scanner.simulation.cascade import sample_light_factor
from skymap_scanner.simulation.constants import (
    C_VACUUM_M_PER_NS,
    E_IN_MARGIN_M,
    MEAN_Y_LOG10_E,
    MEAN_Y_VALUES,
    TAU_BR_ELECTRON,
    TAU_BR_MUON,
    TAU_CTAU_M,
    TAU_MASS_GEV,
)
from skymap_scanner.simulation.muon import (
    CLOSEST_APPROACH_TIME_NS,
    GENERATION_RADIUS_M,
    Losses,
    MuonTrack,
    _sphere_chord,
    propagate,
)
from skymap_scanner.sky import direction_vector

#: interaction names (CLI/API) → internal type written to ``truth_info["interaction"]``
INTERACTIONS = {"muon": "muon", "cascade": "nue_cc", "nc": "nc", "starting": "numu_cc", "tau": "nutau_cc"}
#: default vertex volume: a cylinder (radius, half height) [m] a little larger than the instrumented
#: volume (strings to ≈ 575 m, DOMs at |z| ≲ 500 m), so that some vertices are only partly contained;
#: this project's choice
VERTEX_CYLINDER_M = (600.0, 550.0)
#: below this the y parametrisation is not used (neutrino energies are 1 TeV - 10 PeV here)
_MIN_MEAN_Y = 0.2


@dataclass(frozen=True)
class Cascade:
    """A cascade: truth name, kind ("em" / "hadronic"), vertex [m], time [ns], energy [GeV] and its
    light factor (1 for em; the drawn hadronic factor F otherwise)."""

    name: str
    kind: str
    position: np.ndarray
    time_ns: float
    energy_gev: float
    light_factor: float


@dataclass(frozen=True)
class Track:
    """A charged lepton track from the interaction: truth name, kind ("muon" / "tau"), the track and its
    losses (for a τ: none; it exists up to its decay)."""

    name: str
    kind: str
    track: MuonTrack
    losses: Losses


@dataclass(frozen=True)
class Interaction:
    """One neutrino interaction with everything it produced."""

    interaction: str
    zenith: float
    azimuth: float
    vertex: np.ndarray
    time_ns: float
    energy_gev: float
    inelasticity: float
    cascades: list[Cascade] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    info: dict[str, str | float | int | bool] = field(default_factory=dict)

    @property
    def direction(self) -> np.ndarray:
        """Unit travel direction of the neutrino (and of everything it made)."""
        return direction_vector(self.zenith, self.azimuth)


def mean_inelasticity(energy_gev: float) -> float:
    """⟨y⟩ of νN scattering at E_ν [GeV] (Gandhi et al. 1996, interpolated in log10 E)."""
    return float(np.interp(math.log10(energy_gev), MEAN_Y_LOG10_E, MEAN_Y_VALUES))


def sample_inelasticity(energy_gev: float, rng: np.random.Generator) -> float:
    """y from p(y) = (n + 1)(1 - y)^n, n = 1/⟨y⟩ - 2 (mean ⟨y⟩(E); n ≥ 0 needs ⟨y⟩ ≤ 1/2)."""
    n = max(1.0 / max(mean_inelasticity(energy_gev), _MIN_MEAN_Y) - 2.0, 0.0)
    return float(1.0 - rng.random() ** (1.0 / (n + 1.0)))


def _leptonic_z(rng: np.random.Generator) -> float:
    """Energy fraction of the charged lepton in τ → ℓ ν ν (massless, unpolarised):
    f(z) = 5/3 - 3 z² + 4/3 z³ (Gaisser, Cosmic Rays and Particle Physics; Dutta et al., Phys. Rev. D 62
    (2000) 123001), by rejection under its maximum 5/3."""
    while True:
        z, u = rng.random(), rng.random() * 5.0 / 3.0
        if u <= 5.0 / 3.0 - 3.0 * z * z + 4.0 / 3.0 * z**3:
            return float(z)


def vertex_time_ns(vertex: np.ndarray, direction: np.ndarray) -> float:
    """Vertex time [ns] such that the neutrino line passes its closest approach to the detector centre
    at ``CLOSEST_APPROACH_TIME_NS`` (as for muons)."""
    return CLOSEST_APPROACH_TIME_NS + float(np.asarray(vertex) @ direction) / C_VACUUM_M_PER_NS


def uniform_vertex(rng: np.random.Generator, cylinder_m: tuple[float, float] = VERTEX_CYLINDER_M) -> np.ndarray:
    """A vertex uniform in the cylinder (radius, half height) [m] around the origin."""
    radius, half_height = cylinder_m
    r = radius * math.sqrt(rng.random())
    phi = rng.uniform(0.0, 2 * math.pi)
    return np.array([r * math.cos(phi), r * math.sin(phi), rng.uniform(-half_height, half_height)])


def _lepton_track(zenith: float, azimuth: float, start: np.ndarray, time_ns: float,
                  energy_gev: float) -> MuonTrack:
    _, exit_ = _sphere_chord(start, direction_vector(zenith, azimuth), GENERATION_RADIUS_M)
    return MuonTrack(zenith, azimuth, start, time_ns, energy_gev, max(exit_, 0.0))


def _tau_losses(length_m: float, energy_gev: float) -> Losses:
    """A τ without discrete losses (b_τ ≈ b_μ m_μ/m_τ: negligible over its ~50 m/PeV flight)."""
    empty = np.empty(0)
    return Losses(empty, empty, np.empty(0, bool), np.array([0.0, length_m]), np.array([energy_gev] * 2),
                  length_m, np.empty(0, "<U9"))


def generate(interaction: str, energy_gev: float, zenith: float, azimuth: float, rng: np.random.Generator,
             vertex: np.ndarray | None = None, inelasticity: float | None = None) -> Interaction:
    """Draw one interaction of type ``interaction`` (a key of ``INTERACTIONS`` other than "muon") of a
    neutrino of ``energy_gev`` coming from (zenith, azimuth); vertex uniform in ``VERTEX_CYLINDER_M``
    unless given; y from ``sample_inelasticity`` unless given."""
    if interaction not in INTERACTIONS or interaction == "muon":
        raise ValueError(f"interaction must be one of {sorted(set(INTERACTIONS) - {'muon'})}, got {interaction!r}")
    p = direction_vector(zenith, azimuth)
    v = uniform_vertex(rng) if vertex is None else np.asarray(vertex, np.float64)
    t0 = vertex_time_ns(v, p)
    y = sample_inelasticity(energy_gev, rng) if inelasticity is None else float(inelasticity)
    e_had, e_lep = y * energy_gev, (1.0 - y) * energy_gev
    cascades: list[Cascade] = []
    tracks: list[Track] = []
    info: dict[str, str | float | int | bool] = {}
    if e_had > 0:
        cascades.append(Cascade("cascade", "hadronic", v, t0, e_had, sample_light_factor(e_had, "hadronic", rng)))
    if interaction == "cascade" and e_lep > 0:
        cascades.append(Cascade("em_cascade", "em", v, t0, e_lep, 1.0))
    elif interaction == "starting" and e_lep > 0:
        track = _lepton_track(zenith, azimuth, v, t0, e_lep)
        tracks.append(Track("muon", "muon", track, propagate(track, rng)))
    elif interaction == "tau" and e_lep > 0:
        decay_m = rng.exponential(e_lep / TAU_MASS_GEV * TAU_CTAU_M)
        track = _lepton_track(zenith, azimuth, v, t0, e_lep)
        flight = min(decay_m, track.length_m)
        tracks.append(Track("tau", "tau", track, _tau_losses(flight, e_lep)))
        info["tau_decay_length_m"] = float(decay_m)
        if decay_m < track.length_m:  # the τ decays inside the generation sphere
            where, when = track.position(decay_m), float(track.time(decay_m))
            u = rng.random()
            channel = "electron" if u < TAU_BR_ELECTRON else "muon" if u < TAU_BR_ELECTRON + TAU_BR_MUON else "hadrons"
            z = rng.random() if channel == "hadrons" else _leptonic_z(rng)
            info["tau_decay_channel"] = channel
            e_dec = z * e_lep
            if channel == "muon":
                mu = _lepton_track(zenith, azimuth, where, when, e_dec)
                tracks.append(Track("tau_decay", "muon", mu, propagate(mu, rng)))
            else:
                kind = "em" if channel == "electron" else "hadronic"
                cascades.append(Cascade("tau_decay", kind, where, when, e_dec, sample_light_factor(e_dec, kind, rng)))
        else:
            info["tau_decay_channel"] = "outside"
    had = [c.light_factor for c in cascades if c.name == "cascade"]
    info["hadronic_light_factor"] = had[0] if had else math.nan
    return Interaction(INTERACTIONS[interaction], zenith, azimuth, v, t0, energy_gev, y, cascades, tracks, info)


# -- instrumented volume and deposited energy ------------------------------------------------------

@dataclass(frozen=True)
class InstrumentedVolume:
    """Convex prism: the convex hull of the DOMs' (x, y) (counter-clockwise, (K, 2) [m]) between the
    lowest and highest DOM z [m]."""

    hull_xy: np.ndarray
    z_min: float
    z_max: float

    @classmethod
    def of(cls, geometry: Geometry) -> InstrumentedVolume:
        xy = np.column_stack([geometry.x, geometry.y])
        hull = ConvexHull(np.unique(xy, axis=0))
        return cls(hull.points[hull.vertices], float(np.min(geometry.z)), float(np.max(geometry.z)))

    def contains(self, point: np.ndarray) -> bool:
        p = np.asarray(point, np.float64)
        return bool(self.z_min <= p[2] <= self.z_max and np.all(self._outward(p[:2]) <= 0.0))

    def _outward(self, xy: np.ndarray) -> np.ndarray:
        edge = np.roll(self.hull_xy, -1, axis=0) - self.hull_xy
        normal = np.column_stack([edge[:, 1], -edge[:, 0]])  # outward for a counter-clockwise hull
        return np.einsum("kj,kj->k", normal, xy - self.hull_xy)

    def chord(self, point: np.ndarray, direction: np.ndarray) -> tuple[float, float] | None:
        """(s_in, s_out) [m] along the infinite line point + s·direction inside the volume, or None."""
        return prism_chord(self.hull_xy, (self.z_min, self.z_max), point, direction)


def deposited_energies(volume: InstrumentedVolume, vertex: np.ndarray, time_ns: float, direction: np.ndarray,
                       loss_times_ns: np.ndarray, loss_energies_gev: np.ndarray) -> tuple[float, float]:
    """(E_tot, E_in) [GeV] as upstream: E_tot = Σ losses; E_in = Σ losses with times within
    [t_entry - 60 m/c, t_exit + 60 m/c] of the line's intersection with the instrumented volume (the
    line through ``vertex`` at ``time_ns`` along ``direction``, speed c); no intersection → E_in = 0."""
    e_tot = float(np.sum(loss_energies_gev))
    chord = volume.chord(vertex, direction)
    if chord is None:
        return e_tot, 0.0
    t_in = time_ns + (chord[0] - E_IN_MARGIN_M) / C_VACUUM_M_PER_NS
    t_out = time_ns + (chord[1] + E_IN_MARGIN_M) / C_VACUUM_M_PER_NS
    inside = (loss_times_ns >= t_in) & (loss_times_ns <= t_out)
    return e_tot, float(np.sum(np.asarray(loss_energies_gev)[inside]))
