"""Localisation summary of a scan: best fit, credible-region extents and areas, catalogue sources.

The RA/Dec errors are the extents of the credible region about the best fit, as IceCube's GCN
circulars quote them ("RA: 345.85 (+0.41 / -0.63 deg 90% PSF containment) J2000"): the bounding box,
in RA and Dec degrees, of the region's pixels (their corners), relative to the best fit. RA offsets
are taken in (-180°, 180°], so a region across RA = 0 gives small errors; a region holding a pole
spans all RA (±180°). Areas are the credible areas of the density map (:mod:`.probability`), i.e.
the policy's contour areas for an unsmoothed map.

References
----------
.. [1] IceCube Collaboration, "IceCat-1: the IceCube Event Catalog of Alert Tracks", ApJS 269, 25
   (2023), arXiv:2304.01174 (alert localisation, error boxes and areas).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import healpy
import numpy as np

from skymap_scanner.io.skyreader_api import SkyScanResult
from skymap_scanner.postprocess.calibration import CONTAINMENTS, ContourCalibration
from skymap_scanner.postprocess.probability import (
    MultiOrderMap,
    credible_area_deg2,
    credible_region,
    uniq_nest,
    uniq_order,
)
from skymap_scanner.sky import angular_distance, equa_to_dir

if TYPE_CHECKING:
    from skymap_scanner.postprocess.energy import DepositedEnergy


@dataclass(frozen=True)
class CredibleExtent:
    """One credible region: containment (0-1), area [deg²], and its RA/Dec extents about the best fit
    [deg] (``*_plus`` ≥ 0, ``*_minus`` ≤ 0)."""

    containment: float
    area_deg2: float
    ra_plus_deg: float
    ra_minus_deg: float
    dec_plus_deg: float
    dec_minus_deg: float

    def circularized_radius_deg(self, dec_deg: float) -> float:
        """GCN's single radius [deg] from the errors: √(ra_err cos(dec) · dec_err) with ra_err, dec_err
        the means of |+| and |−| errors."""
        ra_err = (abs(self.ra_plus_deg) + abs(self.ra_minus_deg)) / 2
        dec_err = (abs(self.dec_plus_deg) + abs(self.dec_minus_deg)) / 2
        return math.sqrt(ra_err * math.cos(math.radians(dec_deg)) * dec_err)


@dataclass(frozen=True)
class CatalogueSource:
    """A catalogue source inside a credible region: name, position and offset from the best fit [deg]."""

    name: str
    ra_deg: float
    dec_deg: float
    offset_deg: float


@dataclass(frozen=True)
class LocalizationSummary:
    """What a scan says about where an event came from (angles in degrees, J2000/ICRS)."""

    run_id: int
    event_id: int
    event_type: str
    mjd: float
    is_real_event: bool
    ra_deg: float
    dec_deg: float
    zenith_deg: float
    azimuth_deg: float
    #: keyed "50%", "90%"
    regions: dict[str, CredibleExtent]
    policy: ContourCalibration
    policy_name: str
    smooth_deg: float | None = None
    online_ra_deg: float | None = None
    online_dec_deg: float | None = None
    #: angle between the best fit and the online fit [deg]
    online_offset_deg: float | None = None
    #: catalogue sources inside the 90 % region, nearest first (when a catalogue was given)
    sources: list[CatalogueSource] = field(default_factory=list)
    #: deposited energy at the best fit (track scans), when estimated
    deposited_energy: DepositedEnergy | None = None

    @property
    def systematic_included(self) -> bool:
        """True only when the calibration says it includes systematic uncertainties."""
        return bool(self.policy.details.get("systematic_included", False))

    @property
    def event_id_string(self) -> str:
        """IceCube's RUN_EVENT identifier."""
        return f"{self.run_id}_{self.event_id}"


def _corners_deg(uniq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(RA, Dec) [deg] of the 4 corners of each pixel."""
    ras, decs = [], []
    orders = uniq_order(uniq)
    for order in np.unique(orders):
        vec = healpy.boundaries(1 << int(order), uniq_nest(uniq[orders == order]), step=1, nest=True)
        theta, phi = healpy.vec2ang(np.moveaxis(vec, 1, -1).reshape(-1, 3))
        ras.append(np.degrees(phi))
        decs.append(90.0 - np.degrees(theta))
    return np.concatenate(ras), np.concatenate(decs)


def _holds_pole(density: MultiOrderMap, mask: np.ndarray) -> bool:
    poles = density.locate(np.zeros(2), np.radians([90.0, -90.0]))
    return bool(np.any(mask[poles]))


def credible_extent(density: MultiOrderMap, containment: float, ra_deg: float, dec_deg: float) -> CredibleExtent:
    """Area and RA/Dec extents about (``ra_deg``, ``dec_deg``) of the ``containment`` credible region."""
    mask = credible_region(density, containment)
    ra, dec = _corners_deg(density.uniq[mask])
    dra = (ra - ra_deg + 180.0) % 360.0 - 180.0
    ra_plus, ra_minus = (180.0, -180.0) if _holds_pole(density, mask) else (max(dra.max(), 0), min(dra.min(), 0))
    return CredibleExtent(containment, credible_area_deg2(density, containment), float(ra_plus),
                          float(ra_minus), float(max(dec.max() - dec_deg, 0)), float(min(dec.min() - dec_deg, 0)))


def summarize(result: SkyScanResult, density: MultiOrderMap, policy: ContourCalibration, policy_name: str,
              smooth_deg: float | None = None, online_fit_deg: tuple[float, float] | None = None,
              catalogue: list[tuple[str, float, float]] | None = None,
              deposited_energy: DepositedEnergy | None = None) -> LocalizationSummary:
    """Localisation summary of ``result`` with its density map (made under ``policy``, named
    ``policy_name``, smoothed by ``smooth_deg``), the offset from the online fit (RA, Dec) [deg], the
    sources of ``catalogue`` (:func:`read_catalogue`) inside the 90 % region and the ``deposited_energy``,
    when given."""
    meta = result.get_event_metadata()
    ra_rad, dec_rad = result.best_dir
    ra, dec = math.degrees(ra_rad), math.degrees(dec_rad)
    zenith, azimuth = equa_to_dir(ra_rad, dec_rad, meta.mjd)
    regions = {k: credible_extent(density, q, ra, dec) for k, q in CONTAINMENTS.items()}
    online = {}
    if online_fit_deg is not None:
        online_ra, online_dec = online_fit_deg
        offset = angular_distance(ra_rad, dec_rad, math.radians(online_ra), math.radians(online_dec))
        online = {"online_ra_deg": float(online_ra), "online_dec_deg": float(online_dec),
                  "online_offset_deg": math.degrees(float(offset))}
    return LocalizationSummary(
        run_id=int(meta.run_id), event_id=int(meta.event_id), event_type=str(meta.event_type),
        mjd=float(meta.mjd), is_real_event=bool(meta.is_real_event), ra_deg=ra, dec_deg=dec,
        zenith_deg=math.degrees(float(zenith)), azimuth_deg=math.degrees(float(azimuth)), regions=regions,
        policy=policy, policy_name=policy_name, smooth_deg=smooth_deg,
        sources=sources_in_region(density, catalogue or [], ra, dec), deposited_energy=deposited_energy, **online)


def read_catalogue(path: str | Path) -> list[tuple[str, float, float]]:
    """(name, RA [deg], Dec [deg]) rows of a CSV file with columns ``name``, ``ra``, ``dec``."""
    with Path(path).open(newline="") as f:
        return [(row["name"], float(row["ra"]), float(row["dec"])) for row in csv.DictReader(f)]


def sources_in_region(density: MultiOrderMap, catalogue: list[tuple[str, float, float]], ra_deg: float,
                      dec_deg: float, containment: float = 0.9) -> list[CatalogueSource]:
    """Catalogue sources inside the ``containment`` credible region, nearest to (``ra_deg``,
    ``dec_deg``) first."""
    if not catalogue:
        return []
    names = [c[0] for c in catalogue]
    ra, dec = np.radians([c[1] for c in catalogue]), np.radians([c[2] for c in catalogue])
    inside = credible_region(density, containment)[density.locate(ra, dec)]
    offsets = np.degrees(angular_distance(ra, dec, math.radians(ra_deg), math.radians(dec_deg)))
    found = [CatalogueSource(names[i], math.degrees(ra[i]), math.degrees(dec[i]), float(offsets[i]))
             for i in np.flatnonzero(inside)]
    return sorted(found, key=lambda s: s.offset_deg)
