"""``dummy``: a fast deterministic pseudo-likelihood with a known minimum (for tests and demos).

-lnL = 1000 + 0.5 (d / sigma)^2 + 1e-4 |seed - event seed|^2 / m^2, where d is the angle between the
pixel centre and the known minimum (RA, Dec). The minimum is the event's direction seed when it has
one, else (RA, Dec) = (123.4 deg, -12.3 deg), unless set with ``--reco-option ra_deg=... dec_deg=...``.
2ΔLLH = (d / sigma)^2, so the Wilks 90 % contour (4.61) is a disc of radius 2.15 sigma.
"""

from __future__ import annotations

import math
import time

import numpy as np
from pydantic import Field

from skymap_scanner.event.model import SEED_DIRECTION, Event
from skymap_scanner.pixels.types import PixelVariation, RecoPixelVariation
from skymap_scanner.recos import RecoInterface, RecoOptions
from skymap_scanner.sky import angular_distance, dir_to_equa

DEFAULT_MINIMUM_DEG = (123.4, -12.3)


class DummyOptions(RecoOptions):
    ra_deg: float | None = None
    dec_deg: float | None = None
    sigma_deg: float = 0.5
    #: seconds to sleep per variation (0: none)
    sleep_s: float = 0.0
    #: number of position variations (along x, 20 m apart)
    variations: int = Field(1, ge=1, le=1000)


def known_minimum(event: Event, options: DummyOptions) -> tuple[float, float]:
    """(RA, Dec) [rad] of the dummy likelihood's minimum for this event."""
    if options.ra_deg is not None and options.dec_deg is not None:
        return math.radians(options.ra_deg), math.radians(options.dec_deg)
    seed = event.seeds.get(SEED_DIRECTION)
    if seed is not None and seed.has_direction:
        ra, dec = dir_to_equa(seed.zenith, seed.azimuth, event.metadata.mjd)
        return float(ra), float(dec)
    return math.radians(DEFAULT_MINIMUM_DEG[0]), math.radians(DEFAULT_MINIMUM_DEG[1])


class Dummy(RecoInterface):
    rotate_vertex = True
    default_batch_size = 64
    options_model = DummyOptions

    def __init__(self, event: Event, options=None) -> None:
        super().__init__(event, options)
        self.minimum = known_minimum(event, self.options)
        self.event_seed = self.seed(event).position

    @classmethod
    def vertex_variations(cls, options: DummyOptions) -> np.ndarray:
        return np.column_stack([20.0 * np.arange(options.variations), np.zeros((options.variations, 2))])

    def pseudo_llh(self, ra: np.ndarray, dec: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        d = angular_distance(ra, dec, *self.minimum)
        offset2 = np.sum((seeds - self.event_seed) ** 2, axis=-1)
        return 1000.0 + 0.5 * (d / math.radians(self.options.sigma_deg)) ** 2 + 1e-4 * offset2

    def reconstruct(self, batch: list[PixelVariation]) -> list[RecoPixelVariation]:
        if self.options.sleep_s > 0:
            time.sleep(self.options.sleep_s * len(batch))
        ra = np.array([v.ra for v in batch])
        dec = np.array([v.dec for v in batch])
        seeds = np.array([(v.x, v.y, v.z) for v in batch]).reshape(-1, 3)
        llh = self.pseudo_llh(ra, dec, seeds)
        return [
            RecoPixelVariation(v.nside, v.pixel_id, v.posvar_id, float(value), 0.0, 0.0,
                               v.x, v.y, v.z, v.t, 0.0)
            for v, value in zip(batch, llh, strict=True)
        ]
