"""From expected light to pulses: scattering delays, jitter, charges, noise, pulse merging, HLC flags.

Photon delays deliberately do not follow the reconstruction's Pandel PDF (docs/physics.md §14): the arrival
time of a photon that reaches distance r through ice with effective scattering length l_e and
absorption length l_a is drawn from the diffusion Green's function of a point source with absorption,

    p(t) ∝ t^(-3/2) exp(-r² / (4 D t) - v t / l_a),   D = v l_e / 3,  v = c / n_g,

i.e. an inverse-Gaussian distribution with mean (r/v)·sqrt(3 l_a / (4 l_e)) and shape 3 r² / (2 v l_e),
restricted to causal times t ≥ r/v (the diffusion approximation puts weight before the direct time
at r ≲ l_e; the restriction keeps those photons nearly undelayed, as they are in forward-scattering
ice). The delay is t - r/v. The scattering and absorption lengths come from the layered ice along
the path, so delays are longer in the dust layer.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr, ndtr

from skymap_scanner.event.model import FLAG_LC, dom_key
from skymap_scanner.simulation.constants import (
    C_ICE_M_PER_NS,
    DISCRIMINATOR_PE,
    JITTER_NS,
    LC_SPAN,
    LC_WINDOW_NS,
    PULSE_MERGE_NS,
    SPE_EXP_FRACTION,
    SPE_EXP_SCALE_PE,
    SPE_GAUSS_MEAN_PE,
    SPE_GAUSS_WIDTH_PE,
)

#: mean charge [PE] of one photoelectron under :func:`spe_charges` (the Gaussian's truncation at 0 is
#: a 4e-4 effect and neglected)
SPE_MEAN_PE = (1.0 - SPE_EXP_FRACTION) * SPE_GAUSS_MEAN_PE + SPE_EXP_FRACTION * SPE_EXP_SCALE_PE
#: bisection steps of the inverse-CDF sampler (interval shrinks by 2^-60); neutrino cascades, with
#: up to ~10^7 photons, use CASCADE_BISECTION_STEPS (2^-32 of a ≲ 10^5 ns interval: < 0.1 ps)
_BISECTION_STEPS = 60
CASCADE_BISECTION_STEPS = 32


def diffusion_parameters(path_m: np.ndarray, scattering_m: np.ndarray,
                         absorption_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean [ns], shape [ns], direct time [ns]) of the inverse-Gaussian arrival time."""
    direct = path_m / C_ICE_M_PER_NS
    mean = direct * np.sqrt(3.0 * absorption_m / (4.0 * scattering_m))
    shape = 3.0 * path_m**2 / (2.0 * C_ICE_M_PER_NS * scattering_m)
    return mean, shape, direct


def inverse_gaussian_sf(t: np.ndarray, mean: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Survival function P(T > t) of the inverse-Gaussian distribution (stable for large shape/mean)."""
    root = np.sqrt(shape / t)
    first = ndtr(-root * (t / mean - 1.0))
    second = np.exp(2.0 * shape / mean + log_ndtr(-root * (t / mean + 1.0)))
    return np.clip(first - second, 0.0, 1.0)


def truncated_inverse_gaussian(mean: np.ndarray, shape: np.ndarray, t_min: np.ndarray,
                               rng: np.random.Generator, steps: int = _BISECTION_STEPS) -> np.ndarray:
    """Draws from an inverse-Gaussian restricted to t ≥ t_min (inverse CDF by ``steps`` bisections)."""
    target = rng.random(np.shape(mean)) * inverse_gaussian_sf(t_min, mean, shape)
    lo = np.asarray(t_min, np.float64).copy()
    hi = np.maximum(lo, mean) + 10.0 * mean + 80.0 * mean**2 / shape
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        above = inverse_gaussian_sf(mid, mean, shape) > target
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return 0.5 * (lo + hi)


def scattering_delays(path_m: np.ndarray, scattering_m: np.ndarray, absorption_m: np.ndarray,
                      rng: np.random.Generator, steps: int = _BISECTION_STEPS) -> np.ndarray:
    """Delay [ns] after the direct (unscattered) arrival for photons with these paths and ice."""
    mean, shape, direct = diffusion_parameters(path_m, scattering_m, absorption_m)
    return truncated_inverse_gaussian(mean, shape, direct, rng, steps) - direct


def spe_charges(n: int, rng: np.random.Generator) -> np.ndarray:
    """Charges [PE] of n single photoelectrons: Gaussian (> 0) or the exponential low-charge part."""
    gauss = rng.normal(SPE_GAUSS_MEAN_PE, SPE_GAUSS_WIDTH_PE, n)
    bad = gauss <= 0
    while np.any(bad):
        gauss[bad] = rng.normal(SPE_GAUSS_MEAN_PE, SPE_GAUSS_WIDTH_PE, bad.sum())
        bad = gauss <= 0
    low = rng.exponential(SPE_EXP_SCALE_PE, n)
    return np.where(rng.random(n) < SPE_EXP_FRACTION, low, gauss)


def noise_photons(rates_hz: np.ndarray, window_ns: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uncorrelated dark-noise photoelectrons: (DOM index, time [ns]), Poisson(R T) per DOM, uniform
    in [0, window_ns]."""
    counts = rng.poisson(rates_hz * 1e-9 * window_ns)
    dom = np.repeat(np.arange(len(rates_hz)), counts)
    return dom, rng.uniform(0.0, window_ns, len(dom))


def merge_pulses(dom: np.ndarray, time_ns: np.ndarray,
                 charge_pe: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Photoelectrons → pulses: per DOM, in consecutive windows of PULSE_MERGE_NS from its first
    photoelectron; a pulse's time is its first photoelectron, its charge the sum. Pulses below the
    discriminator threshold are dropped. Returns (DOM index, time [ns], charge [PE]) sorted by DOM, time."""
    order = np.lexsort((time_ns, dom))
    dom, time_ns, charge_pe = dom[order], time_ns[order], charge_pe[order]
    first = np.ones(len(dom), bool)
    first[1:] = dom[1:] != dom[:-1]
    dom_start = np.maximum.accumulate(np.where(first, np.arange(len(dom)), 0))
    window = np.floor((time_ns - time_ns[dom_start]) / PULSE_MERGE_NS)
    new_pulse = first.copy()
    new_pulse[1:] |= window[1:] != window[:-1]
    starts = np.flatnonzero(new_pulse)
    charge = np.add.reduceat(charge_pe, starts) if len(starts) else np.empty(0)
    keep = charge >= DISCRIMINATOR_PE
    return dom[starts][keep], time_ns[starts][keep], charge[keep]


def local_coincidence(string: np.ndarray, om: np.ndarray, time_ns: np.ndarray) -> np.ndarray:
    """HLC flag per pulse: another DOM within LC_SPAN on the same string has a pulse within
    ±LC_WINDOW_NS. Times must lie in [0, 1e7) ns."""
    key = dom_key(string, om)
    order = np.lexsort((time_ns, key))
    sorted_code = (key * 1e7 + time_ns)[order]
    hlc = np.zeros(len(key), bool)
    for offset in range(-LC_SPAN, LC_SPAN + 1):
        if offset == 0:
            continue
        lo = (key + offset) * 1e7 + time_ns - LC_WINDOW_NS
        i = np.searchsorted(sorted_code, lo)
        found = i < len(sorted_code)
        i = np.minimum(i, len(sorted_code) - 1)
        hlc |= found & (sorted_code[i] <= lo + 2 * LC_WINDOW_NS)
    return np.where(hlc, FLAG_LC, 0).astype(np.uint8)


def jitter(n: int, rng: np.random.Generator) -> np.ndarray:
    """Per-photoelectron timing jitter [ns]."""
    return rng.normal(0.0, JITTER_NS, n)
