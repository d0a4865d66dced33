"""``I3Time``: (year, daqTime) → UTC date-time and MJD (docs/i3-format.md §6).

daqTime counts tenths of ns since Jan 1 00:00:00 UTC of ``year``, *including* leap seconds inserted
during that year; astropy adds it in TAI, which handles them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from astropy.time import Time

#: daqTime ticks per second (0.1 ns)
TICKS_PER_SECOND = 10**10


@dataclass(frozen=True)
class I3Time:
    """IceCube time: ``year`` and ``daq_time`` [0.1 ns since the start of that year]."""

    year: int
    daq_time: int

    def to_astropy(self) -> Time:
        """UTC ``astropy.time.Time`` (astropy is imported here: it loads slowly); leap seconds from
        astropy's bundled tables (no download)."""
        from astropy.time import Time, TimeDelta

        from skymap_scanner.sky import bundled_iers

        with bundled_iers():
            start = Time(dt.datetime(self.year, 1, 1), scale="utc")
            seconds, ticks = divmod(self.daq_time, TICKS_PER_SECOND)
            return (start + TimeDelta(seconds, ticks / TICKS_PER_SECOND, format="sec")).utc

    def to_datetime(self) -> dt.datetime:
        """UTC date-time (naive), to the microsecond."""
        return self.to_astropy().to_datetime()

    @property
    def mjd(self) -> float:
        """Modified Julian date (UTC)."""
        return float(self.to_astropy().mjd)

    def ns_since(self, other: I3Time) -> float:
        """Nanoseconds from ``other`` to this time (same or adjacent years; leap seconds ignored)."""
        if other.year == self.year:
            return (self.daq_time - other.daq_time) / 10
        return float((self.to_astropy() - other.to_astropy()).to_value("s")) * 1e9
