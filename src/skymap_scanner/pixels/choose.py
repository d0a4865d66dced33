"""Which HEALPix pixels to scan: the nside progression, the first round and the refinement rule.

Pixels are RING indices in equatorial coordinates (theta = pi/2 - Dec, phi = RA), as upstream
(``server/pixels.py``; ``docs/upstream-behaviour.md`` §5). Differences on purpose: a NaN
llh never becomes the global minimum (defect D2), the disabled neighbour-Δllh rule (D6) is left
out, and (optionally, on by default in scans) the region of the event's direction seed is refined
too when it lies outside the region of the global minimum (``choose_pixels``'s ``seed_direction``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import healpy as hp
import numpy as np

from skymap_scanner.pixels.types import NSidesDict, Pixel, RecoPixelFinal

DEFAULT_NSIDES = "8:0 64:12 512:24"
#: most pixels a progression may plan (``n_recos_estimate``; 8:0 64:12 512:24 plans 3072):
#: memory and time grow with it (1024:0 alone would be 12.6 M pixels)
MAX_PLANNED_PIXELS = 200_000
#: upstream config.py: default pointed-scan radius
DEFAULT_POINTING_RADIUS_DEG = 3.5


class NSideProgressionError(ValueError):
    """An invalid nside progression."""


@dataclass(frozen=True)
class NSideProgression:
    """Ordered (nside, pixel extension) pairs, e.g. ``8:0 64:12 512:24``.

    Valid when nsides are distinct, strictly ascending powers of two, the first extension is 0 and
    every later extension is a positive integer.
    """

    steps: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        steps = self.steps
        if not steps:
            raise NSideProgressionError("the nside progression is empty")
        for nside, ext in steps:
            if nside < 1 or nside & (nside - 1) or nside > 2**29:
                raise NSideProgressionError(f"nside {nside} is not a power of two in [1, 2^29]")
            if ext < 0:
                raise NSideProgressionError(f"nside {nside}: extension {ext} is negative")
        nsides = [n for n, _ in steps]
        if any(b <= a for a, b in zip(nsides, nsides[1:], strict=False)):
            raise NSideProgressionError(f"nsides must be strictly ascending: {nsides}")
        if steps[0][1] != 0:
            raise NSideProgressionError(f"the first extension must be 0, got {steps[0][1]}")
        if any(ext <= 0 for _, ext in steps[1:]):
            raise NSideProgressionError("every extension after the first must be a positive integer")
        planned = self.n_recos_estimate()
        if planned > MAX_PLANNED_PIXELS:
            raise NSideProgressionError(f"nsides {self} plan {planned} pixels, at most {MAX_PLANNED_PIXELS} "
                                        "are accepted: start coarser (e.g. 8:0) and refine with extensions")

    @classmethod
    def parse(cls, text: str | Iterable[str]) -> NSideProgression:
        """Parse ``"8:0 64:12 512:24"`` (spaces or commas) or a list of ``"N:EXT"`` items."""
        items = re.split(r"[\s,]+", text.strip()) if isinstance(text, str) else list(text)
        steps = []
        for item in items:
            m = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", item)
            if not m:
                raise NSideProgressionError(f"bad nside step {item!r}: expected NSIDE:EXTENSION, e.g. 64:12")
            steps.append((int(m.group(1)), int(m.group(2))))
        return cls(tuple(steps))

    def __str__(self) -> str:
        return " ".join(f"{n}:{e}" for n, e in self.steps)

    @property
    def nsides(self) -> list[int]:
        return [n for n, _ in self.steps]

    def as_dict(self) -> dict[str, int]:
        return {str(n): e for n, e in self.steps}

    def slice_plus_one(self, max_nside: int | None) -> list[tuple[int, int]]:
        """Steps up to and including the one after ``max_nside`` (first step when None)."""
        if max_nside is None:
            return [self.steps[0]]
        idx = self.nsides.index(max_nside)
        return list(self.steps[: idx + 2])

    def n_recos_estimate(self) -> int:
        """Upstream's pixel estimate: 12 nside0^2 + sum ext * (nside / previous)^2."""
        total = 12 * self.steps[0][0] ** 2
        for (prev, _), (nside, ext) in zip(self.steps, self.steps[1:], strict=False):
            total += ext * (nside // prev) ** 2
        return total


def pixel_area(nside: int) -> float:
    """Pixel solid angle [sr]."""
    return 4 * math.pi / (12 * nside**2)


def refinement_radius(nside: int, next_extension: int) -> float:
    """Radius [rad] around the minimum: sqrt(ext_next * Omega_pix(nside) / pi)."""
    return math.sqrt(next_extension * pixel_area(nside) / math.pi)


def pixel_vector(nside: int, pixel_id: int | np.ndarray) -> np.ndarray:
    return np.asarray(hp.pix2vec(nside, pixel_id)).T


def radec_of_pixels(nside: int, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RA, Dec [rad] of RING pixel centres."""
    theta, phi = hp.pix2ang(nside, np.asarray(pixels, dtype=np.int64))
    return phi, np.pi / 2 - theta


def pixel_of_radec(nside: int, ra: float, dec: float) -> int:
    return int(hp.ang2pix(nside, np.pi / 2 - dec, ra))


def children(nside: int, pixels: np.ndarray, next_nside: int) -> np.ndarray:
    """RING indices at ``next_nside`` of every child of the RING ``pixels`` at ``nside``."""
    factor = (next_nside // nside) ** 2
    nest = hp.ring2nest(nside, np.asarray(pixels, dtype=np.int64))
    kids = (nest[:, None] * factor + np.arange(factor)[None, :]).ravel()
    return np.sort(hp.nest2ring(next_nside, kids))


def pixels_in_disc(nside: int, centre: np.ndarray, radius: float) -> np.ndarray:
    """RING pixels whose centre lies strictly within ``radius`` [rad] of the unit vector ``centre``."""
    candidates = hp.query_disc(nside, centre, radius, inclusive=True)
    if len(candidates) == 0:
        return candidates
    dots = pixel_vector(nside, candidates) @ centre
    return np.sort(candidates[dots > math.cos(radius)])


def global_minimum(nsides_dict: NSidesDict) -> tuple[int, int] | None:
    """(nside, pixel) of the lowest finite llh over every nside, or None."""
    best = nsides_dict.best()
    return None if best is None else (best.nside, best.pixel_id)


def pointed_pixels(nside: int, ra: float, dec: float, radius: float) -> np.ndarray:
    """Pixels within ``radius`` [rad] of the centre of the pixel containing (ra, dec) [rad]."""
    centre = pixel_vector(nside, pixel_of_radec(nside, ra, dec))
    return pixels_in_disc(nside, centre, radius)


def choose_pixels(
    progression: NSideProgression,
    max_nside_done: int | None,
    collected: NSidesDict,
    pointing: tuple[float, float] | None = None,
    pointing_radius: float = math.radians(DEFAULT_POINTING_RADIUS_DEG),
    seed_direction: tuple[float, float] | None = None,
) -> list[Pixel]:
    """Pixels for the next round (before removing those already sent).

    - first round (nothing collected): every pixel of the first nside, or, with ``pointing``
      (RA, Dec in rad), those within ``pointing_radius`` of it;
    - later: for each consecutive pair (current, next) of ``slice_plus_one(max_nside_done)``, the
      children at ``next`` of every ``current`` pixel strictly within the refinement radius of the
      global minimum (over all nsides);
    - with ``seed_direction`` (RA, Dec in rad, e.g. the online fit): at the first pair only, if the
      first-nside pixel holding the seed lies outside the refinement radius of the global minimum,
      the children of the pixels within that radius of the seed's pixel as well. A likelihood valley
      narrower than a coarse pixel (bright events) can leave the true region with a worse coarse
      llh than a distant one; this gives it one finer look, and the global minimum decides from then
      on. No cost when the scan agrees with the seed.
    """
    steps = progression.slice_plus_one(max_nside_done)
    first_nside = steps[0][0]
    if not any(collected.values()):
        if pointing is not None:
            ra, dec = pointing
            pix = pointed_pixels(first_nside, ra, dec, pointing_radius)
        else:
            pix = np.arange(hp.nside2npix(first_nside))
        return [(first_nside, int(p)) for p in pix]

    minimum = global_minimum(collected)
    if minimum is None:  # everything collected so far failed: nothing to refine around
        return []
    centre = pixel_vector(*minimum)
    chosen: list[Pixel] = []
    for k, ((nside, _), (next_nside, next_ext)) in enumerate(zip(steps, steps[1:], strict=False)):
        if not collected.get(nside):
            continue
        radius = refinement_radius(nside, next_ext)
        parents = pixels_in_disc(nside, centre, radius)
        if k == 0 and seed_direction is not None:
            seed_centre = pixel_vector(nside, pixel_of_radec(nside, *seed_direction))
            if seed_centre @ centre <= math.cos(radius):
                parents = np.union1d(parents, pixels_in_disc(nside, seed_centre, radius))
        chosen.extend((next_nside, int(p)) for p in children(nside, parents, next_nside))
    return chosen


def parent_best(collected: NSidesDict, nside: int, ra: float, dec: float,
                first_nside: int) -> RecoPixelFinal | None:
    """Best fit of the nearest collected coarser pixel holding (ra, dec), halving the nside.

    Upstream ``PixelsToReco``: halve until an nside with a collected pixel containing the point is
    found; below the first nside, None (use the event seed).
    """
    n = nside // 2
    while n >= first_nside and n >= 1:
        level = collected.get(n)
        reco = level.get(pixel_of_radec(n, ra, dec)) if level else None
        if reco is not None:
            return reco
        n //= 2
    return None
