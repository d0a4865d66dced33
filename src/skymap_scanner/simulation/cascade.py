"""Light of neutrino-induced cascades (Rädel & Wiebusch, Astropart. Phys. 38 (2012) 53, arXiv:1206.5530).

A cascade of energy E [GeV] and kind ``"em"`` (e±, γ) or ``"hadronic"`` is turned into light sources
that the simulator's point-source machinery (``light.cascade_emission``) propagates through the layered
ice to the DOMs:

- total light: CF · 5.321 m/GeV (ρ-scaled) · F · E, with F = 1 for electromagnetic cascades and, for
  hadronic ones, F(E) = 1 - (E/E0)^-m (1 - f0) drawn with a Gaussian relative fluctuation
  rms0 (ln E)^-γ (π+ parametrisation; fluctuations: Rädel & Wiebusch 2013, arXiv:1210.5140);
- longitudinal profile: a Gamma distribution in depth l along the axis, shape a = α + β ln E and scale
  X0/b', sampled deterministically by ``N_LONGITUDINAL`` quantile points, each a point source carrying an
  equal share of the light, emitted when the shower front (speed c) passes it;
- angular emission: the charged secondaries are spread about the axis with the pdf of x = 1 - cos θ
  ∝ x^(a-1) exp(-b x^a) (a = 0.39, b = 2.61), and each emits on its Cherenkov cone; the resulting
  photon-direction distribution about the axis (tabulated once, mean 1 over the sphere) replaces the
  muon losses' muex profile, and is blended to isotropic with distance like it (``light.cascade_profile``).

Units: m, ns, GeV.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.special import gammaincinv

from skymap_scanner.simulation.constants import (
    C_VACUUM_M_PER_NS,
    COS_CHERENKOV,
    EM_LONG_ALPHA,
    EM_LONG_B,
    EM_LONG_BETA,
    HAD_LONG_ALPHA,
    HAD_LONG_B,
    HAD_LONG_BETA,
    RADIATION_LENGTH_M,
    RW_HAD_E0_GEV,
    RW_HAD_F0,
    RW_HAD_GAMMA,
    RW_HAD_M,
    RW_HAD_RMS0,
    SECONDARY_ANGLE_A,
    SECONDARY_ANGLE_B,
    SIN_CHERENKOV,
)
from skymap_scanner.simulation.light import _far_weight  # one blending rule for both profiles

#: point sources per cascade along its axis (quantiles (i + 1/2)/N of the longitudinal profile)
N_LONGITUDINAL = 8
#: bins in cos ψ of the tabulated angular emission profile, and the quadrature used to build it
_PROFILE_BINS = 400
_PROFILE_N_THETA = 4000
_PROFILE_N_PHI = 256
#: the parametrisations are evaluated at E ≥ e GeV (ppc's floor, so ln E ≥ 1)
_MIN_ENERGY_GEV = math.e

CASCADE_KINDS = ("em", "hadronic")


def hadronic_factor_mean(energy_gev: np.ndarray) -> np.ndarray:
    """Mean light of a hadronic cascade relative to an electromagnetic one of the same energy."""
    e = np.maximum(np.asarray(energy_gev, np.float64), _MIN_ENERGY_GEV)
    return 1.0 - (e / RW_HAD_E0_GEV) ** (-RW_HAD_M) * (1.0 - RW_HAD_F0)


def hadronic_factor_sigma(energy_gev: np.ndarray) -> np.ndarray:
    """Standard deviation of that factor (absolute): F · rms0 · (ln E)^-γ."""
    e = np.maximum(np.asarray(energy_gev, np.float64), _MIN_ENERGY_GEV)
    return hadronic_factor_mean(e) * RW_HAD_RMS0 * np.log(e) ** (-RW_HAD_GAMMA)


def sample_light_factor(energy_gev: float, kind: str, rng: np.random.Generator) -> float:
    """Light factor of one cascade: 1 for ``"em"``, a Gaussian draw of F(E) in [0, 1] for ``"hadronic"``."""
    if kind == "em":
        return 1.0
    if kind != "hadronic":
        raise ValueError(f"cascade kind must be one of {CASCADE_KINDS}, got {kind!r}")
    f = rng.normal(float(hadronic_factor_mean(energy_gev)), float(hadronic_factor_sigma(energy_gev)))
    return float(np.clip(f, 0.0, 1.0))


def longitudinal_parameters(energy_gev: float, kind: str) -> tuple[float, float]:
    """(shape a, scale [m]) of the Gamma distribution of emitted light in depth along the axis."""
    lne = math.log(max(energy_gev, _MIN_ENERGY_GEV))
    if kind == "em":
        return EM_LONG_ALPHA + EM_LONG_BETA * lne, RADIATION_LENGTH_M / EM_LONG_B
    return HAD_LONG_ALPHA + HAD_LONG_BETA * lne, RADIATION_LENGTH_M / HAD_LONG_B


def longitudinal_points_m(energy_gev: float, kind: str, n: int = N_LONGITUDINAL) -> np.ndarray:
    """Depths [m] of ``n`` equal-light quantile points of the longitudinal profile."""
    a, scale = longitudinal_parameters(energy_gev, kind)
    return scale * gammaincinv(a, (np.arange(n) + 0.5) / n)


@lru_cache(maxsize=1)
def _profile_table() -> tuple[np.ndarray, np.ndarray]:
    """(bin centres in cos ψ, photon-direction density about the axis, mean 1 over the sphere)."""
    a, b = SECONDARY_ANGLE_A, SECONDARY_ANGLE_B
    norm = 1.0 - math.exp(-b * 2.0**a)
    u = (np.arange(_PROFILE_N_THETA) + 0.5) / _PROFILE_N_THETA
    x = (-np.log(1.0 - u * norm) / b) ** (1.0 / a)  # inverse CDF of x = 1 - cos θ on [0, 2]
    cos_t = 1.0 - x
    sin_t = np.sqrt(np.clip(1.0 - cos_t**2, 0.0, 1.0))
    phi = 2 * math.pi * (np.arange(_PROFILE_N_PHI) + 0.5) / _PROFILE_N_PHI
    cos_psi = (cos_t[:, None] * COS_CHERENKOV + sin_t[:, None] * SIN_CHERENKOV * np.cos(phi)[None, :]).ravel()
    counts, edges = np.histogram(np.clip(cos_psi, -1.0, 1.0), bins=_PROFILE_BINS, range=(-1.0, 1.0))
    density = counts / counts.sum() / np.diff(edges)  # ∫ density d cos ψ = 1
    return 0.5 * (edges[1:] + edges[:-1]), 2.0 * density  # mean over the sphere = ∫ f dcosψ / 2 = 1


def emission_density(cos_psi: np.ndarray) -> np.ndarray:
    """Photon-direction density about the cascade axis (mean 1 over the sphere), without blending."""
    centres, density = _profile_table()
    return np.interp(np.clip(cos_psi, -1.0, 1.0), centres, density)


def forward_fraction() -> float:
    """Share of the emitted photons going forward (cos ψ > 0) in the model."""
    centres, density = _profile_table()
    return float(np.sum(density[centres > 0]) / np.sum(density))


def secondaries_profile(cos_psi: np.ndarray, distance_m: np.ndarray, scattering_m: np.ndarray) -> np.ndarray:
    """Angular emission of the cascade's secondaries, blended to isotropic with distance (as muex does
    for its profile: weight sinh(d / l_e) on the isotropic part)."""
    y = _far_weight(distance_m, scattering_m)
    return (emission_density(cos_psi) + y) / (1.0 + y)


def cascade_sources(position: np.ndarray, time_ns: float, direction: np.ndarray, energy_gev: float,
                    kind: str, light_factor: float,
                    n: int = N_LONGITUDINAL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point sources of one cascade: positions (n, 3) [m], times (n,) [ns], EM-equivalent energies (n,)
    [GeV] (light factor × E shared equally), placed at the longitudinal quantiles along ``direction``."""
    depth = longitudinal_points_m(energy_gev, kind, n)
    pos = np.asarray(position, np.float64) + np.outer(depth, direction)
    return pos, time_ns + depth / C_VACUUM_M_PER_NS, np.full(n, light_factor * energy_gev / n)
