"""Data types of a scan, as in the original (``utils/pixel_classes.py``), without pickle.

pixel ``(nside, pixel_id)`` -> ``PixelVariation`` request (one fit to do) -> ``SentPixelVariation``
(what the server sent) -> ``RecoPixelVariation`` (a fit result) -> ``RecoPixelFinal`` (best over
the position variations of a pixel), kept in ``NSidesDict``.

The persisted types are ``__slots__`` dataclasses (no per-object ``__dict__``) so that a scan of
10^5 pixels stays small; ``benchmarks/embedded_scan.py`` measures bytes per object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from operator import attrgetter

#: a HEALPix pixel: (nside, RING pixel index in equatorial coordinates)
Pixel = tuple[int, int]
#: (nside, pixel_id, posvar_id)
VariationId = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class PixelVariation:
    """One fit to do: the pixel's direction fixed, a seed vertex/time (one position variation).

    ra/dec [rad] are the pixel centre (ICRS); zenith/azimuth [rad] the same direction in the
    detector at the event time (where the particle comes *from*). Seeds x/y/z [m], t [ns]; the
    fallback seed (NaN when absent) is the event seed plus the same variation.
    """

    nside: int
    pixel_id: int
    posvar_id: int
    ra: float
    dec: float
    zenith: float
    azimuth: float
    x: float
    y: float
    z: float
    t: float
    energy: float = math.nan
    fallback_x: float = math.nan
    fallback_y: float = math.nan
    fallback_z: float = math.nan
    fallback_t: float = math.nan

    @property
    def id_tuple(self) -> VariationId:
        return (self.nside, self.pixel_id, self.posvar_id)


@dataclass(frozen=True, slots=True)
class SentPixelVariation:
    """A variation the server sent; ``sent_time`` (epoch s) is not part of equality or hash."""

    nside: int
    pixel_id: int
    posvar_id: int
    sent_time: float = field(compare=False, hash=False, default=0.0)

    @property
    def id_tuple(self) -> VariationId:
        return (self.nside, self.pixel_id, self.posvar_id)


@dataclass(frozen=True, slots=True)
class RecoPixelVariation:
    """The fit result of one variation. ``llh`` = -lnL at the minimum (lower is better), NaN = failed.

    Losses/energy [GeV], position [m], time [ns].
    """

    nside: int
    pixel_id: int
    posvar_id: int
    llh: float
    reco_losses_inside: float
    reco_losses_total: float
    x: float
    y: float
    z: float
    time: float
    energy: float

    @property
    def id_tuple(self) -> VariationId:
        return (self.nside, self.pixel_id, self.posvar_id)

    @property
    def failed(self) -> bool:
        return not math.isfinite(self.llh)

    def as_row(self) -> tuple[float, ...]:
        """All fields in order (fast; for arrays and checkpoints)."""
        return _RECO_ROW(self)


@dataclass(frozen=True, slots=True)
class RecoPixelFinal:
    """The best (lowest finite llh) variation of a pixel; the posvar is dropped."""

    nside: int
    pixel_id: int
    llh: float
    reco_losses_inside: float
    reco_losses_total: float
    x: float
    y: float
    z: float
    time: float
    energy: float

    @classmethod
    def from_variation(cls, v: RecoPixelVariation) -> RecoPixelFinal:
        return cls(v.nside, v.pixel_id, v.llh, v.reco_losses_inside, v.reco_losses_total,
                   v.x, v.y, v.z, v.time, v.energy)


_RECO_ROW = attrgetter(*RecoPixelVariation.__slots__)


class NSidesDict(dict[int, dict[int, RecoPixelFinal]]):
    """nside -> pixel_id -> RecoPixelFinal (only pixels with a finite llh)."""

    def n_pixels(self) -> int:
        return sum(len(v) for v in self.values())

    def best(self) -> RecoPixelFinal | None:
        """The pixel with the lowest llh over every nside (NaN never wins); ties -> finest nside."""
        best: RecoPixelFinal | None = None
        for nside in sorted(self):
            for reco in self[nside].values():
                if math.isfinite(reco.llh) and (best is None or reco.llh <= best.llh):
                    best = reco
        return best
