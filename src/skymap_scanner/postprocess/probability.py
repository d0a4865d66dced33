"""Probability density maps [sr⁻¹] from multi-nside llh scans, with credible regions.

A scan holds pixels at several nsides (RING indices, equatorial): the whole sky at the first nside and
finer pixels around the best fit. :func:`llh_tiling` turns it into one multi-order tiling of the sky
(NUNIQ pixel indices, Fernique et al. 2015): every scanned pixel at its scanned size, finer pixels
replacing the area of their parent (a parent refined only in part is split into children of the finer
order, which keep the parent's value where they were not scanned). Each point of the sky lies in
exactly one pixel, so Σ density × area is a probability.

The density follows the contour policy (a :class:`~skymap_scanner.postprocess.calibration.ContourCalibration`):

- Wilks (:data:`~skymap_scanner.postprocess.calibration.WILKS`): p ∝ exp(-ΔLLH), the likelihood as a
  posterior with a flat prior on the sphere (skyreader's probability map). Its 50 %/90 % credible
  regions are the Wilks contours 2ΔLLH < 1.39 / 4.61 as far as Wilks' theorem holds (exactly for a
  Gaussian likelihood).
- a calibration with levels L_50, L_90: p is a decreasing function of 2ΔLLH whose credible regions are
  exactly the calibrated contours {2ΔLLH < L_q}. Pixels are ranked by 2ΔLLH, A is the cumulative area
  of the ranking, and the cumulative probability is C(A) = 1 - exp(-a A) piecewise, with rates a_k
  chosen so that C(A(L_50)) = 0.5 and C(A(L_90)) = 0.9 (the rate of the last band continues beyond
  L_90). For a Gaussian likelihood with Wilks levels this is exp(-ΔLLH) again (A ∝ 2ΔLLH). Mapping
  2ΔLLH piecewise linearly onto the χ²₂ scale (as a public tool does for the 22.2 / 64.2 levels) and
  taking exp(-q/2) does *not* have this property: for the dummy likelihood and ``mpe_pandel_100TeV`` its
  50 % region would hold 35 %, because the area per unit q changes where the slope changes.

Optional smoothing (``smooth_deg``) convolves the density with a Gaussian of that σ on the sphere
(healpy.smoothing of the map rasterised at the finest scanned nside, negative ringing clipped), then
averages it back onto the scanned pixels. IceCube smooths SplineMPE maps with σ = 0.2° (skyreader's
``angular_error_floor``). Smoothed credible regions are larger than the policy's contours, by design.

References
----------
.. [1] K. M. Górski et al., "HEALPix: a framework for high-resolution discretization and fast analysis
   of data distributed on the sphere", ApJ 622, 759 (2005), doi:10.1086/427976.
.. [2] P. Fernique et al., "MOC: a multi-order coverage map standard", A&A 578, A114 (2015); IVOA
   Recommendation "MOC – HEALPix Multi-Order Coverage map".
.. [3] L. P. Singer and B. P. Price, "Rapid Bayesian position reconstruction for gravitational-wave
   transients", Phys. Rev. D 93, 024013 (2016), doi:10.1103/PhysRevD.93.024013 (searched area,
   greedy credible regions).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import healpy
import numpy as np

from skymap_scanner.io.skyreader_api import SkyScanResult
from skymap_scanner.postprocess.calibration import CONTAINMENTS, WILKS, ContourCalibration

LOGGER = logging.getLogger(__name__)
SQDEG_PER_SR = (180.0 / math.pi) ** 2


def uniq_order(uniq: np.ndarray) -> np.ndarray:
    """HEALPix order (nside = 2**order) of NUNIQ indices (uniq = 4 nside² + nested index)."""
    uniq = np.asarray(uniq, np.int64)
    return (np.floor(np.log2(uniq)).astype(np.int64) - 2) // 2


def uniq_nest(uniq: np.ndarray) -> np.ndarray:
    """Nested pixel index of NUNIQ indices."""
    uniq = np.asarray(uniq, np.int64)
    return uniq - 4 * np.left_shift(np.int64(1), 2 * uniq_order(uniq))


def to_uniq(order: np.ndarray | int, nest: np.ndarray) -> np.ndarray:
    """NUNIQ index 4·4**order + nest."""
    return 4 * np.left_shift(np.int64(1), 2 * np.asarray(order, np.int64)) + np.asarray(nest, np.int64)


def uniq_area_sr(uniq: np.ndarray) -> np.ndarray:
    """Pixel areas [sr] of NUNIQ indices (4π / (12·4**order))."""
    return 4.0 * np.pi / (12.0 * np.power(4.0, uniq_order(uniq)))


@dataclass(frozen=True)
class MultiOrderMap:
    """Values on a multi-order tiling of the sky: ``uniq`` NUNIQ indices (sorted, disjoint, covering
    the sphere) and one value per pixel (an llh, or a density [sr⁻¹])."""

    uniq: np.ndarray
    values: np.ndarray

    @property
    def area_sr(self) -> np.ndarray:
        return uniq_area_sr(self.uniq)

    @property
    def max_order(self) -> int:
        return int(uniq_order(self.uniq).max())

    def centres_rad(self) -> tuple[np.ndarray, np.ndarray]:
        """(RA, Dec) [rad] of the pixel centres."""
        ra, dec = np.empty(len(self.uniq)), np.empty(len(self.uniq))
        orders = uniq_order(self.uniq)
        for order in np.unique(orders):
            sel = orders == order
            theta, phi = healpy.pix2ang(1 << int(order), uniq_nest(self.uniq[sel]), nest=True)
            ra[sel], dec[sel] = phi, np.pi / 2 - theta
        return ra, dec

    def locate(self, ra_rad: np.ndarray, dec_rad: np.ndarray) -> np.ndarray:
        """Indices (into ``uniq``) of the pixels containing the directions (RA, Dec) [rad]."""
        order = self.max_order
        start = np.left_shift(uniq_nest(self.uniq), 2 * (order - uniq_order(self.uniq)))
        sort = np.argsort(start)
        theta = np.clip(np.pi / 2 - np.asarray(dec_rad, np.float64), 0.0, np.pi)  # rounding at the poles
        pix = healpy.ang2pix(1 << order, theta, np.asarray(ra_rad), nest=True)
        return sort[np.searchsorted(start[sort], pix, side="right") - 1]


def _descendants(uniq: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nested indices at ``order`` of all descendants of each pixel (grouped by pixel, in order), and
    the number of descendants per pixel."""
    depth = order - uniq_order(uniq)
    counts = np.left_shift(np.int64(1), 2 * depth)
    first = np.left_shift(uniq_nest(uniq), 2 * depth)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(first, counts) + offsets, counts


def _children(uniq: np.ndarray, values: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Split pixels into their descendants at ``order`` (each keeps its parent's value)."""
    nest, counts = _descendants(uniq, order)
    return to_uniq(order, nest), np.repeat(values, counts)


def llh_tiling(result: SkyScanResult) -> MultiOrderMap:
    """The scan's -lnL as a multi-order tiling of the sky at the scanned pixel sizes.

    Finer pixels replace their parent's area (a partly refined parent is split into children of the
    finer order that keep its value). Sky not scanned at the first nside (pointed scans) gets the
    largest scanned -lnL, i.e. almost no probability.
    """
    nsides = sorted(result.nsides)
    scans = {n: result.result[SkyScanResult.format_nside(n)] for n in nsides}
    worst = max(float(np.max(rows["llh"])) for rows in scans.values() if len(rows))
    first = int(math.log2(nsides[0]))
    uniq = to_uniq(first, np.arange(12 << (2 * first)))
    values = np.full(len(uniq), worst)
    for nside in nsides:
        order = int(math.log2(nside))
        rows = scans[nside]
        scanned = to_uniq(order, healpy.ring2nest(nside, rows["index"]))
        coarse = uniq_order(uniq) < order
        split = np.zeros(len(uniq), bool)
        for o in np.unique(uniq_order(uniq[coarse])):
            parents = to_uniq(o, uniq_nest(scanned) >> (2 * (order - int(o))))
            split |= (uniq_order(uniq) == o) & np.isin(uniq, parents)
        new_uniq, new_values = _children(uniq[split], values[split], order)
        uniq = np.concatenate([uniq[~split], new_uniq])
        values = np.concatenate([values[~split], new_values])
        sort = np.argsort(uniq)
        uniq, values = uniq[sort], values[sort]
        values[np.searchsorted(uniq, scanned)] = rows["llh"]
    return MultiOrderMap(uniq, values)


def two_delta_llh(tiling: MultiOrderMap) -> np.ndarray:
    """2ΔLLH = 2 (-lnL - min -lnL) per pixel of an llh tiling."""
    return 2.0 * (tiling.values - np.min(tiling.values))


def contour_area_deg2(tiling: MultiOrderMap, level: float) -> float:
    """Area [deg²] of the pixels with 2ΔLLH below ``level`` (pixel counting on the tiling)."""
    return float(np.sum(tiling.area_sr[two_delta_llh(tiling) < level]) * SQDEG_PER_SR)


def _band_rates(knot_areas: np.ndarray, knot_probs: np.ndarray) -> np.ndarray:
    """Rates a_k of C(A) = 1 - (1 - p_{k-1}) exp(-a_k (A - A_{k-1})) between knots (A_k, p_k), with
    (A_0, p_0) = (0, 0); a single rate (exact at the widest level) when they would not decrease, i.e.
    when no decreasing density holds the containments exactly."""
    a = np.concatenate([[0.0], knot_areas])
    p = np.concatenate([[0.0], knot_probs])
    with np.errstate(divide="ignore"):
        rates = np.log((1 - p[:-1]) / (1 - p[1:])) / np.diff(a)
    if np.all(np.diff(rates) <= 0):
        return rates
    LOGGER.warning("contour areas %s deg² admit no decreasing density with containments %s; the "
                   "density holds %.0f %% in the widest contour only", knot_areas * SQDEG_PER_SR,
                   knot_probs, 100 * knot_probs[-1])
    return np.full(len(knot_areas), -math.log1p(-knot_probs[-1]) / knot_areas[-1])


def _cumulative_probability(area: np.ndarray, knot_areas: np.ndarray, knot_probs: np.ndarray,
                            rates: np.ndarray) -> np.ndarray:
    a0 = np.concatenate([[0.0], knot_areas])
    p0 = np.concatenate([[0.0], knot_probs])
    band = np.minimum(np.searchsorted(knot_areas, area, side="left"), len(knot_areas) - 1)
    if np.all(rates == rates[0]):  # single-rate fallback: one exponential from A = 0
        return 1.0 - np.exp(-rates[0] * area)
    return 1.0 - (1.0 - p0[band]) * np.exp(-rates[band] * (area - a0[band]))


def _calibrated_density(tiling: MultiOrderMap, policy: ContourCalibration) -> np.ndarray:
    """Density [sr⁻¹] decreasing with 2ΔLLH whose credible regions are ``policy``'s contours."""
    x = two_delta_llh(tiling)
    area = tiling.area_sr
    order = np.argsort(x, kind="stable")
    upper = np.cumsum(area[order])
    probs = np.array(list(CONTAINMENTS.values()))
    knots = np.array([np.sum(area[x < policy.levels[k]]) for k in CONTAINMENTS])
    rates = _band_rates(knots, probs)
    cumulative = _cumulative_probability(upper, knots, probs, rates)
    mass = np.empty(len(x))
    mass[order] = np.diff(cumulative, prepend=0.0)
    return mass / cumulative[-1] / area


def _smooth(tiling: MultiOrderMap, density: np.ndarray, sigma_deg: float) -> np.ndarray:
    """Gaussian smoothing (σ [deg]) of a density on the tiling, on the map rasterised at its finest
    order, averaged back onto the tiling's pixels."""
    order = tiling.max_order
    nest, counts = _descendants(tiling.uniq, order)
    flat = np.empty(12 << (2 * order))
    flat[nest] = np.repeat(density, counts)
    ring = healpy.smoothing(healpy.reorder(flat, n2r=True), sigma=math.radians(sigma_deg))
    smoothed = healpy.reorder(np.clip(ring, 0.0, None), r2n=True)
    cumulative = np.concatenate([[0.0], np.cumsum(smoothed)])
    starts = nest[np.cumsum(counts) - counts]
    return (cumulative[starts + counts] - cumulative[starts]) / counts


def interpolated_tiling(tiling: MultiOrderMap, orders: int) -> MultiOrderMap:
    """``tiling`` with each pixel of its finest order split into 4**``orders`` children whose value is
    interpolated bilinearly (``healpy.get_interp_val``, 4 nearest pixel centres) in the tiling rasterised
    at its finest order; coarser pixels are kept. Bilinear values stay within their neighbours' range,
    so the minimum never falls below the scanned one."""
    order = tiling.max_order
    if orders <= 0:
        return tiling
    nest, counts = _descendants(tiling.uniq, order)
    flat = np.empty(12 << (2 * order))
    flat[nest] = np.repeat(tiling.values, counts)
    ring = healpy.reorder(flat, n2r=True)
    finest = uniq_order(tiling.uniq) == order
    fine_order = order + orders
    children, _ = _descendants(tiling.uniq[finest], fine_order)
    theta, phi = healpy.pix2ang(1 << fine_order, children, nest=True)
    uniq = np.concatenate([tiling.uniq[~finest], to_uniq(fine_order, children)])
    values = np.concatenate([tiling.values[~finest], healpy.get_interp_val(ring, theta, phi)])
    sort = np.argsort(uniq)
    return MultiOrderMap(uniq[sort], values[sort])


def probability_density(result: SkyScanResult, policy: ContourCalibration = WILKS,
                        smooth_deg: float | None = None, interpolate_orders: int = 0) -> MultiOrderMap:
    """Probability density [sr⁻¹] per pixel (Σ density × area = 1) of a scan under a contour policy,
    optionally smoothed with a Gaussian of σ = ``smooth_deg`` [deg] (module docstring). Unsmoothed, the
    finest scanned pixels can be split ``interpolate_orders`` orders further with interpolated -lnL
    (:func:`interpolated_tiling`), so that credible regions smaller than a few scanned pixels follow the
    contour instead of whole pixels."""
    tiling = llh_tiling(result)
    if not smooth_deg:
        tiling = interpolated_tiling(tiling, interpolate_orders)
    wilks = policy is WILKS
    density = np.exp(-0.5 * two_delta_llh(tiling)) if wilks else _calibrated_density(tiling, policy)
    if smooth_deg:
        density = _smooth(tiling, density, smooth_deg)
    return MultiOrderMap(tiling.uniq, density / np.sum(density * tiling.area_sr))


def credible_region(density: MultiOrderMap, containment: float) -> np.ndarray:
    """Mask of the greedy (highest-density) credible region: the densest pixels until their
    probability reaches ``containment`` (the pixel that reaches it included)."""
    order = np.argsort(-density.values, kind="stable")
    mass = np.cumsum(density.values[order] * density.area_sr[order])
    n = int(np.searchsorted(mass, containment * mass[-1] * (1 - 1e-12))) + 1
    mask = np.zeros(len(order), bool)
    mask[order[:n]] = True
    return mask


def credible_area_deg2(density: MultiOrderMap, containment: float) -> float:
    """Area [deg²] of the highest-density credible region of ``containment``, interpolated linearly in
    cumulative probability between pixels (as ligo.skymap's ``crossmatch`` contour areas [3])."""
    order = np.argsort(-density.values, kind="stable")
    area = density.area_sr[order]
    mass = np.cumsum(density.values[order] * area)
    return float(np.interp(containment, np.pad(mass, (1, 0)), np.pad(np.cumsum(area), (1, 0))) * SQDEG_PER_SR)
