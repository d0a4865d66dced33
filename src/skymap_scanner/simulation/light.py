"""Expected light per DOM: the muex photon-flux model (docs/physics.md §7.1 [S9]) in layered ice.

Two kinds of emitters:

- the bare muon's minimum-ionising light as a line source (direct light from the Cherenkov emission
  point, the DOM's closest-approach geometry of docs/physics.md §3);
- every discrete loss as a point source with the electromagnetic-cascade angular profile (hadronic
  cascades scaled down by the hadronic light factor).

Ice lengths are averaged along the straight path from the emission point to the DOM (``ice.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from skymap_scanner.simulation.constants import (
    ACCEPTANCE_COEFFS,
    ACCEPTANCE_FAR,
    C_ICE_M_PER_NS,
    C_VACUUM_M_PER_NS,
    CASCADE_PROFILE_NORM,
    CASCADE_PROFILE_POWER,
    CASCADE_PROFILE_SCALE,
    CF,
    CONTINUOUS_YIELD_A,
    CONTINUOUS_YIELD_B,
    COS_CHERENKOV,
    EFCR,
    FF_M_PER_GEV,
    HADRONIC_ES_GEV,
    HADRONIC_F0,
    HADRONIC_M,
    SIN_CHERENKOV,
    TAN_CHERENKOV,
)
from skymap_scanner.simulation.ice import LayeredIce

#: distances are floored at this value [m] (the flux formulas diverge at 0; a DOM is 0.33 m across)
MIN_DISTANCE_M = 1.0
#: sinh(d / l_e) saturates here (beyond it the acceptance is isotropic to better than e^-40)
_MAX_SINH_ARG = 40.0


@dataclass(frozen=True)
class Emission:
    """Expected charge of emitter/DOM pairs and what the photon timing needs (arrays of one shape).

    ``expected_charge_pe``: muex's μ, an expected *charge* (its efcr = 0.75 · 0.9 stands for the mean
    SPE charge and for shadowing losses); ``direct_time_ns``: arrival time of unscattered light;
    ``path_m``: its path length; ``scattering_m`` / ``absorption_m``: ice lengths averaged along it.
    """

    expected_charge_pe: np.ndarray
    direct_time_ns: np.ndarray
    path_m: np.ndarray
    scattering_m: np.ndarray
    absorption_m: np.ndarray


def propagation_lengths(scattering_m: np.ndarray, absorption_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """muex propagation length l_p = sqrt(l_e l_a / 3) / 1.07 and l_c = e^(l_e/l_a) l_e / 3 [m]."""
    l_p = np.sqrt(scattering_m * absorption_m / 3.0) / 1.07
    l_c = np.exp(scattering_m / absorption_m) * scattering_m / 3.0
    return l_p, l_c


def _far_weight(distance_m: np.ndarray, scattering_m: np.ndarray) -> np.ndarray:
    """y = sinh(d / l_e): how far the light has diffused (0 near, large far)."""
    return np.sinh(np.minimum(distance_m / scattering_m, _MAX_SINH_ARG))


def angular_acceptance(cos_eta: np.ndarray, distance_m: np.ndarray, scattering_m: np.ndarray) -> np.ndarray:
    """Hole-ice acceptance for light arriving with direction cos η (positive = moving up into the
    downward-facing PMT), blended to the isotropic value with distance."""
    s = np.polynomial.polynomial.polyval(np.clip(cos_eta, -1.0, 1.0), ACCEPTANCE_COEFFS)
    y = _far_weight(distance_m, scattering_m)
    return (s + ACCEPTANCE_FAR * y) / (1.0 + y)


def cascade_profile(cos_psi: np.ndarray, distance_m: np.ndarray, scattering_m: np.ndarray) -> np.ndarray:
    """Electromagnetic-cascade angular emission profile, peaked at the Cherenkov angle from the cascade
    axis (ψ: angle between the axis and the direction to the DOM), blended to isotropic with distance."""
    f = np.exp(-CASCADE_PROFILE_SCALE * np.abs(cos_psi - COS_CHERENKOV) ** CASCADE_PROFILE_POWER)
    y = _far_weight(distance_m, scattering_m)
    return (f / CASCADE_PROFILE_NORM + y) / (1.0 + y)


def line_flux(distance_m: np.ndarray, scattering_m: np.ndarray, absorption_m: np.ndarray) -> np.ndarray:
    """muex line-source flux factor F_line(d) per unit emitted track light (before acceptance)."""
    l_p, l_c = propagation_lengths(scattering_m, absorption_m)
    l_u = 2.0 * (l_c / SIN_CHERENKOV) ** 2 / (math.pi * l_p)
    d = np.maximum(distance_m, MIN_DISTANCE_M)
    return 1.26 * np.exp(-d / l_p) / (2 * math.pi * SIN_CHERENKOV * np.sqrt(l_u * d) * np.tanh(np.sqrt(d / l_u)))


def point_flux(distance_m: np.ndarray, scattering_m: np.ndarray, absorption_m: np.ndarray) -> np.ndarray:
    """muex point-source flux factor F_pt(r) per unit emitted light (before acceptance and profile)."""
    l_p, l_c = propagation_lengths(scattering_m, absorption_m)
    r = np.maximum(distance_m, MIN_DISTANCE_M)
    return 1.26 * np.exp(-r / l_p) / (4 * math.pi * l_c * r * np.tanh(r / l_c))


def hadronic_light_factor(energy_gev: np.ndarray) -> np.ndarray:
    """Light of a hadronic cascade relative to an electromagnetic one of the same energy (< 1)."""
    e = np.maximum(np.asarray(energy_gev, np.float64), 10 * HADRONIC_ES_GEV)
    return 1.0 - (1.0 - HADRONIC_F0) * (e / HADRONIC_ES_GEV) ** (-HADRONIC_M)


def continuous_yield_per_m(energy_gev: np.ndarray) -> np.ndarray:
    """Minimum-ionising light per metre of muon (in units of the model's photons), 0 where E = 0."""
    e = np.asarray(energy_gev, np.float64)
    return np.where(e > 0, CF * (CONTINUOUS_YIELD_A + CONTINUOUS_YIELD_B * np.log(np.maximum(e, 1.0))), 0.0)


def track_emission(dom_pos: np.ndarray, efficiency: np.ndarray, start: np.ndarray, direction: np.ndarray,
                   start_time_ns: float, energy_at: Callable[[np.ndarray], np.ndarray],
                   ice: LayeredIce) -> Emission:
    """Line-source (bare muon) light at every DOM. ``energy_at(s)`` gives the muon energy [GeV] at
    along-track distance s [m] from ``start`` (0 where there is no muon: no direct light)."""
    rel = dom_pos - start
    along = rel @ direction
    d = np.maximum(np.linalg.norm(rel - np.outer(along, direction), axis=1), MIN_DISTANCE_M)
    s_emit = along - d / TAN_CHERENKOV
    z_emit = start[2] + s_emit * direction[2]
    path = d / SIN_CHERENKOV
    l_e, l_a = ice.path_lengths(z_emit, dom_pos[:, 2])
    cos_eta = (dom_pos[:, 2] - z_emit) / path
    light = continuous_yield_per_m(energy_at(s_emit))
    mu = light * line_flux(d, l_e, l_a) * angular_acceptance(cos_eta, d, l_e) * efficiency * EFCR
    t_direct = start_time_ns + s_emit / C_VACUUM_M_PER_NS + path / C_ICE_M_PER_NS
    return Emission(mu, t_direct, path, l_e, l_a)


def cascade_emission(dom_pos: np.ndarray, efficiency: np.ndarray, positions: np.ndarray, times_ns: np.ndarray,
                     energies_gev: np.ndarray, hadronic: np.ndarray, direction: np.ndarray,
                     ice: LayeredIce, *, profile: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
                     = cascade_profile, track_m_per_gev: float = FF_M_PER_GEV) -> Emission:
    """Point-source light of cascades (S,) at DOMs (D,): arrays of shape (S, D).

    Defaults: the muon losses' model (muex light per GeV and angular profile, hadronic factor of the
    ``hadronic`` flags). Neutrino cascades (``cascade.py``) pass their own angular ``profile`` and light
    per GeV, with EM-equivalent energies and ``hadronic`` all False."""
    rel = dom_pos[None, :, :] - positions[:, None, :]
    r = np.maximum(np.linalg.norm(rel, axis=2), MIN_DISTANCE_M)
    l_e, l_a = ice.path_lengths(positions[:, 2:3], dom_pos[None, :, 2])
    cos_eta = rel[:, :, 2] / r
    cos_psi = (rel @ direction) / r
    light = CF * track_m_per_gev * energies_gev * np.where(hadronic, hadronic_light_factor(energies_gev), 1.0)
    mu = (light[:, None] * point_flux(r, l_e, l_a) * angular_acceptance(cos_eta, r, l_e)
          * profile(cos_psi, r, l_e) * efficiency[None, :] * EFCR)
    return Emission(mu, times_ns[:, None] + r / C_ICE_M_PER_NS, r, l_e, l_a)
