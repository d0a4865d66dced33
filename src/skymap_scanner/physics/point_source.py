"""Arrival-time response of a point light source (a cascade) in residual-time bins, and noise per bin
(docs/physics.md §17.3).

Photon delays after the direct time t_geo = t_vertex + r n_g / c follow the Gaussian-convolved Pandel
PDF p_σ(t; ξ, ρ) of ``pandel.py`` (rpdf: Pandel "derived for a point source … such as a laser" [S3]),
with cascade ice constants (ipdf "CascIce0": τ = 450 ns, λ = 47 m, λ_a of the H ices, 98 m [S6]) and
ξ = d_eff / λ. The probability of a bin [t0, t1) is exact through the survival function,

    P_bin = S_σ(t0) - S_σ(t1) = ∫_(t0)^(t1) p_σ(t) dt,

so the bins of a partition of [t_first, ∞) sum to S_σ(t_first) exactly (up to rounding).

Effective distance of a cascade (an angle-dependent analogue of the track's d_eff(d, cos η),
docs/physics.md §3): d_eff = d (1 + κ (1 - cos ψ) / 2), ψ the angle between the shower axis and the
vertex → DOM direction: light that must turn by more to reach the DOM scatters more. κ = 0 by default
(``CASCADE_DEFF_KAPPA``: the simulator's delays do not depend on ψ; §17.3).

Noise: ν = R · Δt (dark rate R [Hz], bin width Δt [ns]) expected PE per bin, as Millipede adds it
(JINST 9 (2014) P03009 [S8]). Times in ns, distances in m.
"""

from __future__ import annotations

import math

from numba import njit

from skymap_scanner.physics.constants import HZ_PER_NS, PandelIce
from skymap_scanner.physics.pandel import cpandel_log

#: cascade Pandel ice "CascIce0": τ 450 ns, λ 47 m, λ_a of the underlying H ice (98 m)
#: (``ipdf/public/ipdf/Pandel/IceModel.h`` [S6]); the track-style d_eff correction is off (p1 = 1, cs = 0)
CASCADE_ICE = PandelIce("CascIce0", 98.0, 450.0, 47.0, 1.0, 0.0, 0.0, 0.0)
CASCADE_RHO_PER_NS = CASCADE_ICE.rho_per_ns
CASCADE_SCATTERING_M = CASCADE_ICE.scattering_length_m
#: Gaussian jitter σ [ns] of the cascade likelihood: the SPE-type jitter of docs/physics.md §6 (15 ns)
CASCADE_JITTER_NS = 15.0
#: κ of d_eff = d (1 + κ (1 - cos ψ)/2); 0: the simulator's scattering delays (``simulation/photons.py``)
#: depend on path length and ice only, so a fit against it has no angular term to find
CASCADE_DEFF_KAPPA = 0.0
#: distances are floored here [m] so that ξ > 0 (a DOM's radius)
MIN_EFFECTIVE_DISTANCE_M = 0.1651


@njit(cache=True, error_model="numpy")
def cascade_effective_distance(distance_m: float, cos_psi: float, kappa: float) -> float:
    """d_eff = d (1 + κ (1 - cos ψ) / 2) [m], floored at the DOM radius."""
    c = min(max(cos_psi, -1.0), 1.0)
    return max(distance_m, MIN_EFFECTIVE_DISTANCE_M) * (1.0 + kappa * 0.5 * (1.0 - c))


@njit(cache=True, error_model="numpy")
def log_survival(t_ns: float, d_eff_m: float, sigma_ns: float, rho_per_ns: float,
                 scattering_length_m: float) -> float:
    """ln S_σ(t) of the convolved Pandel PDF at residual t [ns] (0 at t = -∞, -∞ at t = +∞)."""
    if t_ns == -math.inf:
        return 0.0
    if t_ns == math.inf:
        return -math.inf
    xi = max(d_eff_m, MIN_EFFECTIVE_DISTANCE_M) / scattering_length_m
    return cpandel_log(t_ns, xi, rho_per_ns, sigma_ns, True)[4]


@njit(cache=True, error_model="numpy")
def point_source_bin_probability(t0_ns: float, t1_ns: float, d_eff_m: float, sigma_ns: float,
                                 rho_per_ns: float, scattering_length_m: float) -> float:
    """P(t0 ≤ t_res < t1) = S_σ(t0) - S_σ(t1) for a point source at effective distance d_eff [m]
    (Pandel rate ρ [1/ns], scattering length λ [m], jitter σ [ns]); 0 for t1 ≤ t0."""
    if not t1_ns > t0_ns:
        return 0.0
    s0 = math.exp(log_survival(t0_ns, d_eff_m, sigma_ns, rho_per_ns, scattering_length_m))
    s1 = math.exp(log_survival(t1_ns, d_eff_m, sigma_ns, rho_per_ns, scattering_length_m))
    return max(s0 - s1, 0.0)


@njit(cache=True, error_model="numpy")
def cascade_bin_probability(t0_ns: float, t1_ns: float, distance_m: float, cos_psi: float) -> float:
    """:func:`point_source_bin_probability` with the cascade defaults (CascIce0, 15 ns, κ)."""
    d_eff = cascade_effective_distance(distance_m, cos_psi, CASCADE_DEFF_KAPPA)
    return point_source_bin_probability(t0_ns, t1_ns, d_eff, CASCADE_JITTER_NS, CASCADE_RHO_PER_NS,
                                        CASCADE_SCATTERING_M)


@njit(cache=True, error_model="numpy")
def noise_pe_per_bin(width_ns: float, rate_hz: float) -> float:
    """ν = R Δt: expected noise PE in a bin of ``width_ns`` at dark rate ``rate_hz``."""
    return rate_hz * HZ_PER_NS * max(width_ns, 0.0)
