"""The event model and the open event format (a leaf: imports nothing else of the package)."""

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
]
