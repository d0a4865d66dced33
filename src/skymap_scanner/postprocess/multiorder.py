"""Multi-order (NUNIQ) HEALPix FITS probability maps, readable by ligo.skymap and IceCube tools.

One binary table: ``UNIQ`` (int64, NUNIQ = 4 nside² + nested index) and ``PROBDENSITY`` [sr⁻¹] at the
scanned pixel sizes, Σ PROBDENSITY × pixel area = 1. Header: ``PIXTYPE=HEALPIX``, ``ORDERING=NUNIQ``,
``COORDSYS=C``, ``MOCORDER`` (finest order), ``INDXSCHM=EXPLICIT`` (as ligo.skymap writes them), the
event identity and localisation keys of IceCube's published maps (``RUNID``, ``EVENTID``,
``DATE-OBS``, ``MJD-OBS``, ``EVENT-TYPE``, ``ALERT-STREAM`` when known, ``RA``, ``DEC``,
``RA_ERR_PLUS_50`` … ``DEC_ERR_MINUS_90`` [deg], ``CONTOUR_AREA_50/90`` [deg²]), the contour policy and
this software's name and version. ``SENDER``/``ORIGIN``/``CREATOR`` name this software, not IceCube.

References
----------
.. [1] P. Fernique et al., "MOC: a multi-order coverage map standard", A&A 578, A114 (2015).
.. [2] L. P. Singer and B. P. Price, Phys. Rev. D 93, 024013 (2016), doi:10.1103/PhysRevD.93.024013;
   ligo.skymap ``io.fits`` (the multi-order sky map format).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time

from skymap_scanner.__version__ import __version__
from skymap_scanner.postprocess.localization import LocalizationSummary
from skymap_scanner.postprocess.probability import MultiOrderMap

SOFTWARE = "skymap_scanner"


def _localization_keys(summary: LocalizationSummary) -> list[tuple[str, object, str]]:
    keys: list[tuple[str, object, str]] = [
        ("RA", summary.ra_deg, "best-fit right ascension [deg] (J2000)"),
        ("DEC", summary.dec_deg, "best-fit declination [deg] (J2000)"),
    ]
    for name, region in summary.regions.items():
        pct = name.rstrip("%")
        keys += [(f"{coord}_ERR_{side}_{pct}", round(value, 6), f"{name} {coord} extent [deg]")
                 for coord, side, value in (("RA", "PLUS", region.ra_plus_deg), ("RA", "MINUS", region.ra_minus_deg),
                                            ("DEC", "PLUS", region.dec_plus_deg),
                                            ("DEC", "MINUS", region.dec_minus_deg))]
    keys += [(f"CONTOUR_AREA_{name.rstrip('%')}", round(region.area_deg2, 6), f"{name} area [deg2]")
             for name, region in summary.regions.items()]
    return keys


def multiorder_table(density: MultiOrderMap, summary: LocalizationSummary, alert_stream: str | None = None,
                     created: Time | None = None) -> Table:
    """The map as an astropy Table (``UNIQ``, ``PROBDENSITY``) whose ``meta`` holds the header keys
    (values, comments); ``created`` (default now) is written as ``DATE``."""
    sort = np.argsort(density.uniq)
    table = Table({"UNIQ": density.uniq[sort].astype(np.int64),
                   "PROBDENSITY": (density.values[sort].astype(np.float64)) / u.sr})
    observed = Time(summary.mjd, format="mjd", scale="utc")
    keys: list[tuple[str, object, str]] = [
        ("PIXTYPE", "HEALPIX", "HEALPIX pixelisation"),
        ("ORDERING", "NUNIQ", "pixel ordering scheme: RING, NESTED, or NUNIQ"),
        ("COORDSYS", "C", "ecliptic, galactic or celestial (equatorial)"),
        ("MOCORDER", density.max_order, "MOC resolution (best order)"),
        ("INDXSCHM", "EXPLICIT", "indexing: IMPLICIT or EXPLICIT"),
        ("OBJECT", f"{summary.run_id}_{summary.event_id}", "RUN_EVENT"),
        ("SENDER", SOFTWARE, "software that made this map"),
        ("ORIGIN", SOFTWARE, "software that made this map"),
        ("CREATOR", SOFTWARE, "program that created this file"),
        ("SOFTVER", __version__, f"{SOFTWARE} version"),
        ("DATE", (created or Time.now()).utc.isot, "UTC date of file creation"),
        ("RUNID", summary.run_id, "IceCube run"),
        ("EVENTID", summary.event_id, "IceCube event"),
        ("DATE-OBS", observed.isot, "UTC date of the event"),
        ("MJD-OBS", summary.mjd, "modified Julian date of the event (UTC)"),
        ("EVENT-TYPE", summary.event_type, "event type of the scan"),
        ("REALEVT", summary.is_real_event, "a detector event (not simulated)"),
    ]
    if alert_stream:
        keys.append(("ALERT-STREAM", alert_stream, "realtime alert stream"))
    keys += _localization_keys(summary)
    keys += [
        ("CONTOUR", summary.policy_name, "contour policy (wilks or a calibration)"),
        ("CNTRDESC", summary.policy.description[:50], "policy description"),
        ("SYSTEMAT", summary.systematic_included, "systematic uncertainties included"),
        ("SMOOTH", summary.smooth_deg or 0.0, "Gaussian smoothing sigma [deg] (0: none)"),
    ]
    table.meta.update({k: (v, c) for k, v, c in keys})
    return table


def write_multiorder_fits(table: Table, path: str | Path) -> Path:
    """Write :func:`multiorder_table` output as a FITS file (gzip-compressed when ``path`` ends in
    ``.gz``); keys longer than 8 characters become HIERARCH cards, as in IceCube's maps."""
    path = Path(path)
    hdu = fits.BinTableHDU(Table(table, meta={}), name="SKYMAP")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fits.verify.VerifyWarning)  # HIERARCH cards, shortened comments
        for key, (value, comment) in table.meta.items():
            hdu.header[key] = (value, comment)
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)
    return path
