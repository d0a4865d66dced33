"""Time-binned Poisson likelihood of an energy-loss hypothesis with the energies unfolded inside every call
(a Millipede-class likelihood without photon tables; docs/physics.md §17.6).

Data (:func:`time_bins`): every used DOM contributes bins [t0, t1) [ns] with observed charge k [PE]. A hit
DOM has one empty bin from the readout-window start to its first pulse, then its pulses merged in time
order into bins of at least ``photons_per_bin`` PE and ``min_width_ns``, the last one running to the end of
the DOM's window; an unhit DOM has one "no light" bin over the whole window. Pulses are used as given
(not hit-cleaned). Exclusions: DeepCore strings (≥ FIRST_DEEPCORE_STRING), non-in-ice DOMs (om > 60),
bright DOMs (charge > ``bright_dom_threshold`` × the mean charge of the hit DOMs), DOMs named by the caller
(saturated, bad), and per DOM the late-pulse window [charge-weighted median + 1500 ns, ∞) of DOMs with ≥ 2
pulses (upstream millipede_original's late-pulse cleaning).

Model (:func:`response_matrix`): μ_b = Σ_j A_bj E_j + ν_b, with A_bj = (PE per GeV of cascade j at the
bin's DOM, ``physics/light_yield.py``) × (probability of its light arriving in the bin,
``physics/point_source.py``) and ν_b = R Δt_b the noise.

Likelihood (:func:`negative_log_likelihood`): −ln L = Σ_b −ln P(k_b | μ_b) with P Poisson, or, for a
relative model uncertainty ε > 0, the negative binomial (a Poisson whose mean is Gamma-distributed with
mean μ and relative width ε; variance μ + ε² μ²; Greenwood & Yule, J. R. Stat. Soc. 83 (1920) 255; the
"NB2" model of Cameron & Trivedi, *Regression Analysis of Count Data*, 2nd ed. (2013), §3.3):

    ln P(k | μ, ε) = ln Γ(k + α) − ln Γ(α) − ln Γ(k + 1) + α ln(α / (α + μ)) + k ln(μ / (α + μ)),  α = 1/ε².

Unfolding (:func:`unfold_energies`): E ≥ 0 maximising ln L − ½ λ Σ E² (λ ≥ 0 an optional Gaussian
regularisation [GeV⁻²]): a non-negative least-squares start (Lawson & Hanson, *Solving Least Squares
Problems*, 1974; ``scipy.optimize.nnls``) on the system weighted by 1/√max(k, 1), then projected Fisher-
scoring Newton steps (bound-active set, Armijo backtracking) on the exact objective.

Units: m, ns, GeV, PE, Hz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.optimize import nnls
from scipy.spatial import ConvexHull

from skymap_scanner.event.model import Event, dom_key
from skymap_scanner.physics.constants import C_ICE_M_PER_NS, C_VACUUM_M_PER_NS, FIRST_DEEPCORE_STRING
from skymap_scanner.physics.light_yield import MIN_DISTANCE_M, cascade_mean_pe, path_lengths
from skymap_scanner.physics.point_source import cascade_bin_probability
from skymap_scanner.physics.volume import prism_chord

#: Millipede's ``PhotonsPerBin`` of upstream millipede_original: a bin closes once it holds this many PE
PHOTONS_PER_BIN = 15.0
#: Millipede's default ``MinTimeWidth`` [ns]: no pulse bin is narrower than this (except the last)
MIN_TIME_WIDTH_NS = 8.0
#: DOMs with more than this × the mean charge of the hit DOMs are excluded (the form of IceTray
#: millipede's HighEnergyExclusions ``BrightDOMThreshold``; 10 is a value used in IceCube scripts,
#: upstream millipede_wilks uses 2); None: keep bright DOMs
BRIGHT_DOM_THRESHOLD = 10.0
#: late-pulse window: pulses at or after the charge-weighted median time + this [ns] are dropped and the
#: DOM's window ends there (upstream millipede_original, residual 1500 ns)
LATE_PULSE_NS = 1500.0
#: the readout window defaults to the event's pulse span widened by this on either side [ns]
WINDOW_PAD_NS = 1000.0
#: highest in-ice OM number (61-64 are IceTop)
MAX_INICE_OM = 60
#: in-ice dark rate [Hz] (docs/physics.md §8: 560 Hz standard PMTs)
NOISE_RATE_HZ = 560.0
#: relative model uncertainty ε on μ (the width of the Gamma-distributed mean): the order of ppc
#: DirectFit's default "model error" of 10 % (icecube/ppc)
REL_UNCERTAINTY = 0.1
#: cascades farther than this from a DOM [m] contribute nothing (cscd-llh CascIce0 maximum distance)
MAX_DISTANCE_M = 500.0
#: upstream E_in: losses within this [m / c] of the track's entry and exit times (upstream-behaviour §16.4)
E_IN_MARGIN_M = 60.0
#: sources of a track hypothesis are placed along its chord through the instrumented volume extended by
#: this on either side [m] (losses beyond E_IN_MARGIN_M count in E_tot only)
SOURCE_MARGIN_M = 100.0
#: μ is floored here [PE] inside logarithms (bins with k > 0 and no light and no noise)
MU_FLOOR = 1e-300


# -- data ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeBins:
    """Flat time bins of the used DOMs (bins of one DOM contiguous, in time order).

    ``dom`` [int64]: index into ``positions`` / ``efficiency`` / ``noise_rate_hz`` / ``keys`` of the used
    DOMs; ``t0``, ``t1`` [ns]; ``charge`` [PE] observed in each bin. ``dom_start`` (n_used + 1) gives each
    used DOM's bin range. ``excluded`` names why DOMs were dropped (DOM keys per reason);
    ``dropped_charge_pe`` is the charge of pulses outside the DOMs' windows (late pulses, outside the
    readout window). ``window_ns`` is the readout window; ``hull_xy``, ``z_range`` the instrumented volume
    (convex hull of the in-ice, non-DeepCore DOMs)."""

    dom: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    charge: np.ndarray
    dom_start: np.ndarray
    positions: np.ndarray
    efficiency: np.ndarray
    noise_rate_hz: np.ndarray
    keys: np.ndarray
    excluded: dict[str, np.ndarray]
    dropped_charge_pe: float
    window_ns: tuple[float, float]
    hull_xy: np.ndarray
    z_range: tuple[float, float]

    def __len__(self) -> int:
        return len(self.t0)


@njit(cache=True)
def _bin_pulses(time: np.ndarray, charge: np.ndarray, start: np.ndarray, t_lo: float, t_end: np.ndarray,
                min_pe: float, min_width: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bins of the DOMs whose pulses are time[start[d]:start[d+1]] (sorted), window [t_lo, t_end[d]):
    (DOM, t0, t1, charge) flat, see :func:`time_bins`."""
    n_dom = start.size - 1
    cap = 2 * time.size + 2 * n_dom
    b_dom = np.empty(cap, np.int64)
    b_t0 = np.empty(cap)
    b_t1 = np.empty(cap)
    b_q = np.empty(cap)
    n = 0
    for d in range(n_dom):
        end = t_end[d]
        first = n
        lo, hi = start[d], start[d + 1]
        # pulses inside [t_lo, end)
        i0 = lo
        while i0 < hi and time[i0] < t_lo:
            i0 += 1
        i1 = i0
        while i1 < hi and time[i1] < end:
            i1 += 1
        if i1 == i0:  # no pulse left: one empty bin
            b_dom[n], b_t0[n], b_t1[n], b_q[n] = d, t_lo, end, 0.0
            n += 1
            continue
        if time[i0] > t_lo:
            b_dom[n], b_t0[n], b_t1[n], b_q[n] = d, t_lo, time[i0], 0.0
            n += 1
        first = n
        b_start = time[i0]
        q = 0.0
        for i in range(i0, i1):
            q += charge[i]
            if i + 1 < i1 and q >= min_pe and time[i + 1] - b_start >= min_width:
                b_dom[n], b_t0[n], b_t1[n], b_q[n] = d, b_start, time[i + 1], q
                n += 1
                b_start = time[i + 1]
                q = 0.0
        if q < min_pe and n > first:  # a short last bin joins the one before
            n -= 1
            b_t1[n] = end
            b_q[n] += q
            n += 1
        else:
            b_dom[n], b_t0[n], b_t1[n], b_q[n] = d, b_start, end, q
            n += 1
    return b_dom[:n], b_t0[:n], b_t1[:n], b_q[:n]


def _weighted_median(time: np.ndarray, charge: np.ndarray) -> float:
    """First time at which the cumulative charge fraction reaches ½ (times sorted)."""
    frac = np.cumsum(charge) / max(float(np.sum(charge)), 1e-300)
    return float(time[min(int(np.searchsorted(frac, 0.5, side="left")), len(time) - 1)])


def time_bins(event: Event, *, photons_per_bin: float = PHOTONS_PER_BIN, min_width_ns: float = MIN_TIME_WIDTH_NS,
              window_ns: tuple[float, float] | None = None, bright_dom_threshold: float | None = BRIGHT_DOM_THRESHOLD,
              late_pulse_ns: float | None = LATE_PULSE_NS, exclude_deepcore: bool = True,
              excluded_keys: np.ndarray | tuple[int, ...] = (), efficiency: np.ndarray | float = 1.0,
              noise_rate_hz: np.ndarray | float = NOISE_RATE_HZ) -> TimeBins:
    """Time bins of all used DOMs of ``event``, unhit DOMs included.

    Parameters
    ----------
    event : the event (pulses used as given, not hit-cleaned).
    photons_per_bin : a pulse bin closes once it holds at least this charge [PE] ...
    min_width_ns : ... and spans at least this [ns]; a last bin with less charge joins the one before.
    window_ns : readout window (start, end) [ns]; default the pulse span ± WINDOW_PAD_NS.
    bright_dom_threshold : exclude DOMs with charge > this × the mean charge of the hit DOMs; None: off.
    late_pulse_ns : DOMs with ≥ 2 pulses end their window at the charge-weighted median + this [ns]; None: off.
    exclude_deepcore : drop strings ≥ FIRST_DEEPCORE_STRING.
    excluded_keys : further DOM keys (``event.model.dom_key``) to drop, e.g. saturated or bad DOMs.
    efficiency, noise_rate_hz : relative DOM efficiency and dark rate [Hz], scalars or one per geometry row.

    Returns
    -------
    TimeBins
    """
    geo, pulses = event.geometry, event.pulses
    n_geo = len(geo)
    eff = np.broadcast_to(np.asarray(efficiency, np.float64), (n_geo,))
    rate = np.broadcast_to(np.asarray(noise_rate_hz, np.float64), (n_geo,))
    keys = geo.keys()
    in_ice = geo.om <= MAX_INICE_OM
    deepcore = geo.string >= FIRST_DEEPCORE_STRING
    p_keys = dom_key(pulses.string, pulses.om)
    row = np.searchsorted(keys, p_keys)  # Event guarantees every pulse's DOM is in the geometry
    dom_charge = np.bincount(row, weights=pulses.charge, minlength=n_geo)
    hit = np.bincount(row, minlength=n_geo) > 0
    excluded: dict[str, np.ndarray] = {name: keys[:0] for name in ("deepcore", "bright", "requested")}
    use = in_ice.copy()
    if exclude_deepcore:
        excluded["deepcore"] = keys[use & deepcore]
        use &= ~deepcore
    if bright_dom_threshold is not None:
        considered = use & hit
        mean_q = float(dom_charge[considered].mean()) if np.any(considered) else 0.0
        bright = considered & (dom_charge > bright_dom_threshold * mean_q)
        excluded["bright"] = keys[bright]
        use &= ~bright
    extra = np.isin(keys, np.asarray(excluded_keys, np.int64))
    excluded["requested"] = keys[use & extra]
    use &= ~extra
    excluded["not_in_ice"] = keys[~in_ice]
    if window_ns is None:
        window_ns = (float(pulses.time.min()) - WINDOW_PAD_NS, float(pulses.time.max()) + WINDOW_PAD_NS)
    t_lo, t_hi = float(window_ns[0]), float(window_ns[1])
    if not t_hi > t_lo:
        raise ValueError(f"readout window must have end > start, got {window_ns}")

    used_rows = np.flatnonzero(use)
    # pulses of used DOMs, grouped by used-DOM index (pulses are sorted by (string, om, time))
    used_index = np.full(n_geo, -1, np.int64)
    used_index[used_rows] = np.arange(len(used_rows))
    p_used = used_index[row]
    keep = p_used >= 0
    p_dom, p_time, p_q = p_used[keep], pulses.time[keep], pulses.charge[keep]
    start = np.searchsorted(p_dom, np.arange(len(used_rows) + 1))
    t_end = np.full(len(used_rows), t_hi)
    if late_pulse_ns is not None:
        for d in np.flatnonzero(np.diff(start) >= 2):
            s = slice(start[d], start[d + 1])
            t_end[d] = min(t_hi, _weighted_median(p_time[s], p_q[s]) + late_pulse_ns)
    b_dom, b_t0, b_t1, b_q = _bin_pulses(np.ascontiguousarray(p_time, np.float64),
                                         np.ascontiguousarray(p_q, np.float64), start.astype(np.int64), t_lo,
                                         t_end, float(photons_per_bin), float(min_width_ns))
    dropped = float(p_q.sum() - b_q.sum())
    pos = geo.positions()
    base = in_ice & ~deepcore if np.any(in_ice & ~deepcore) else in_ice
    hull = ConvexHull(np.unique(pos[base][:, :2], axis=0))
    return TimeBins(
        dom=b_dom, t0=b_t0, t1=b_t1, charge=b_q,
        dom_start=np.searchsorted(b_dom, np.arange(len(used_rows) + 1)).astype(np.int64),
        positions=np.ascontiguousarray(pos[used_rows]), efficiency=np.ascontiguousarray(eff[used_rows]),
        noise_rate_hz=np.ascontiguousarray(rate[used_rows]), keys=keys[used_rows], excluded=excluded,
        dropped_charge_pe=dropped, window_ns=(t_lo, t_hi), hull_xy=hull.points[hull.vertices],
        z_range=(float(pos[base][:, 2].min()), float(pos[base][:, 2].max())))


# -- response -----------------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _response(dom_pos: np.ndarray, eff: np.ndarray, dom_start: np.ndarray, t0: np.ndarray, t1: np.ndarray,
              src_pos: np.ndarray, src_time: np.ndarray, src_dir: np.ndarray, max_distance: float) -> np.ndarray:
    n_src = src_pos.shape[0]
    out = np.zeros((t0.size, n_src))
    for d in range(dom_pos.shape[0]):
        for j in range(n_src):
            dx = dom_pos[d, 0] - src_pos[j, 0]
            dy = dom_pos[d, 1] - src_pos[j, 1]
            dz = dom_pos[d, 2] - src_pos[j, 2]
            r = max(math.sqrt(dx * dx + dy * dy + dz * dz), MIN_DISTANCE_M)
            if r > max_distance:
                continue
            cos_psi = (dx * src_dir[j, 0] + dy * src_dir[j, 1] + dz * src_dir[j, 2]) / r
            l_e, l_a = path_lengths(src_pos[j, 2], dom_pos[d, 2])
            per_gev = cascade_mean_pe(r, cos_psi, dz / r, l_e, l_a, eff[d])
            if per_gev <= 0.0:
                continue
            t_geo = src_time[j] + r / C_ICE_M_PER_NS
            for b in range(dom_start[d], dom_start[d + 1]):
                out[b, j] = per_gev * cascade_bin_probability(t0[b] - t_geo, t1[b] - t_geo, r, cos_psi)
    return out


def response_matrix(bins: TimeBins, positions_m: np.ndarray, times_ns: np.ndarray, directions: np.ndarray,
                    max_distance_m: float = MAX_DISTANCE_M) -> tuple[np.ndarray, np.ndarray]:
    """Expected PE per GeV of each cascade source in each bin, and the noise per bin.

    Parameters
    ----------
    bins : from :func:`time_bins`.
    positions_m : (n_src, 3) source positions [m].
    times_ns : (n_src,) source times [ns].
    directions : (n_src, 3) or (3,) unit travel directions of the cascade axes.
    max_distance_m : sources farther than this from a DOM give it no light.

    Returns
    -------
    A : (n_bins, n_src) [PE/GeV]; ν : (n_bins,) noise [PE] = R (t1 − t0).
    """
    pos = np.ascontiguousarray(np.atleast_2d(positions_m), np.float64)
    times = np.ascontiguousarray(np.broadcast_to(np.asarray(times_ns, np.float64), (pos.shape[0],)))
    dirs = np.ascontiguousarray(np.broadcast_to(np.asarray(directions, np.float64), pos.shape))
    a = _response(bins.positions, bins.efficiency, bins.dom_start, bins.t0, bins.t1, pos, times, dirs,
                  float(max_distance_m))
    noise = bins.noise_rate_hz[bins.dom] * 1e-9 * (bins.t1 - bins.t0)
    return a, noise


# -- likelihood ---------------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _nll_terms(k: np.ndarray, mu: np.ndarray, eps: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(−ln L, ∂(−ln L)/∂μ_b, Fisher weight 1/Var_b) of Poisson (ε = 0) or negative binomial (ε > 0)."""
    n = k.size
    grad = np.empty(n)
    weight = np.empty(n)
    total = 0.0
    if eps <= 0.0:
        for b in range(n):
            m = max(mu[b], MU_FLOOR)
            total += m - k[b] * math.log(m) + math.lgamma(k[b] + 1.0)
            grad[b] = 1.0 - k[b] / m
            weight[b] = 1.0 / m
        return total, grad, weight
    alpha = 1.0 / (eps * eps)
    lga = math.lgamma(alpha)
    for b in range(n):
        m = max(mu[b], MU_FLOOR)
        kb = k[b]
        lp = (math.lgamma(kb + alpha) - lga - math.lgamma(kb + 1.0) + alpha * (math.log(alpha) - math.log(alpha + m))
              + kb * (math.log(m) - math.log(alpha + m)))
        total -= lp
        grad[b] = (kb + alpha) / (alpha + m) - kb / m
        weight[b] = 1.0 / (m * (1.0 + m / alpha))
    return total, grad, weight


def negative_log_likelihood(k: np.ndarray, mu: np.ndarray, rel_uncertainty: float = 0.0) -> float:
    """−ln L = Σ_b −ln P(k_b | μ_b): Poisson for ``rel_uncertainty`` ε = 0, else the negative binomial with
    variance μ + ε² μ² (module docstring). k, μ [PE]; k may be non-integer (ln Γ(k + 1))."""
    val, _, _ = _nll_terms(np.ascontiguousarray(k, np.float64), np.ascontiguousarray(mu, np.float64),
                           float(rel_uncertainty))
    return float(val)


@dataclass(frozen=True)
class Unfolding:
    """Energies [GeV] (≥ 0), −ln L at them (regularisation term included), Newton iterations used."""

    energies: np.ndarray
    nll: float
    iterations: int


def unfold_energies(a: np.ndarray, k: np.ndarray, noise: np.ndarray, *, rel_uncertainty: float = REL_UNCERTAINTY,
                    regularisation: float = 0.0, max_iter: int = 100, tol: float = 1e-10) -> Unfolding:
    """Energies E ≥ 0 minimising −ln L(k | A E + ν) + ½ λ Σ E².

    Parameters
    ----------
    a : (n_bins, n_src) response [PE/GeV].
    k : (n_bins,) observed charge [PE].
    noise : (n_bins,) ν [PE].
    rel_uncertainty : ε, relative model uncertainty on μ (0: pure Poisson).
    regularisation : λ [GeV⁻²] of a zero-mean Gaussian prior on each energy (Millipede's
        ``ShowerRegularization`` form, 1/w²); 0: none.
    max_iter, tol : Newton iterations; stop when −ln L falls by less than tol × (1 + |−ln L|).

    Returns
    -------
    Unfolding
    """
    a = np.ascontiguousarray(a, np.float64)
    k = np.ascontiguousarray(k, np.float64)
    noise = np.ascontiguousarray(noise, np.float64)
    n_src = a.shape[1]
    energies = np.zeros(n_src)
    live = np.flatnonzero(a.max(axis=0, initial=0.0) > 0.0) if n_src else np.zeros(0, np.int64)
    eps, lam = float(rel_uncertainty), float(regularisation)

    def objective(e: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        val, g_mu, w = _nll_terms(k, al @ e + noise, eps)
        return val + 0.5 * lam * float(e @ e), g_mu, w

    al = a[:, live]
    if live.size == 0:
        return Unfolding(energies, objective(np.zeros(0))[0], 0)
    # NNLS start on the 1/sqrt(max(k, 1))-weighted system
    sw = 1.0 / np.sqrt(np.maximum(k, 1.0))
    e, _ = nnls(al * sw[:, None], (k - noise) * sw, maxiter=50 * live.size)
    f, g_mu, w = objective(e)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported)
        grad = al.T @ g_mu + lam * e
        free = (e > 0.0) | (grad < 0.0)
        if not np.any(free):
            break
        af = al[:, free]
        h = (af * w[:, None]).T @ af
        h[np.diag_indices_from(h)] += lam + 1e-12 * (np.trace(h) / h.shape[0] + 1e-300)
        try:
            step_f = -np.linalg.solve(h, grad[free])
        except np.linalg.LinAlgError:
            step_f = -np.linalg.lstsq(h, grad[free], rcond=None)[0]
        step = np.zeros_like(e)
        step[free] = step_f
        t, accepted = 1.0, False
        for _ in range(40):
            trial = np.maximum(e + t * step, 0.0)
            f_new, g_new, w_new = objective(trial)
            if f_new <= f + 1e-4 * float(grad @ (trial - e)):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break
        gain = f - f_new
        e, f, g_mu, w = trial, f_new, g_new, w_new
        if gain < tol * (1.0 + abs(f)):
            break
    energies[live] = e
    return Unfolding(energies, float(f), it)


# -- hypotheses ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LossesLlh:
    """−ln L of a hypothesis with its unfolded energies [GeV] at ``positions`` [m] / ``times`` [ns];
    E_in [GeV]: losses with times in [t_entry − 60 m/c, t_exit + 60 m/c] of the line's chord through the
    instrumented volume (0 without one); E_tot [GeV]: all losses (upstream-behaviour §16.4)."""

    nll: float
    energies: np.ndarray
    e_in: float
    e_tot: float
    positions: np.ndarray
    times: np.ndarray


def losses_llh(event: Event | TimeBins, vertex: np.ndarray, time: float, direction: np.ndarray,
               spacing_m: float | None = None, *, rel_uncertainty: float = REL_UNCERTAINTY,
               regularisation: float = 0.0, source_margin_m: float = SOURCE_MARGIN_M,
               max_distance_m: float = MAX_DISTANCE_M) -> LossesLlh:
    """−ln L and unfolded losses of a hypothesis.

    Parameters
    ----------
    event : an Event (binned with :func:`time_bins` defaults) or prepared TimeBins (faster in a fit).
    vertex : (3,) [m], a point of the track (or the cascade position) at ``time`` [ns].
    direction : (3,) unit travel direction (``sky.direction_vector``).
    spacing_m : None: one cascade at the vertex; else cascades every ``spacing_m`` [m] along the line's
        chord through the instrumented volume ± ``source_margin_m``, on a grid through the vertex
        (times t + s/c); no chord: no sources.
    rel_uncertainty, regularisation : as :func:`unfold_energies`.

    Returns
    -------
    LossesLlh
    """
    bins = event if isinstance(event, TimeBins) else time_bins(event)
    v = np.asarray(vertex, np.float64)
    p = np.asarray(direction, np.float64)
    p = p / np.linalg.norm(p)
    span = prism_chord(bins.hull_xy, bins.z_range, v, p)
    if spacing_m is None:
        s = np.zeros(1)
    elif span is None:
        s = np.zeros(0)
    else:
        if not spacing_m > 0:
            raise ValueError(f"spacing_m must be positive, got {spacing_m}")
        lo, hi = span[0] - source_margin_m, span[1] + source_margin_m
        s = np.arange(math.ceil(lo / spacing_m), math.floor(hi / spacing_m) + 1) * spacing_m
    positions = v + s[:, None] * p
    times = time + s / C_VACUUM_M_PER_NS
    a, noise = response_matrix(bins, positions, times, p, max_distance_m)
    unf = unfold_energies(a, bins.charge, noise, rel_uncertainty=rel_uncertainty, regularisation=regularisation)
    e_tot = float(unf.energies.sum())
    if span is None:
        e_in = 0.0
    else:
        t_in = time + (span[0] - E_IN_MARGIN_M) / C_VACUUM_M_PER_NS
        t_out = time + (span[1] + E_IN_MARGIN_M) / C_VACUUM_M_PER_NS
        e_in = float(unf.energies[(times >= t_in) & (times <= t_out)].sum())
    return LossesLlh(unf.nll, unf.energies, e_in, e_tot, positions, times)
