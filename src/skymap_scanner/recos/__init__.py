"""Reconstruction plugins: one module per algorithm, holding a class of the same name.

A module ``recos/<name>.py`` defines a subclass of :class:`RecoInterface` whose CamelCase name
matches the module (``crash_dummy`` -> ``CrashDummy``); it is found automatically and chosen with
``--reco-algo <name>``.

Life cycle: the server calls ``prepare_event`` once (pulse cleaning, seed vertex ...), ships the
prepared event to the clients, and builds every pixel's seeds from ``vertex_variations`` (rotated
per pixel when ``rotate_vertex``) and ``seed``. Each client constructs the reco once per scan and
calls ``reconstruct`` on batches of :class:`PixelVariation`.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from skymap_scanner.event.model import SEED_DIRECTION, SEED_VERTEX, Event, Particle
from skymap_scanner.pixels.types import PixelVariation, RecoPixelVariation
from skymap_scanner.prepare.seed_vertex import with_vertex_seed
from skymap_scanner.sky import dir_to_equa

#: modules in this package that are helpers, not algorithms
_NOT_ALGORITHMS = {"common"}


def direction_seed(event: Event) -> tuple[float, float] | None:
    """(RA, Dec) [rad] of the event's direction seed (e.g. the online SplineMPE fit), or None."""
    seed = event.seeds.get(SEED_DIRECTION)
    if seed is None or not seed.has_direction:
        return None
    ra, dec = dir_to_equa(seed.zenith, seed.azimuth, event.metadata.mjd)
    return float(ra), float(dec)


class RecoError(ValueError):
    """Unknown algorithm or invalid reco options."""


class RecoOptions(BaseModel):
    """Base of each algorithm's typed options (``--reco-option key=value``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RecoInterface(ABC):
    """One reconstruction algorithm.

    Flags (class attributes):
    - ``rotate_vertex``: rotate the variation pattern so its z axis lies along the track;
    - ``add_fallback_position``: also seed from the event seed + variation when the base differs;
    - ``pointed``: the first round scans only pixels within ``pointing_radius_deg`` of the event's
      direction seed.
    """

    rotate_vertex: ClassVar[bool] = False
    add_fallback_position: ClassVar[bool] = False
    pointed: ClassVar[bool] = False
    pointing_radius_deg: ClassVar[float] = 3.5
    #: pixel variations per task message (vectorised recos want larger batches)
    default_batch_size: ClassVar[int] = 8
    options_model: ClassVar[type[RecoOptions]] = RecoOptions
    #: contour calibration (a shipped name, ``postprocess/calibrations/``) measured for this reco and
    #: used by default for contours and alert products; None: Wilks, with a warning
    default_calibration: ClassVar[str | None] = None
    #: after the scan, estimate the deposited energy of a track with losses at the best fit
    #: (``postprocess/energy.py``): for track recos whose fits give no energy
    track_energy_at_best_fit: ClassVar[bool] = False

    def __init__(self, event: Event, options: Mapping[str, Any] | None = None) -> None:
        self.event = event
        self.options = self.parse_options(options or {})

    @classmethod
    def name(cls) -> str:
        return cls.__module__.rsplit(".", 1)[-1]

    @classmethod
    def parse_options(cls, options: Mapping[str, Any]) -> Any:
        try:
            return cls.options_model(**dict(options))
        except ValidationError as e:
            msgs = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
            raise RecoError(f"invalid --reco-option for {cls.name()}: {msgs}") from None

    @classmethod
    def prepare_event(cls, event: Event, options: Any) -> Event:
        """Server-side preparation (pulse cleaning, seeds). Default: the VHESelfVeto vertex seed is
        added when the event carries none (:func:`~skymap_scanner.prepare.seed_vertex.with_vertex_seed`)."""
        return with_vertex_seed(event)

    @classmethod
    def vertex_variations(cls, options: Any) -> np.ndarray:
        """Base position variations (n, 3) [m], before rotation. Default: the seed itself."""
        return np.zeros((1, 3))

    @classmethod
    def seed(cls, event: Event) -> Particle:
        """Event seed vertex/time: the ``SEED_VERTEX`` seed, else the charge-weighted hit centroid
        at the earliest pulse time."""
        seed = event.seeds.get(SEED_VERTEX)
        if seed is not None and seed.has_vertex:
            return seed
        pos = event.hit_positions()
        q = event.pulses.charge
        x, y, z = (pos * q[:, None]).sum(axis=0) / q.sum()
        return Particle(x=x, y=y, z=z, time=float(event.pulses.time.min()))

    @classmethod
    def pointing(cls, event: Event) -> tuple[float, float] | None:
        """(RA, Dec) [rad] to centre the first round on, for pointed recos."""
        if not cls.pointed:
            return None
        radec = direction_seed(event)
        if radec is None:
            raise RecoError(f"{cls.name()} needs the event's direction seed ('{SEED_DIRECTION}')")
        return radec

    @abstractmethod
    def reconstruct(self, batch: list[PixelVariation]) -> list[RecoPixelVariation]:
        """Fit every pixel variation of the batch (direction fixed). A failed fit may return
        llh = NaN or raise; the client isolates the failing item and reports it."""


def _class_name(module_name: str) -> str:
    return "".join(part.capitalize() for part in module_name.split("_"))


def available_recos() -> list[str]:
    """Names of every algorithm module in this package."""
    return sorted(
        m.name for m in pkgutil.iter_modules(__path__)
        if not m.ispkg and m.name not in _NOT_ALGORITHMS and not m.name.startswith("_")
    )


def get_reco_class(name: str) -> type[RecoInterface]:
    """The algorithm class for ``--reco-algo name``."""
    if name not in available_recos():
        raise RecoError(f"unknown reco algorithm {name!r}; available: {', '.join(available_recos())}")
    module = importlib.import_module(f"{__name__}.{name}")
    cls = getattr(module, _class_name(name), None)
    if not (isinstance(cls, type) and issubclass(cls, RecoInterface)):
        raise RecoError(f"module recos.{name} has no RecoInterface subclass {_class_name(name)}")
    return cls
