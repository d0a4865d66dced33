"""Detector (zenith, azimuth) <-> equatorial (RA, Dec, ICRS/J2000) at an event time.

Reproduces IceTray's ``astro.dir_to_equa`` / ``equa_to_dir`` with astropy, following the public
reference ``icecube/i3astropy src/i3astropy/__init__.py`` (convention summarised in
``docs/physics.md`` §1.3):

- IceCube at latitude -89.9944 deg, longitude -62.6081 deg, height 883.9 m
  (IceTray ``astro/I3Astro.h`` ICECUBE_LATITUDE/LONGITUDE);
- altitude = 90 deg - zenith; astropy azimuth (N through E) = 90 deg - azimuth - longitude;
- zenith/azimuth give where the particle comes *from*; all angles in radians.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from astropy.coordinates import AltAz

# astropy (≈ 0.5 s to import) is imported where a conversion runs: fit workers never convert coordinates

#: IceTray astro/I3Astro.h (ICECUBE_LATITUDE, ICECUBE_LONGITUDE); height from i3astropy
ICECUBE_LATITUDE_DEG = -89.9944
ICECUBE_LONGITUDE_DEG = -62.6081
ICECUBE_HEIGHT_M = 883.9


@contextlib.contextmanager
def bundled_iers() -> Iterator[None]:
    """No network here or on clusters: while active, astropy uses its bundled IERS tables and never
    downloads; beyond their range it warns (silenced) instead of failing. The caller's settings return."""
    from astropy.utils import iers

    with (iers.conf.set_temp("auto_download", False), iers.conf.set_temp("iers_degraded_accuracy", "warn"),
          warnings.catch_warnings()):
        warnings.simplefilter("ignore", iers.IERSDegradedAccuracyWarning)
        yield


@functools.cache
def _frame(mjd: float) -> AltAz:
    from astropy import units as u
    from astropy.coordinates import AltAz, EarthLocation
    from astropy.time import Time

    location = EarthLocation.from_geodetic(
        lon=ICECUBE_LONGITUDE_DEG * u.deg, lat=ICECUBE_LATITUDE_DEG * u.deg, height=ICECUBE_HEIGHT_M * u.m
    )
    # pressure 0 (default) = no refraction
    return AltAz(obstime=Time(mjd, format="mjd", scale="utc"), location=location)


def dir_to_equa(zenith: np.ndarray, azimuth: np.ndarray, mjd: float) -> tuple[np.ndarray, np.ndarray]:
    """Detector direction (rad) at ``mjd`` (UTC) -> (RA, Dec) in rad, ICRS."""
    from astropy import units as u
    from astropy.coordinates import ICRS, SkyCoord

    zen = np.asarray(zenith, dtype=np.float64)
    azi = np.asarray(azimuth, dtype=np.float64)
    alt = np.pi / 2 - zen
    az = np.pi / 2 - azi - np.radians(ICECUBE_LONGITUDE_DEG)
    with bundled_iers():
        coord = SkyCoord(alt=alt * u.rad, az=az * u.rad, frame=_frame(float(mjd))).transform_to(ICRS())
    return np.mod(coord.ra.rad, 2 * np.pi), coord.dec.rad


def equa_to_dir(ra: np.ndarray, dec: np.ndarray, mjd: float) -> tuple[np.ndarray, np.ndarray]:
    """(RA, Dec) in rad, ICRS -> detector (zenith, azimuth) in rad at ``mjd`` (UTC)."""
    from astropy import units as u
    from astropy.coordinates import ICRS, SkyCoord

    with bundled_iers():
        coord = SkyCoord(
            ra=np.asarray(ra, dtype=np.float64) * u.rad, dec=np.asarray(dec, dtype=np.float64) * u.rad,
            frame=ICRS(),
        ).transform_to(_frame(float(mjd)))
    zenith = np.pi / 2 - coord.alt.rad
    azimuth = np.mod(np.pi / 2 - coord.az.rad - np.radians(ICECUBE_LONGITUDE_DEG), 2 * np.pi)
    return zenith, azimuth


def angular_distance(ra1: np.ndarray, dec1: np.ndarray, ra2: np.ndarray, dec2: np.ndarray) -> np.ndarray:
    """Great-circle distance (rad) between (ra1, dec1) and (ra2, dec2), all in rad (Vincenty form)."""
    dra = np.asarray(ra2) - np.asarray(ra1)
    s1, c1, s2, c2 = np.sin(dec1), np.cos(dec1), np.sin(dec2), np.cos(dec2)
    num = np.hypot(c2 * np.sin(dra), c1 * s2 - s1 * c2 * np.cos(dra))
    return np.arctan2(num, s1 * s2 + c1 * c2 * np.cos(dra))


def direction_vector(zenith: np.ndarray, azimuth: np.ndarray) -> np.ndarray:
    """Unit vectors (..., 3) of the *travel* direction p = -(sin z cos a, sin z sin a, cos z)."""
    zen, azi = np.asarray(zenith), np.asarray(azimuth)
    st = np.sin(zen)
    return -np.stack([st * np.cos(azi), st * np.sin(azi), np.cos(zen)], axis=-1)
