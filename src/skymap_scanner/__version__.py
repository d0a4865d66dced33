"""Package version: MAJOR.MINOR.PATCH (MINOR changes when the physics changes)."""

__version__ = "0.2.0"
