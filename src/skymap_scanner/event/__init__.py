"""Event in: the Event model, the open event format, and the loader that picks a reader."""

from skymap_scanner.event.loader import load_event
from skymap_scanner.event.model import (
    SEED_DIRECTION,
    SEED_VERTEX,
    Event,
    EventError,
    EventMetadata,
    Geometry,
    Particle,
    Pulses,
)

__all__ = [
    "SEED_DIRECTION",
    "SEED_VERTEX",
    "Event",
    "EventError",
    "EventMetadata",
    "Geometry",
    "Particle",
    "Pulses",
    "load_event",
]
