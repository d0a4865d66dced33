"""The scan plan: everything about one event and one reco that does not change during a scan.

Built once from the event and the reco settings (the reco prepares the event: cleaning, seeds), then
used by the scan loop to make each round's fit requests, by the startup payload that clients
receive, and by callers that fit at chosen directions (benchmarks, tests).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skymap_scanner.event.model import Event, Particle
from skymap_scanner.pixels.choose import pixel_of_radec
from skymap_scanner.pixels.types import NSidesDict, Pixel, PixelVariation, RecoPixelVariation
from skymap_scanner.recos import RecoInterface, direction_seed, get_reco_class
from skymap_scanner.server.seeds import build_variations
from skymap_scanner.sky import equa_to_dir
from skymap_scanner.transport.startup import Startup


@dataclass(frozen=True)
class ScanPlan:
    """Prepared event, reco class and options, event seed, position variations and pointing.

    Angles in rad (RA/Dec ICRS), positions in m, times in ns.
    """

    event: Event
    reco_algo: str
    reco_cls: type[RecoInterface]
    #: the options as given (sent to clients, part of the scan's identity)
    reco_options: dict[str, Any]
    #: base position variations (n, 3) [m], before rotation
    variations: np.ndarray
    #: event seed vertex/time of pixels without a coarser parent
    seed: Particle
    #: (RA, Dec) of the first round's centre for pointed recos, else None
    pointing: tuple[float, float] | None
    pointing_radius_rad: float
    #: (RA, Dec) whose region is refined too when the coarse minimum lies elsewhere, else None
    seed_direction: tuple[float, float] | None
    first_nside: int
    _startup_event: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def build(cls, event: Event, reco_algo: str, reco_options: Mapping[str, Any] | None = None, *,
              first_nside: int = 8, refine_seed: bool = True,
              pointing_radius_deg: float | None = None) -> ScanPlan:
        """Prepare ``event`` for ``reco_algo`` (raises :class:`~skymap_scanner.recos.RecoError` on an
        unknown algorithm or invalid options)."""
        reco_cls = get_reco_class(reco_algo)
        options = dict(reco_options or {})
        parsed = reco_cls.parse_options(options)
        prepared = reco_cls.prepare_event(event, parsed)
        return cls(
            event=prepared, reco_algo=reco_algo, reco_cls=reco_cls, reco_options=options,
            variations=reco_cls.vertex_variations(parsed), seed=reco_cls.seed(prepared),
            pointing=reco_cls.pointing(prepared),
            pointing_radius_rad=math.radians(pointing_radius_deg or reco_cls.pointing_radius_deg),
            seed_direction=direction_seed(prepared) if refine_seed else None,
            first_nside=first_nside,
            _startup_event=Startup.create("", reco_algo, prepared, options).event_bytes,
        )

    @property
    def n_variations(self) -> int:
        return len(self.variations)

    def startup(self, scan_id: str) -> Startup:
        """The payload clients build their reco from."""
        return Startup(scan_id, self.reco_algo, self._startup_event, dict(self.reco_options))

    @property
    def event_sha256(self) -> str:
        return self.startup("").event_sha256

    def requests(self, pixels: list[Pixel], collected: NSidesDict) -> list[PixelVariation]:
        """Every (pixel, variation) fit request for ``pixels``, seeded from the best collected coarser
        parent (else the event seed); variations of a pixel back to back."""
        return build_variations(pixels, collected, self.first_nside, self.seed, self.event.metadata.mjd,
                                self.variations, self.reco_cls.rotate_vertex, self.reco_cls.add_fallback_position)

    def reco(self) -> RecoInterface:
        """A reco instance for fits in this process."""
        return self.reco_cls(self.event, self.reco_options)

    def fit_at(self, ra: float, dec: float, collected: NSidesDict, reco: RecoInterface | None = None,
               zenith_azimuth: tuple[float, float] | None = None) -> list[RecoPixelVariation]:
        """Fit with the direction fixed at (``ra``, ``dec``) [rad] (or at detector ``zenith_azimuth``
        [rad] when given, e.g. a simulated truth), seeded like a pixel of the finest collected nside
        there (from its parent's best fit); every variation's result."""
        nside = max(collected) if collected else self.first_nside
        items = self.requests([(nside, pixel_of_radec(nside, ra, dec))], collected)
        if zenith_azimuth is None:
            zen, azi = equa_to_dir(np.array([ra]), np.array([dec]), self.event.metadata.mjd)
            zenith_azimuth = float(zen[0]), float(azi[0])
        zenith, azimuth = zenith_azimuth
        items = [dataclasses.replace(v, ra=ra, dec=dec, zenith=zenith, azimuth=azimuth) for v in items]
        return (reco or self.reco()).reconstruct(items)
