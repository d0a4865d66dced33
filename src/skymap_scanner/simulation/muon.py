"""Muon tracks (through-going and starting) and their energy losses.

Losses along the track (docs/physics.md §13 steps 2-3, §14 item 2: do not skip the stochastic part):

- ionisation a = 0.24 GeV/m, continuous (it drives the minimum-ionising light of the bare muon);
- e+e- pair production, a share of b E, lumped into one cascade per 4 m segment with a Gamma-distributed
  energy of shape 0.3 ("many small");
- bremsstrahlung and photonuclear losses, the rest of b E, as discrete cascades with fractional energy v
  drawn from dN/(dx dv) = k / v on [v_min, 1] ("few large").

On average the muon loses (a + b E) per metre, as E(s) = (E0 + a/b) e^(-b s) - a/b.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from skymap_scanner.simulation.constants import (
    C_VACUUM_M_PER_NS,
    HARD_LOSS_V_MIN,
    LOSS_A_GEV_PER_M,
    LOSS_B_PER_M,
    MEAN_INELASTICITY,
    PAIR_GAMMA_SHAPE,
    PAIR_SEGMENT_M,
    PAIR_SHARE_OF_B,
)
from skymap_scanner.sky import direction_vector

#: muons are followed inside a sphere of this radius [m] around the detector centre: the farthest DOM
#: is ≈ 760 m from the origin and light from farther than ≈ 250 m from a DOM is negligible (docs/physics.md
#: §7.1 table: 1e-4 of the 10 m yield at 200 m)
GENERATION_RADIUS_M = 1000.0
#: through-going muons cross the plane through the origin perpendicular to them uniformly within this
#: impact parameter [m] (IceCube's outermost strings are 575 m out); this project's default
IMPACT_RADIUS_M = 400.0
#: starting muons begin uniformly in this cylinder (radius, half height) [m], inside the instrumented
#: volume (strings to 575 m, DOMs between z = -505 and +498 m); this project's default
STARTING_CYLINDER_M = (450.0, 400.0)
#: simulation time [ns] at which the muon passes its closest approach to the detector centre; the readout
#: window is [0, READOUT_WINDOW_NS] (docs/physics.md §8: "20 µs window")
CLOSEST_APPROACH_TIME_NS = 10_000.0
READOUT_WINDOW_NS = 20_000.0


@dataclass(frozen=True)
class MuonTrack:
    """A muon: where it comes from (zenith, azimuth [rad]), its first point inside the generation
    sphere (``start`` [m], ``time_ns``, ``energy_gev`` there), the length [m] to the sphere's far side,
    and for starting events the hadronic cascade energy [GeV] at ``start`` (0 for through-going)."""

    zenith: float
    azimuth: float
    start: np.ndarray
    time_ns: float
    energy_gev: float
    length_m: float
    cascade_energy_gev: float = 0.0

    @property
    def direction(self) -> np.ndarray:
        """Unit travel direction."""
        return direction_vector(self.zenith, self.azimuth)

    @property
    def starting(self) -> bool:
        return self.cascade_energy_gev > 0.0

    def position(self, s_m: np.ndarray) -> np.ndarray:
        """(N, 3) points [m] at along-track distances ``s_m`` from the start."""
        return self.start + np.multiply.outer(np.asarray(s_m, np.float64), self.direction)

    def time(self, s_m: np.ndarray) -> np.ndarray:
        """Time [ns] at which the muon (speed c) reaches ``s_m``."""
        return self.time_ns + np.asarray(s_m, np.float64) / C_VACUUM_M_PER_NS


@dataclass(frozen=True)
class Losses:
    """Discrete losses (along-track ``s_m``, ``energy_gev``, ``hadronic`` flag) and the muon energy
    profile (``profile_energy_gev`` at ``profile_s_m``; the muon exists up to ``range_m``).
    ``kind`` names each loss: "pair" (e+e- lump), "radiative" (bremsstrahlung/photonuclear),
    "hadronic" (the vertex cascade of a starting muon)."""

    s_m: np.ndarray
    energy_gev: np.ndarray
    hadronic: np.ndarray
    profile_s_m: np.ndarray
    profile_energy_gev: np.ndarray
    range_m: float
    kind: np.ndarray | None = None

    def energy_at(self, s_m: np.ndarray) -> np.ndarray:
        """Muon energy [GeV] at ``s_m`` (linear between profile points; 0 outside the track)."""
        s = np.asarray(s_m, np.float64)
        e = np.interp(s, self.profile_s_m, self.profile_energy_gev)
        return np.where((s >= 0) & (s <= self.range_m), e, 0.0)


def isotropic_direction(rng: np.random.Generator) -> tuple[float, float]:
    """(zenith, azimuth) [rad], uniform on the sphere."""
    return math.acos(rng.uniform(-1.0, 1.0)), rng.uniform(0.0, 2 * math.pi)


def _orthonormal(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    helper = np.array([1.0, 0.0, 0.0]) if abs(p[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(p, helper)
    u /= np.linalg.norm(u)
    return u, np.cross(p, u)


def _sphere_chord(point: np.ndarray, p: np.ndarray, radius_m: float) -> tuple[float, float]:
    """Along-track distances (entry ≤ 0 ≤ exit) from ``point`` to the sphere around the origin."""
    b = float(point @ p)
    disc = math.sqrt(max(b * b - (float(point @ point) - radius_m**2), 0.0))
    return -b - disc, -b + disc


def _timed_track(zenith: float, azimuth: float, start: np.ndarray, length_m: float, energy_gev: float,
                 cascade_gev: float) -> MuonTrack:
    p = direction_vector(zenith, azimuth)
    s_closest = -float(start @ p)
    t0 = CLOSEST_APPROACH_TIME_NS - s_closest / C_VACUUM_M_PER_NS
    return MuonTrack(zenith, azimuth, start, t0, energy_gev, length_m, cascade_gev)


def throughgoing_track(energy_gev: float, zenith: float, azimuth: float, rng: np.random.Generator,
                       impact_radius_m: float = IMPACT_RADIUS_M,
                       generation_radius_m: float = GENERATION_RADIUS_M) -> MuonTrack:
    """A muon of ``energy_gev`` where it enters the generation sphere, crossing the plane through the
    origin perpendicular to it uniformly within ``impact_radius_m``."""
    p = direction_vector(zenith, azimuth)
    u, v = _orthonormal(p)
    r = impact_radius_m * math.sqrt(rng.random())
    phi = rng.uniform(0.0, 2 * math.pi)
    impact = r * (math.cos(phi) * u + math.sin(phi) * v)
    entry, exit_ = _sphere_chord(impact, p, generation_radius_m)
    return _timed_track(zenith, azimuth, impact + entry * p, exit_ - entry, energy_gev, 0.0)


def starting_track(energy_gev: float, zenith: float, azimuth: float, rng: np.random.Generator,
                   cylinder_m: tuple[float, float] = STARTING_CYLINDER_M,
                   generation_radius_m: float = GENERATION_RADIUS_M) -> MuonTrack:
    """A muon of ``energy_gev`` created at a vertex uniform in ``cylinder_m`` (radius, half height),
    with a hadronic cascade of y/(1-y) times its energy, y exponential with mean ⟨y⟩ below 1."""
    radius, half_height = cylinder_m
    r = radius * math.sqrt(rng.random())
    phi = rng.uniform(0.0, 2 * math.pi)
    vertex = np.array([r * math.cos(phi), r * math.sin(phi), rng.uniform(-half_height, half_height)])
    y = 1.0
    while y >= 1.0:
        y = rng.exponential(MEAN_INELASTICITY)
    _, exit_ = _sphere_chord(vertex, direction_vector(zenith, azimuth), generation_radius_m)
    return _timed_track(zenith, azimuth, vertex, exit_, energy_gev, energy_gev * y / (1.0 - y))


def _segment_losses(energy_gev: float, s0: float, ds: float,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Discrete losses in [s0, s0 + ds]: positions [m] and energies [GeV] (pair lump first)."""
    b_pair = PAIR_SHARE_OF_B * LOSS_B_PER_M
    k_hard = (1.0 - PAIR_SHARE_OF_B) * LOSS_B_PER_M / (1.0 - HARD_LOSS_V_MIN)
    n_hard = rng.poisson(k_hard * math.log(1.0 / HARD_LOSS_V_MIN) * ds)
    v = HARD_LOSS_V_MIN ** rng.random(n_hard)
    pair = rng.gamma(PAIR_GAMMA_SHAPE, b_pair * energy_gev * ds / PAIR_GAMMA_SHAPE)
    positions = s0 + ds * rng.random(1 + n_hard)
    return positions, np.concatenate([[pair], v * energy_gev])


def propagate(track: MuonTrack, rng: np.random.Generator, segment_m: float = PAIR_SEGMENT_M) -> Losses:
    """Follow the muon in segments until it leaves the generation sphere or stops."""
    s_list, e_list, k_list = [], [], []
    prof_s, prof_e = [0.0], [track.energy_gev]
    energy, s = track.energy_gev, 0.0
    while s < track.length_m and energy > 0.0:
        ds = min(segment_m, track.length_m - s)
        pos, loss = _segment_losses(energy, s, ds, rng)
        spent = LOSS_A_GEV_PER_M * ds + loss.sum()
        if spent >= energy:  # the muon stops in this segment: share what is left
            loss *= energy / spent
            spent = energy
        s_list.append(pos)
        e_list.append(loss)
        k_list.append(np.arange(len(loss)) > 0)  # the pair lump comes first
        energy -= spent
        s += ds
        prof_s.append(s)
        prof_e.append(energy)
    s_all = np.concatenate(s_list) if s_list else np.empty(0)
    e_all = np.concatenate(e_list) if e_list else np.empty(0)
    radiative = np.concatenate(k_list) if k_list else np.empty(0, bool)
    keep = e_all > 0
    s_all, e_all = s_all[keep], e_all[keep]
    kind = np.where(radiative[keep], "radiative", "pair").astype("<U9")
    hadronic = np.zeros(len(s_all), bool)
    if track.starting:
        s_all, e_all = np.concatenate([[0.0], s_all]), np.concatenate([[track.cascade_energy_gev], e_all])
        hadronic = np.concatenate([[True], hadronic])
        kind = np.concatenate([np.array(["hadronic"]), kind])
    order = np.argsort(s_all, kind="stable")
    return Losses(s_all[order], e_all[order], hadronic[order], np.array(prof_s), np.array(prof_e), s,
                  kind[order])
