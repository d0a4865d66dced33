"""Per-DOM inputs of a timing fit: position, first pulse time, total charge."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skymap_scanner.event.model import Event, EventError


@dataclass(frozen=True)
class DomHits:
    """One row per hit DOM: position (N, 3) [m], first pulse time [ns], total charge [PE]."""

    position_m: np.ndarray
    first_time_ns: np.ndarray
    charge_pe: np.ndarray

    def __len__(self) -> int:
        return len(self.first_time_ns)

    @property
    def center_m(self) -> np.ndarray:
        """Charge-weighted mean DOM position [m]."""
        return (self.position_m * self.charge_pe[:, None]).sum(axis=0) / self.charge_pe.sum()

    @classmethod
    def from_event(cls, event: Event) -> DomHits:
        """Group the event's pulses (sorted by string, om, time) by DOM."""
        pulses = event.pulses
        starts = pulses.first_per_dom()
        if len(starts) == 0:
            raise EventError(f"event {event.metadata} has no hit DOM")
        charge = np.add.reduceat(pulses.charge, starts)
        position = event.geometry.lookup(pulses.string[starts], pulses.om[starts])
        return cls(
            position_m=np.ascontiguousarray(position, np.float64),
            first_time_ns=np.ascontiguousarray(pulses.time[starts], np.float64),
            charge_pe=np.ascontiguousarray(charge, np.float64),
        )
