"""``mpe_pandel``: per-pixel MPE track fit with the Gaussian-convolved Pandel PDF (full sky).

The analytic counterpart of upstream ``splinempe`` (docs/upstream-behaviour.md §16): the same
event preparation (OnlineL2 SeededRT + 6000 ns time window, DeepCore removed; VHESelfVeto vertex seed)
and seeds (7-point cylinder, 150 m radius, ±40 m, rotated to each pixel's direction, plus a fallback
from the event seed), but a timing likelihood from formulas instead of spline tables: MPE of the first
pulse of each hit DOM with the H2 Pandel PDF convolved with a 4 ns Gaussian and a 10 Hz noise floor
(docs/physics.md §6.2 baseline). Per pixel variation the direction is fixed and the vertex (transverse to the
track) and time are fitted; details and measurements in ``docs/track-reco.md``.

Results: llh = -ln L from the seed (with ``refine_fallback=true`` the better of it and the fallback seed);
X/Y/Z/T = fitted track point on the plane through the charge-weighted hit centre and its time; no energy
losses are fitted, so E_in = E_tot = 0 (upstream splinempe reports NaN, which result files should avoid);
energy NaN (none is estimated).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Literal

import numpy as np
from pydantic import Field

from skymap_scanner.event.model import Event
from skymap_scanner.fit import DomHits, MpeSettings, TrackFitter
from skymap_scanner.physics.constants import HZ_PER_NS, JITTER_MPE_NS, NOISE_FLOOR_HZ, PANDEL_ICE
from skymap_scanner.pixels.types import PixelVariation, RecoPixelVariation
from skymap_scanner.prepare import online_l2_cleaning, with_vertex_seed
from skymap_scanner.recos import RecoError, RecoInterface, RecoOptions
from skymap_scanner.sky import direction_vector

#: upstream recos/common/vertex_gen.py: cylinder of radius 150 m at z = -40 m (angles 0, 120, 240 deg)
#: and z = +40 m (60, 180, 300 deg), plus the centre; z is along the track after rotation
CYLINDER_RADIUS_M = 150.0
CYLINDER_HALF_HEIGHT_M = 40.0


def cylinder_variations() -> np.ndarray:
    """The 7 base position variations (7, 3) [m] of upstream splinempe, before rotation."""
    rings = [(0.0, -1.0), (120.0, -1.0), (240.0, -1.0), (60.0, 1.0), (180.0, 1.0), (300.0, 1.0)]
    points = [(CYLINDER_RADIUS_M * math.cos(math.radians(angle)), CYLINDER_RADIUS_M * math.sin(math.radians(angle)),
               side * CYLINDER_HALF_HEIGHT_M) for angle, side in rings]
    return np.array([(0.0, 0.0, 0.0), *points])


class MpePandelOptions(RecoOptions):
    ice: Literal["H0", "H1", "H2", "H3", "H4"] = "H2"
    jitter_ns: float = Field(JITTER_MPE_NS, gt=0)
    noise_floor_hz: float = Field(NOISE_FLOOR_HZ, gt=0)
    max_iterations: int = Field(60, ge=1)
    #: also minimise from the fallback seed (event seed + variation) where the seed is a coarser parent's
    #: best fit, as upstream splinempe. Off by default: twice the fits of refined nsides for no change of
    #: best fit, error or coverage on GOLD, BRONZE and the physics benchmark (``docs/track-reco.md``, "Speed")
    refine_fallback: bool = False
    #: "cpu" or "gpu" (CUDA, same kernels; falls back to the CPU with one warning); None:
    #: $SKYMAP_SCANNER_DEVICE, else the CPU
    device: Literal["cpu", "gpu"] | None = None
    #: ln p_σ and ln S_σ interpolated in a table built at start-up (``physics/cpandel_table.py``; ≈ 2×
    #: faster scans, best fits and areas unchanged: ``docs/track-reco.md``, "Speed"); false: the exact kernels
    tabulated_pdf: bool = True

    def settings(self) -> MpeSettings:
        return MpeSettings(ice=PANDEL_ICE[self.ice], jitter_ns=self.jitter_ns,
                           noise_floor_per_ns=self.noise_floor_hz * HZ_PER_NS, max_iterations=self.max_iterations,
                           tabulated=self.tabulated_pdf)


class MpePandel(RecoInterface):
    rotate_vertex = True
    add_fallback_position = True
    default_batch_size = 64
    options_model = MpePandelOptions
    #: levels as a function of the event's total charge, measured on simulated muons of 10 TeV-10 PeV
    #: (docs/simulation.md, "Levels as a function of the event's total charge")
    default_calibration = "mpe_pandel_charge"
    track_energy_at_best_fit = True

    def __init__(self, event: Event, options=None) -> None:
        super().__init__(event, options)
        self.fitter = TrackFitter(DomHits.from_event(event), self.options.settings(), self.options.device)

    @classmethod
    def prepare_event(cls, event: Event, options: MpePandelOptions) -> Event:
        """OnlineL2 cleaning (SeededRT, time window, DeepCore removed) of the event pulses; vertex seed
        from VHESelfVeto on the uncleaned HLC pulses when the event carries none."""
        cleaned = online_l2_cleaning(event.pulses, event.geometry)
        if cleaned.npulses == 0:
            raise RecoError(f"{cls.name()}: no pulse of event {event.metadata} survives the cleaning")
        event = with_vertex_seed(event)
        return replace(event, pulses=event.pulses.select(cleaned.cleaned))

    @classmethod
    def vertex_variations(cls, options: MpePandelOptions) -> np.ndarray:
        return cylinder_variations()

    def reconstruct(self, batch: list[PixelVariation]) -> list[RecoPixelVariation]:
        directions = direction_vector(np.array([v.zenith for v in batch]), np.array([v.azimuth for v in batch]))
        seeds = np.array([[(v.x, v.y, v.z), (v.fallback_x, v.fallback_y, v.fallback_z)] for v in batch])
        if not self.options.refine_fallback:
            seeds = seeds[:, :1]
        fit = self.fitter.fit(directions.reshape(-1, 3), seeds)
        return [
            RecoPixelVariation(v.nside, v.pixel_id, v.posvar_id, float(fit.llh[i]), 0.0, 0.0,
                               float(fit.vertex_m[i, 0]), float(fit.vertex_m[i, 1]), float(fit.vertex_m[i, 2]),
                               float(fit.time_ns[i]), math.nan)
            for i, v in enumerate(batch)
        ]
