"""The server-side transport interface."""

from __future__ import annotations

from abc import ABC, abstractmethod

from skymap_scanner.transport.startup import Startup


class TransportError(RuntimeError):
    """The transport cannot go on (workers cannot start, broker unreachable, ...)."""


class ServerTransport(ABC):
    """What the scan server needs from a transport.

    Delivery is at-least-once: a result may arrive twice (the collector de-duplicates). A task
    whose worker dies or exceeds its time limit is delivered again; a task that keeps failing is
    answered by a result whose items are all failures, so the scan always ends.
    """

    #: result messages dropped because they were not authenticated (broker transports)
    n_rejected: int = 0

    @abstractmethod
    def start(self, startup: Startup) -> None:
        """Make the startup payload available to clients and open the queues."""

    @abstractmethod
    def send(self, tasks: list[bytes]) -> None:
        """Publish task messages."""

    @abstractmethod
    def receive(self, timeout: float) -> list[bytes]:
        """Result messages that arrived within ``timeout`` seconds (empty list if none)."""

    @abstractmethod
    def close(self) -> None:
        """Tell clients the scan is over and release resources."""

    def __enter__(self) -> ServerTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
