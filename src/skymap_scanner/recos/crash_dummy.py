"""``crash_dummy``: the dummy, but each variation raises or hangs with a configurable probability.

Options: ``probability`` (chance that a variation crashes; upstream's default 0.5),
``hang_fraction`` (share of crashes that hang instead of raising), ``poison`` (pixels that always
raise, as ``"nside:pixel"`` items separated by spaces or commas), ``seed`` (random seed; default
from the OS).
"""

from __future__ import annotations

import re
import time

import numpy as np
from pydantic import field_validator

from skymap_scanner.pixels.types import PixelVariation, RecoPixelVariation
from skymap_scanner.recos.dummy import Dummy, DummyOptions


class CrashDummyError(RuntimeError):
    """The crash the crash_dummy was asked to produce."""


class CrashDummyOptions(DummyOptions):
    probability: float = 0.5
    hang_fraction: float = 0.0
    poison: frozenset[tuple[int, int]] = frozenset()
    seed: int | None = None

    @field_validator("probability", "hang_fraction")
    @classmethod
    def _fraction(cls, v: float) -> float:
        if not 0.0 <= v <= 1.0:
            raise ValueError("must be in [0, 1]")
        return v

    @field_validator("poison", mode="before")
    @classmethod
    def _pixels(cls, v: object) -> object:
        if isinstance(v, str):
            items = [s for s in re.split(r"[\s,]+", v.strip()) if s]
            try:
                return frozenset(tuple(int(x) for x in s.split(":")) for s in items)
            except ValueError:
                raise ValueError("poison pixels are written nside:pixel") from None
        return v


class CrashDummy(Dummy):
    options_model = CrashDummyOptions
    default_batch_size = 1

    def __init__(self, event, options=None) -> None:
        super().__init__(event, options)
        self.rng = np.random.default_rng(self.options.seed)

    def _maybe_crash(self, v: PixelVariation) -> None:
        if (v.nside, v.pixel_id) in self.options.poison:
            raise CrashDummyError(f"poison pixel nside {v.nside} pixel {v.pixel_id}")
        if self.rng.random() < self.options.probability:
            if self.rng.random() < self.options.hang_fraction:
                while True:  # hang until the worker's time limit kills us
                    time.sleep(0.05)
            raise CrashDummyError(f"random crash at {v.id_tuple}")

    def reconstruct(self, batch: list[PixelVariation]) -> list[RecoPixelVariation]:
        for v in batch:
            self._maybe_crash(v)
        return super().reconstruct(batch)
