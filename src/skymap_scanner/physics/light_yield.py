"""Expected photoelectrons per DOM per GeV of a cascade or of a bare-muon segment (the response of an
energy-loss reconstruction without photon tables; docs/physics.md §17).

Cascade (a point at the vertex, direction p̂; DOM at distance r, cos ψ = p̂·r̂, photon direction at the
DOM cos η = (z_DOM - z_vertex)/r, positive = moving up into the downward-facing PMT):

    μ/E = K · N_γ · Φ_pt(r) · P(cos ψ, r) · A(cos η, r) · ε                                  [PE/GeV]

- N_γ = C_F · Y_c: photons per GeV on a DOM's cross-section, C_F = 2450.08 π r_DOM² [m] (photons per
  metre of bare track, 300–600 nm, times the DOM cross-section), Y_c = 5.321 m/GeV (0.910/ρ) the
  cascade's track-length equivalent (Rädel & Wiebusch 2012/2013);
- Φ_pt(r) = e^(-r/L) √(r² + l_c²) / (4π r² l_c) [1/m²]: direct 1/(4π r²) near the source, the
  diffusion 1/(4π l_c r) far from it, with L = √(l_e l_a / 3) / 1.07 and l_c = l_e / 3;
- P(cos ψ, r) = w g(cos ψ) + (1 - w), w = e^(-r/l_e): the Cherenkov-peaked profile g(c) =
  exp(-5.40 |c - cos θc|^0.35) / N_g (mean 1 over the sphere, N_g exact), washed out by scattering;
- A(cos η, r) = w s(cos η) + (1 - w) ⟨s⟩: the hole-ice acceptance polynomial, blended to its mean;
- ε: the DOM's relative efficiency; K: the one normalisation fitted to the simulator
  (``benchmarks/cascade_yield.py``).

Bare muon segment (length ℓ from its start, energy E; DOM at along-track distance s and
closest-approach distance d): its Cherenkov light per GeV of ionisation loss, as a line source,

    μ/E_seg = K · C_F (1.188 + 0.0206 ln E) / a_ion · Φ_line(d) · A(cos η, d) · ε · W(s_emit)

with Φ_line(d) = e^(-d/L) √(d + l_u) / (2π sin θc d √l_u), l_u = 2 (l_c / sin θc)² / (π L), and W the
share of the direct-light emission point s_emit = s - d / tan θc inside [0, ℓ], smoothed by a Gaussian
of width min(d, l_e) (the W of contiguous segments sum to 1).

Ice: l_e (effective scattering) and l_a (absorption) [m] averaged along the straight path between
two depths in the SPICE-3 table of ``physics/constants.py`` (50 m layers); :func:`path_lengths`. Units: m, GeV, PE.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.special import gammainc

from skymap_scanner.physics.constants import (
    COS_CHERENKOV,
    DOM_RADIUS_M,
    ORIGIN_DEPTH_M,
    SIN_CHERENKOV,
    SPICE3_ABSORPTION_PER_M,
    SPICE3_LAYER_M,
    SPICE3_SCATTERING_PER_M,
    SPICE3_TOP_DEPTH_M,
    TAN_CHERENKOV,
)

# -- light per GeV ---------------------------------------------------------------------------------------
#: photons (300–600 nm) per metre of bare (minimum-ionising, no secondaries) muon track in ice
#: (Rädel & Wiebusch, Astropart. Phys. 38 (2012) 53, arXiv:1206.5530; as in ppc ``f2k.cxx`` and muex
#: ``mue/private/muex/llhreco.cxx`` [S9])
PHOTONS_PER_M = 2450.08
#: photons per metre of track on a DOM's geometric cross-section π r²
CF = PHOTONS_PER_M * math.pi * DOM_RADIUS_M**2
#: ice density [g/cm³] of the project (docs/physics.md §2)
ICE_DENSITY = 0.9216
#: light of an electromagnetic cascade as bare-track length [m/GeV]: 5.321 m/GeV at density 0.910
#: (Rädel & Wiebusch, Astropart. Phys. 44 (2013) 102, arXiv:1210.5140, Eq. 8), scaled to ICE_DENSITY
CASCADE_TRACK_M_PER_GEV = 5.321 * (0.910 / ICE_DENSITY)
#: hadronic cascade light relative to electromagnetic, mean F(E) = 1 - (E/E0)^(-m) (1 - f0), π+ fit
#: (Rädel & Wiebusch 2012, 2013; the form ppc and clsim use). The reco uses the mean; the simulator
#: draws F with its fluctuation
HAD_E0_GEV = 0.18791678
HAD_M = 0.16267529
HAD_F0 = 0.30974123
#: continuous muon light relative to a bare track, 1.188 + 0.0206 ln(E/GeV) (Rädel & Wiebusch 2012,
#: Tab. C.3, as coded in clsim [S27])
MUON_YIELD_A = 1.188
MUON_YIELD_B = 0.0206
#: ionisation loss of a muon in ice [GeV/m]: a = 0.26 GeV per m.w.e. (Chirkin & Rhode, hep-ph/0407075)
#: times ICE_DENSITY; a muon segment's "energy" is the energy it loses this way
ION_LOSS_GEV_PER_M = 0.26 * ICE_DENSITY

# -- propagation (muex ``llhreco.cxx`` [S9] and the diffusion limit; docs/physics.md §7.1) --------------
#: L = √(l_e l_a / 3) / PROPAGATION_DIVISOR: the diffusion attenuation length with muex's empirical 1.07
PROPAGATION_DIVISOR = 1.07
#: distances are floored at the DOM radius (a source inside a DOM has no meaning)
MIN_DISTANCE_M = DOM_RADIUS_M

# -- angular shapes ----------------------------------------------------------------------------------
#: Cherenkov-peaked cascade profile exp(-b |cos ψ - cos θc|^p) (M. de Jong, as in muex [S9])
PROFILE_B = 5.40
PROFILE_P = 0.35


def _profile_integral() -> float:
    """∫_{-1}^{1} exp(-b |c - cos θc|^p) dc = b^(-1/p) Γ(1/p + 1) [P(1/p, b u₊^p) + P(1/p, b u₋^p)],
    u± = 1 ∓ cos θc (P the regularised lower incomplete gamma function)."""
    s = 1.0 / PROFILE_P
    head = PROFILE_B ** (-s) * math.gamma(s + 1.0)
    return head * float(gammainc(s, PROFILE_B * (1.0 - COS_CHERENKOV) ** PROFILE_P)
                        + gammainc(s, PROFILE_B * (1.0 + COS_CHERENKOV) ** PROFILE_P))


#: g(c) = exp(...) / PROFILE_NORM has mean 1 over the sphere (∫ g dc = 2); muex's 0.06667 is
#: ∫ exp(...) dc ≈ 0.0665, i.e. a mean of 1/2
PROFILE_NORM = 0.5 * _profile_integral()
#: hole-ice angular acceptance s(c) = Σ_k a_k c^k, c = cos η (muex [S9]; docs/physics.md §7.1)
ACCEPTANCE_COEFFS = np.array([0.32813, 0.63899, 0.20049, -1.2250, -0.14470, 4.1695, 0.76898, -5.8690,
                              -2.0939, 2.3834, 1.0435])
#: its mean over the sphere, Σ_(k even) a_k / (k + 1) = 0.3381 (muex blends to 0.338)
ACCEPTANCE_MEAN = float(sum(ACCEPTANCE_COEFFS[k] / (k + 1) for k in range(0, len(ACCEPTANCE_COEFFS), 2)))

# -- the one fitted normalisation ---------------------------------------------------------------------
#: K: simulated over modelled charge (Poisson ML of one scale = Σ simulated / Σ model) for 100 TeV
#: electromagnetic cascades at a fixed vertex, isotropic directions, no noise: ``benchmarks/cascade_yield.py``
#: (run 2026-12-02: 40 events at each of 3 vertices, seed 1, K = 0.6573; docs/physics.md §17.4)
PE_NORMALISATION = 0.657

# -- the reconstruction's ice: SPICE-3 at 400 nm in 50 m layers (physics/constants.py, shared with the
# simulator; 100 m layers were tried and biased the far charge by 1.5-3x, docs/physics.md §17.4) ---------
ICE_TOP_DEPTH_M = SPICE3_TOP_DEPTH_M
ICE_LAYER_M = SPICE3_LAYER_M
#: effective scattering and absorption coefficients [1/m] per layer
ICE_SCATTERING_PER_M = np.array(SPICE3_SCATTERING_PER_M)
ICE_ABSORPTION_PER_M = np.array(SPICE3_ABSORPTION_PER_M)
#: paths spanning less depth than this [m] use the coefficients averaged over this interval around them
ICE_MIN_SPAN_M = 0.5
_SQRT2 = math.sqrt(2.0)


# -- ice ---------------------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _column(coeff: np.ndarray, depth: float) -> float:
    """∫ coeff d(depth') from ICE_TOP_DEPTH_M to ``depth`` [dimensionless], outer layers extended."""
    x = (depth - ICE_TOP_DEPTH_M) / ICE_LAYER_M
    n = coeff.size
    if x <= 0.0:
        return coeff[0] * x * ICE_LAYER_M
    k = min(int(x), n - 1)
    total = 0.0
    for i in range(k):
        total += coeff[i]
    return (total + coeff[k] * (x - k)) * ICE_LAYER_M


@njit(cache=True, error_model="numpy")
def path_lengths(z_from: float, z_to: float) -> tuple[float, float]:
    """(l_e, l_a) [m]: the coefficients averaged over the depths of a straight path z_from → z_to
    (detector z [m]); exact for absorption in horizontal layers, an approximation for scattering."""
    d1, d2 = ORIGIN_DEPTH_M - z_from, ORIGIN_DEPTH_M - z_to
    lo = min(d1, d2) - 0.5 * ICE_MIN_SPAN_M
    hi = max(d1, d2) + 0.5 * ICE_MIN_SPAN_M
    span = hi - lo
    b = (_column(ICE_SCATTERING_PER_M, hi) - _column(ICE_SCATTERING_PER_M, lo)) / span
    a = (_column(ICE_ABSORPTION_PER_M, hi) - _column(ICE_ABSORPTION_PER_M, lo)) / span
    return 1.0 / b, 1.0 / a


# -- shapes ------------------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def attenuation_length(scattering_m: float, absorption_m: float) -> float:
    """L = √(l_e l_a / 3) / 1.07 [m]."""
    return math.sqrt(scattering_m * absorption_m / 3.0) / PROPAGATION_DIVISOR


@njit(cache=True, error_model="numpy")
def point_fluence(distance_m: float, scattering_m: float, absorption_m: float) -> float:
    """Φ_pt(r) = e^(-r/L) √(r² + l_c²) / (4π r² l_c) [1/m²] per emitted photon, l_c = l_e / 3."""
    r = max(distance_m, MIN_DISTANCE_M)
    l_c = scattering_m / 3.0
    return math.exp(-r / attenuation_length(scattering_m, absorption_m)) * math.sqrt(r * r + l_c * l_c) / (
        4.0 * math.pi * r * r * l_c)


@njit(cache=True, error_model="numpy")
def line_fluence(distance_m: float, scattering_m: float, absorption_m: float) -> float:
    """Φ_line(d) = e^(-d/L) √(d + l_u) / (2π sin θc d √l_u) [1/m²] per photon per metre of track:
    direct cone light 1/(2π sin θc d) near, the diffusion limit 1/(2π sin θc √(l_u d)) far."""
    d = max(distance_m, MIN_DISTANCE_M)
    big_l = attenuation_length(scattering_m, absorption_m)
    l_c = scattering_m / 3.0
    l_u = 2.0 * (l_c / SIN_CHERENKOV) ** 2 / (math.pi * big_l)
    return math.exp(-d / big_l) * math.sqrt((d + l_u) / l_u) / (2.0 * math.pi * SIN_CHERENKOV * d)


@njit(cache=True, error_model="numpy")
def direct_weight(distance_m: float, scattering_m: float) -> float:
    """w = e^(-r/l_e): how much of the light still remembers its emission direction."""
    return math.exp(-max(distance_m, 0.0) / scattering_m)


@njit(cache=True, error_model="numpy")
def cherenkov_profile(cos_psi: float) -> float:
    """g(cos ψ): cascade photon directions about the axis, peaked at θc, mean 1 over the sphere."""
    c = min(max(cos_psi, -1.0), 1.0)
    return math.exp(-PROFILE_B * abs(c - COS_CHERENKOV) ** PROFILE_P) / PROFILE_NORM


@njit(cache=True, error_model="numpy")
def angular_profile(cos_psi: float, distance_m: float, scattering_m: float) -> float:
    """P = w g(cos ψ) + (1 - w): the profile seen at distance r (mean 1 over the sphere at every r)."""
    w = direct_weight(distance_m, scattering_m)
    return w * cherenkov_profile(cos_psi) + (1.0 - w)


@njit(cache=True, error_model="numpy")
def acceptance(cos_eta: float, distance_m: float, scattering_m: float) -> float:
    """A = w s(cos η) + (1 - w) ⟨s⟩: PMT + hole-ice acceptance, cos η > 0 for light moving up."""
    c = min(max(cos_eta, -1.0), 1.0)
    s = 0.0
    for k in range(ACCEPTANCE_COEFFS.size - 1, -1, -1):
        s = s * c + ACCEPTANCE_COEFFS[k]
    w = direct_weight(distance_m, scattering_m)
    return w * max(s, 0.0) + (1.0 - w) * ACCEPTANCE_MEAN


@njit(cache=True, error_model="numpy")
def hadronic_light_factor(energy_gev: float) -> float:
    """Mean light of a hadronic cascade relative to an electromagnetic one (E ≥ e GeV)."""
    e = max(energy_gev, math.e)
    return 1.0 - (e / HAD_E0_GEV) ** (-HAD_M) * (1.0 - HAD_F0)


# -- expected PE per GeV ---------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def cascade_mean_pe(distance_m: float, cos_psi: float, cos_eta: float, scattering_m: float,
                    absorption_m: float, efficiency: float) -> float:
    """Expected PE at a DOM per GeV (electromagnetic-equivalent) of a point cascade: distance r [m],
    cos ψ of the axis to the DOM direction, cos η of the arriving light, ice l_e, l_a [m] along the
    path, relative DOM efficiency ε."""
    return (PE_NORMALISATION * CF * CASCADE_TRACK_M_PER_GEV * point_fluence(distance_m, scattering_m, absorption_m)
            * angular_profile(cos_psi, distance_m, scattering_m) * acceptance(cos_eta, distance_m, scattering_m)
            * efficiency)


@njit(cache=True, error_model="numpy")
def segment_window(along_m: float, distance_m: float, length_m: float, scattering_m: float) -> float:
    """W: share of the direct-light emission point s_emit = s - d / tan θc inside [0, ℓ], each end
    smoothed by a Gaussian of width min(d, l_e) (contiguous segments' W sum to 1)."""
    s_emit = along_m - distance_m / TAN_CHERENKOV
    width = max(min(distance_m, scattering_m), MIN_DISTANCE_M) * _SQRT2
    return 0.5 * (math.erf(s_emit / width) - math.erf((s_emit - length_m) / width))


@njit(cache=True, error_model="numpy")
def muon_segment_mean_pe(along_m: float, distance_m: float, cos_eta: float, length_m: float,
                         energy_gev: float, scattering_m: float, absorption_m: float,
                         efficiency: float) -> float:
    """Expected PE at a DOM per GeV of ionisation loss of a bare-muon segment of length ℓ [m] starting
    at the reference point: DOM at along-track s and closest-approach d [m], light direction cos η,
    muon energy E [GeV] (for the ln E yield), ice l_e, l_a [m], DOM efficiency ε."""
    per_gev = CF * (MUON_YIELD_A + MUON_YIELD_B * math.log(max(energy_gev, 1.0))) / ION_LOSS_GEV_PER_M
    return (PE_NORMALISATION * per_gev * line_fluence(distance_m, scattering_m, absorption_m)
            * acceptance(cos_eta, distance_m, scattering_m) * efficiency
            * segment_window(along_m, distance_m, length_m, scattering_m))


# -- array wrapper -----------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _cascade_dom_arrays(dom_pos: np.ndarray, vertex: np.ndarray, direction: np.ndarray,
                        efficiency: np.ndarray) -> np.ndarray:
    out = np.empty(dom_pos.shape[0])
    for i in range(dom_pos.shape[0]):
        dx, dy, dz = dom_pos[i, 0] - vertex[0], dom_pos[i, 1] - vertex[1], dom_pos[i, 2] - vertex[2]
        r = max(math.sqrt(dx * dx + dy * dy + dz * dz), MIN_DISTANCE_M)
        cos_psi = (dx * direction[0] + dy * direction[1] + dz * direction[2]) / r
        l_e, l_a = path_lengths(vertex[2], dom_pos[i, 2])
        out[i] = cascade_mean_pe(r, cos_psi, dz / r, l_e, l_a, efficiency[i])
    return out


def cascade_dom_mean_pe(dom_pos_m: np.ndarray, vertex_m: np.ndarray, direction: np.ndarray,
                        efficiency: np.ndarray | float = 1.0) -> np.ndarray:
    """Expected PE per GeV at DOMs (N, 3) [m] of a cascade at ``vertex_m`` along unit ``direction``,
    in the layered ice of :func:`path_lengths`."""
    pos = np.ascontiguousarray(np.atleast_2d(dom_pos_m), np.float64)
    eff = np.ascontiguousarray(np.broadcast_to(np.asarray(efficiency, np.float64), (pos.shape[0],)))
    return _cascade_dom_arrays(pos, np.ascontiguousarray(vertex_m, np.float64),
                               np.ascontiguousarray(direction, np.float64), eff)
