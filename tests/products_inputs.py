"""Inputs for the alert-product tests: SkyScanResults of the dummy likelihood.

``dummy_result`` builds one directly from arrays (fast, any position). ``scan_dummy_result`` is the
ONE place that runs the real scan machinery (the scan API).
"""

from __future__ import annotations

import math
from pathlib import Path

import healpy
import numpy as np
from skyreader import SkyScanResult

from skymap_scanner.event.model import EventMetadata
from skymap_scanner.sky import angular_distance

#: the dummy reco's default σ [deg]; 2ΔLLH = (d / σ)², Wilks areas π σ² 1.39 and π σ² 4.61
SIGMA_DEG = 0.5
SIMULATED = EventMetadata(run_id=7, event_id=3, event_type="simulated", mjd=60000.25, is_real_event=False)
REAL_LIKE = EventMetadata(run_id=137840, event_id=57034692, event_type="neutrino", mjd=60050.2239138,
                          is_real_event=True)


def dummy_llh(ra: np.ndarray, dec: np.ndarray, ra0_deg: float, dec0_deg: float,
              sigma_deg: float = SIGMA_DEG) -> np.ndarray:
    """-lnL = 1000 + ½ (d / σ)² of the dummy reco (d: angle to the minimum)."""
    d = angular_distance(ra, dec, math.radians(ra0_deg), math.radians(dec0_deg))
    return 1000.0 + 0.5 * (d / math.radians(sigma_deg)) ** 2


def dummy_result(ra0_deg: float, dec0_deg: float, meta: EventMetadata = SIMULATED,
                 progression: tuple[tuple[int, int], ...] = ((8, 0), (64, 12), (512, 24)),
                 sigma_deg: float = SIGMA_DEG) -> SkyScanResult:
    """A scan as the scanner makes it: all pixels at the first nside, then at each finer nside all
    children of the ``n`` best pixels of the previous nside (``progression`` = (nside, n) pairs)."""
    out: dict[str, np.ndarray] = {}
    previous = None
    for nside, n_parents in progression:
        if previous is None:
            ring = np.arange(healpy.nside2npix(nside))
        else:
            parents = previous["index"][np.argsort(previous["llh"])[:n_parents]]
            factor = (nside // previous.dtype.metadata["nside"]) ** 2
            nest = healpy.ring2nest(previous.dtype.metadata["nside"], parents)
            ring = np.sort(healpy.nest2ring(nside, (nest[:, None] * factor + np.arange(factor)).ravel()))
        theta, phi = healpy.pix2ang(nside, ring)
        dtype = np.dtype(SkyScanResult.PIXEL_TYPES[1], metadata={
            "nside": nside, "complete": True, "run_id": meta.run_id, "event_id": meta.event_id,
            "event_type": meta.event_type, "mjd": meta.mjd, "is_real_event": meta.is_real_event, "version": 1})
        rows = np.zeros(len(ring), dtype=dtype)
        rows["index"] = ring
        rows["llh"] = dummy_llh(phi, np.pi / 2 - theta, ra0_deg, dec0_deg, sigma_deg)
        out[f"nside-{nside}"] = previous = rows
    return SkyScanResult(out)


def scan_dummy_result(output_dir: Path) -> tuple[SkyScanResult, tuple[float, float]]:
    """A full dummy scan (8:0 64:12 512:24) through the scan API with local worker processes; returns
    the result as read back from its file and the dummy's known minimum (RA, Dec) [deg]."""
    from skymap_scanner.api import scan
    from skymap_scanner.recos.dummy import DummyOptions, known_minimum
    from skymap_scanner.simulation.synthetic import synthetic_event

    event = synthetic_event(seed=2)
    result = scan(event, "dummy", "8:0 64:12 512:24", workers=2, output_dir=output_dir, progress=False)
    ra, dec = known_minimum(event, DummyOptions())
    return SkyScanResult.read_json(result.files["json"]), (math.degrees(ra), math.degrees(dec))
