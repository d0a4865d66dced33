"""Physical constants of the simulation, each with its source.

Tags such as [S1] refer to the source list of ``docs/physics.md`` §16; "§n" to its sections.
Units are in the names: m, ns, GeV, Hz, PE.
"""

from __future__ import annotations

import math

from skymap_scanner.physics.constants import (  # noqa: F401 - re-exported for the simulation modules
    C_ICE_M_PER_NS,
    C_VACUUM_M_PER_NS,
    COS_CHERENKOV,
    DOM_RADIUS_M,
    N_GROUP,
    N_PHASE,
    ORIGIN_DEPTH_M,
    SIN_CHERENKOV,
    TAN_CHERENKOV,
)

# -- light in ice: the physical constants above are the reconstruction's (I3Constants.h [S1]; docs/physics.md
# §2), and so are the depth of the origin and the SPICE-3 layer table; the simulation differs from the
# track reco in ice layering (the reco's Pandel uses one bulk ice), delays and losses, not in these

# -- muon energy losses ---------------------------------------------------------------------------
#: ice density [g/cm³] (docs/physics.md §2, §7.1)
ICE_DENSITY = 0.9216
#: dE/dx = a + b E with a = 0.26 GeV/m.w.e., b = 0.36e-3 /m.w.e. (Chirkin & Rhode, hep-ph/0407075;
#: docs/physics.md §2), converted to metres of ice with the density above
LOSS_A_GEV_PER_M = 0.26 * ICE_DENSITY
LOSS_B_PER_M = 0.36e-3 * ICE_DENSITY
#: share of b carried by e+e- pair production (many small losses); the rest (bremsstrahlung and
#: photonuclear, spectra ~ 1/v) gives the few large losses. Muon stopping-power tables for water/ice
#: at 10-1000 TeV give b_pair : b_brems : b_nucl ≈ 1.5 : 1.2 : 0.5 (Groom, Mokhov & Striganov,
#: Atomic Data and Nuclear Data Tables 78 (2001) 183), hence ≈ 0.45.
PAIR_SHARE_OF_B = 0.45
#: smallest fractional energy transfer v sampled as a discrete bremsstrahlung/photonuclear loss;
#: below it those processes carry only a fraction v_min of their loss (1/v spectrum), neglected
HARD_LOSS_V_MIN = 1e-4
#: pair-production losses are lumped into one cascade per segment of this length [m] whose energy is
#: Gamma distributed with this shape (docs/physics.md §13 step 3: "every 2.5-5 m", "Gamma of shape ~0.3")
PAIR_SEGMENT_M = 4.0
PAIR_GAMMA_SHAPE = 0.3
#: hadronic cascades emit less light than electromagnetic ones: F(E) = 1 - (1 - f0) (E / E_s)^(-m),
#: π+ parametrisation (L. Rädel, M.Sc. thesis RWTH Aachen 2012; Rädel & Wiebusch, Astropart. Phys. 44
#: (2013) 102): E_s = 0.15591 GeV, f0 = 0.27273, m = 0.15782
HADRONIC_ES_GEV = 0.15591
HADRONIC_F0 = 0.27273
HADRONIC_M = 0.15782
#: mean inelasticity of charged-current νN interactions at 10-1000 TeV, ⟨y⟩ ≈ 0.25 (Gandhi, Quigg,
#: Reno & Sarcevic, Astropart. Phys. 5 (1996) 81); starting events draw y from an exponential of this
#: mean (truncated to y < 1)
MEAN_INELASTICITY = 0.25

# -- light yield (muex photon-flux model, D. Chirkin, mue/private/muex/llhreco.cxx [S9]; docs/physics.md §7.1)
#: photons per metre of bare track reaching a DOM cross-section: Cf = 2450.08 π r²
CF = 2450.08 * math.pi * DOM_RADIUS_M**2
#: cascade light as equivalent bare-track length [m/GeV]: 5.21 m (0.924 / ρ)
FF_M_PER_GEV = 5.21 * (0.924 / ICE_DENSITY)
#: overall efficiency factor of the model
EFCR = 0.75 * 0.9
#: minimum-ionising (continuous) light per metre relative to Cf: 1.188 + 0.0206 ln(E/GeV) (Rädel &
#: Wiebusch, Astropart. Phys. 38 (2012) 53, Tab. C.3, as in clsim [S27]; docs/physics.md §7.1)
CONTINUOUS_YIELD_A = 1.188
CONTINUOUS_YIELD_B = 0.0206
#: hole-ice angular acceptance s(c) = Σ a_k c^k, c = cos η (docs/physics.md §7.1 [S9])
ACCEPTANCE_COEFFS = (0.32813, 0.63899, 0.20049, -1.2250, -0.14470, 4.1695, 0.76898, -5.8690, -2.0939,
                     2.3834, 1.0435)
#: isotropic acceptance reached far from the source: A = [s(cos η) + 0.338 y] / (1 + y), y = sinh(d/l_e)
ACCEPTANCE_FAR = 0.338
#: electromagnetic-cascade angular profile f(cos ψ) = exp(-5.40 |cos ψ - cos θc|^0.35) / 0.06667
#: (M. de Jong, as in muex [S9]; docs/physics.md §7.1)
CASCADE_PROFILE_SCALE = 5.40
CASCADE_PROFILE_POWER = 0.35
CASCADE_PROFILE_NORM = 0.06667

# -- DOM response ---------------------------------------------------------------------------------
#: relative efficiency of high-quantum-efficiency (DeepCore) DOMs (docs/physics.md §2 [S20]: +35 % QE)
HQE_EFFICIENCY = 1.35
#: in-ice dark rates [Hz]: 560 (standard PMT), 780 (HQE) (docs/physics.md §8 [S20])
NOISE_RATE_STANDARD_HZ = 560.0
NOISE_RATE_HQE_HZ = 780.0
#: time jitter per photoelectron [ns]: DOM timing 1.2 ns [S20] plus PMT transit-time spread (docs/physics.md
#: §13 step 6: "N(0, 1.2-2 ns)"; the spread itself is not in the public sources, §15)
JITTER_NS = 2.0
#: single-photoelectron charge: Gaussian (mean 1, width 0.3 PE) plus an exponential low-charge
#: component (docs/physics.md §13 step 7; shape as in IceCube, JINST 15 (2020) P06032); the split and
#: exponential scale are this project's choice
SPE_GAUSS_MEAN_PE = 1.0
SPE_GAUSS_WIDTH_PE = 0.3
SPE_EXP_FRACTION = 0.25
SPE_EXP_SCALE_PE = 0.4
#: discriminator threshold [PE] (docs/physics.md §2 [S20])
DISCRIMINATOR_PE = 0.25
#: photons closer than this to the first photon of a pulse merge into it [ns] (docs/physics.md §13 step 7:
#: "merge photons within a few ns into pulses")
PULSE_MERGE_NS = 5.0
#: local coincidence: a neighbour within 2 DOMs on the string hit within ±1 µs (docs/physics.md §2, §13 step 9)
LC_SPAN = 2
LC_WINDOW_NS = 1000.0

# -- neutrino-induced cascades (simulation/cascade.py, simulation/interactions.py) ----------------
#: photons of a cascade as the equivalent length of bare-muon track [m/GeV]: 5.321 m/GeV (Rädel &
#: Wiebusch, Astropart. Phys. 38 (2012) 53, arXiv:1206.5530, for ice of density 0.910), scaled to
#: this project's ice density. Multiplies CF like the muon's track light (the muex FF above, 5.21 m,
#: is kept for the muon's own losses)
RW_CASCADE_M_PER_GEV = 5.321 * (0.910 / ICE_DENSITY)
#: radiation length of ice [m]: 0.39652 m at density 0.910 (Rädel & Wiebusch 2012), scaled
RADIATION_LENGTH_M = 0.39652 * (0.910 / ICE_DENSITY)
#: longitudinal profile dE/dt ∝ (b' t)^(a-1) e^(-b' t), t = l / X0, a = alpha + beta ln(E/GeV)
#: (Rädel & Wiebusch 2012): electrons (electromagnetic cascades) and π+ (hadronic)
EM_LONG_ALPHA, EM_LONG_BETA, EM_LONG_B = 2.01849, 0.63176, 0.63207
HAD_LONG_ALPHA, HAD_LONG_BETA, HAD_LONG_B = 1.58357292, 0.41886807, 0.33833116
#: hadronic light relative to electromagnetic, F(E) = 1 - (E/E0)^(-m) (1 - f0), with a Gaussian
#: fluctuation of relative width rms0 · (ln E/GeV)^(-gamma) (π+ fit of Rädel & Wiebusch 2012, 2013:
#: Astropart. Phys. 38 (2012) 53 and 44 (2013) 102, arXiv:1210.5140; the form used by ppc and clsim)
RW_HAD_E0_GEV = 0.18791678
RW_HAD_M = 0.16267529
RW_HAD_F0 = 0.30974123
RW_HAD_RMS0 = 0.95899551
RW_HAD_GAMMA = 1.35589541
#: angular distribution of the charged secondaries about the cascade axis, x = 1 - cos θ on [0, 2]:
#: pdf ∝ x^(a-1) exp(-b x^a), a = 0.39, b = 2.61 (Rädel & Wiebusch 2012, as in ppc and clsim); every
#: secondary emits on its own Cherenkov cone (cos θc = 1/n_phase)
SECONDARY_ANGLE_A = 0.39
SECONDARY_ANGLE_B = 2.61
#: mean inelasticity ⟨y⟩ of νN charged-current (and, approximately, neutral-current) scattering versus
#: log10(E_ν/GeV) (Gandhi, Quigg, Reno & Sarcevic, Astropart. Phys. 5 (1996) 81, table of ⟨y⟩ for
#: neutrino CC scattering; values as transcribed here, not re-checked against the paper), interpolated
#: linearly in log10 E
MEAN_Y_LOG10_E = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0)
MEAN_Y_VALUES = (0.483, 0.477, 0.472, 0.426, 0.332, 0.273, 0.250, 0.237)
#: τ lepton: mass [GeV] and cτ [m] (PDG, R. L. Workman et al., PTEP 2022 083C01)
TAU_MASS_GEV = 1.77686
TAU_CTAU_M = 87.03e-6
#: τ decay branching fractions: e ν ν 17.82 %, μ ν ν 17.39 %, the rest hadrons (PDG 2022)
TAU_BR_ELECTRON = 0.1782
TAU_BR_MUON = 0.1739
#: E_in as the upstream IceCube Skymap Scanner reports it for its Millipede recos (Millipede: Aartsen et
#: al., JINST 9 (2014) P03009, arXiv:1311.4767): losses whose times lie within the track's intersection
#: with the instrumented volume widened by this length [m] (over c) at both ends
E_IN_MARGIN_M = 60.0
