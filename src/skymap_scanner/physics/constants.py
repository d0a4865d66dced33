"""Constants of the track reconstruction, each with its source.

Tags [Sx] refer to the source list of ``docs/physics.md`` §16 (section numbers "§n" to that
document). Units are in the names: m, ns, Hz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# -- light in ice (IceTray dataclasses/public/dataclasses/I3Constants.h [S1]; docs/physics.md §2) --------
#: speed of light in vacuum [m/ns]
C_VACUUM_M_PER_NS = 0.299792458
#: phase refractive index of ice at 400 nm (sets the Cherenkov angle)
N_PHASE = 1.3195
#: group refractive index of ice at 400 nm (sets the photon travel time)
N_GROUP = 1.35634
#: group velocity of light in ice [m/ns]
C_ICE_M_PER_NS = C_VACUUM_M_PER_NS / N_GROUP
#: Cherenkov angle θc = arccos(1 / n_p) = 40.72 deg
COS_CHERENKOV = 1.0 / N_PHASE
SIN_CHERENKOV = math.sqrt(1.0 - COS_CHERENKOV**2)
TAN_CHERENKOV = SIN_CHERENKOV / COS_CHERENKOV
#: direct-light delay per metre of closest-approach distance, in units of 1/c:
#: t_geo = t0 + [d_t + d (n_g / sin θc - 1 / tan θc)] / c (rpdf ``cherenkov_time`` [S2][S3], docs/physics.md §3)
CHERENKOV_PATH_FACTOR = N_GROUP / SIN_CHERENKOV - 1.0 / TAN_CHERENKOV

# -- the DOM (docs/physics.md §7.1, muex [S9]) -------------------------------------------------------------
#: DOM radius [m]. The fit regularises closest-approach distances as sqrt(d² + r²): below r "distance to
#: the DOM centre" has no meaning, and the fit needs a differentiable d where a track passes through a
#: DOM (changes t_geo by < 0.15 ns for d > 0.5 m); the simulation's light yield uses its cross-section
DOM_RADIUS_M = 0.1651


# -- the IceCube-86 layout (arXiv:1612.05093 §2) --------------------------------------------------------------
#: strings 79-86 are DeepCore
FIRST_DEEPCORE_STRING = 79

# -- Pandel ice parameters (rpdf/private/rpdf/geometry.cxx [S2]; docs/physics.md §4) -----------------------
@dataclass(frozen=True)
class PandelIce:
    """Pandel photon-delay parameters and the effective-distance (PMT orientation) correction.

    absorption_length_m (λ_a), tau_ns (τ), scattering_length_m (λ); effective distance
    d_eff = p1 d + cs0 + cs1 cos η + cs2 cos² η [m] (docs/physics.md §3).
    """

    name: str
    absorption_length_m: float
    tau_ns: float
    scattering_length_m: float
    p1: float
    cs0: float
    cs1: float
    cs2: float

    @property
    def rho_per_ns(self) -> float:
        """ρ = 1/τ + c_ice/λ_a [1/ns], the rate of the gamma-distributed delay."""
        return 1.0 / self.tau_ns + C_ICE_M_PER_NS / self.absorption_length_m


PANDEL_H0 = PandelIce("H0", 98.0, 596.0, 36.93, 0.9045, 4.249, -6.629, 5.430)
PANDEL_H1 = PandelIce("H1", 98.0, 578.0, 35.04, 0.8682, 3.615, -5.081, 5.015)
#: AMANDA paper (Ahrens et al., NIM A 524 (2004) 169 [S3]); the set recommended for IceCube and the
#: default of I3RecoLLH and lilliput's Pandel factory
PANDEL_H2 = PandelIce("H2", 98.0, 556.7, 33.29, 0.8395, 3.094, -3.946, 4.636)
PANDEL_H3 = PandelIce("H3", 98.0, 542.2, 31.72, 0.8106, 2.683, -3.090, 4.436)
PANDEL_H4 = PandelIce("H4", 98.0, 526.3, 29.94, 0.7790, 2.139, -0.9614, 4.020)
PANDEL_ICE = {ice.name: ice for ice in (PANDEL_H0, PANDEL_H1, PANDEL_H2, PANDEL_H3, PANDEL_H4)}

# -- likelihood settings (lilliput add_pandel_likelihood_service, paraboloid example [S3][S4][S12]) ----
#: Gaussian jitter σ [ns] convolved with the Pandel PDF for MPE likelihoods ("better results are
#: obtained if the jitter is set unphysically large"; physical DOM jitter is ~3 ns)
JITTER_MPE_NS = 4.0
#: Gaussian jitter σ [ns] for SPE-type likelihoods
JITTER_SPE_NS = 15.0
#: noise floor added to every hit DOM's likelihood: 10 Hz = 1e-8 /ns, the standard lilliput/rpdf
#: choice ("no physical basis", "conservative"; docs/physics.md §6)
NOISE_FLOOR_HZ = 10.0
HZ_PER_NS = 1e-9
NOISE_FLOOR_PER_NS = NOISE_FLOOR_HZ * HZ_PER_NS

# -- ice layers (the cascade response, physics/light_yield.py, and the simulator share them) ------------
#: depth of the IceCube origin [m]: depth = 1948.07 m - z (docs/physics.md §1.1 [S1])
ORIGIN_DEPTH_M = 1948.07
#: SPICE-3 ice at 400 nm, averaged in 50 m layers from 1100 to 2800 m depth (this project's averages of
#: ``mue/resources/ice/sp3/icemodel.dat`` [S9], columns b_e(400) and a_dust(400); the pure-ice absorption
#: A e^(-B/λ)(1 + 0.01 δτ) with A = 6954.09 /m, B = 6617.75 nm (SPICE Mie, IceCube, NIM A 711 (2013) 73)
#: is included in the absorption). Harmonic averages over 1450-2450 m reproduce docs/physics.md §7.1:
#: l_e ≈ 24 m, l_a ≈ 87 m; the dust layer (2000-2100 m) has l_e ≈ 8-12 m, l_a ≈ 30-40 m.
SPICE3_TOP_DEPTH_M = 1100.0
SPICE3_LAYER_M = 50.0
SPICE3_SCATTERING_PER_M = (
    0.1621, 0.1319, 0.1608, 0.1084, 0.1193, 0.0727, 0.0606, 0.0410, 0.0522, 0.0578, 0.0445, 0.0281,
    0.0444, 0.0333, 0.0279, 0.0375, 0.0273, 0.0756, 0.1232, 0.0849, 0.0241, 0.0305, 0.0236, 0.0153,
    0.0192, 0.0286, 0.0157, 0.0150, 0.0233, 0.0228, 0.0128, 0.0115, 0.0375, 0.1260,
)
SPICE3_ABSORPTION_PER_M = (
    0.04455, 0.03600, 0.04418, 0.02942, 0.03141, 0.02001, 0.01732, 0.00988, 0.01547, 0.01484, 0.01143,
    0.00634, 0.01422, 0.00849, 0.00776, 0.00988, 0.00671, 0.02104, 0.03290, 0.02501, 0.00604, 0.00888,
    0.00676, 0.00425, 0.00596, 0.00835, 0.00438, 0.00379, 0.00637, 0.00639, 0.00367, 0.00335, 0.01029,
    0.03450,
)
