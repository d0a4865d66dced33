"""What the client loop needs from a broker: one small asyncio interface, one class per broker
(RabbitMQ, NATS, in memory)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from skymap_scanner.transport.auth import ScanKey
from skymap_scanner.transport.startup import Startup


@dataclass
class Delivery:
    """One task message as delivered by the broker.

    ``previous`` counts earlier deliveries of this message that were never acknowledged (its
    holder died or lost its connection): RabbitMQ quorum queues' ``x-delivery-count``, JetStream's
    ``num_delivered - 1``. ``handle`` is the broker library's message object.
    """

    body: bytes
    previous: int
    handle: Any


class ClientSession(ABC):
    """A client's connection to one scan on one broker.

    Life cycle: ``open`` → ``wait_startup`` → ``start_consuming`` → ``next_task`` / ``publish_*`` /
    ``ack`` … until ``done`` → ``close``. At most one task is held at a time (prefetch 1).

    Task and result bodies pass as they are (sealed: the client loop seals and opens them with
    ``key``); ``wait_startup`` checks the control payload's MAC with ``key``.
    """

    def __init__(self, scan_id: str, key: ScanKey | None = None) -> None:
        self.scan_id = scan_id
        #: the scan's secret (None: messages are not authenticated, the memory broker's default)
        self.key = key
        #: set once the scan is over (done marker seen, work queue gone)
        self.done = False
        #: seconds between ``in_progress`` calls while a task runs (None: not needed)
        self.heartbeat_s: float | None = None

    @abstractmethod
    async def open(self) -> None:
        """Connect to the broker."""

    @abstractmethod
    async def wait_startup(self, timeout: float) -> Startup | None:
        """The scan's startup payload (MAC- and hash-verified), or None when the scan is already over.
        Raises TimeoutError when none appears within ``timeout`` seconds, StartupError when its MAC is wrong."""

    @abstractmethod
    async def start_consuming(self) -> None:
        """Begin receiving tasks (sets ``done`` when the scan's task queue no longer exists)."""

    @abstractmethod
    async def stop_consuming(self) -> None:
        """Receive no more tasks; tasks already received stay available to ``next_task(0)``."""

    @abstractmethod
    async def next_task(self, timeout: float) -> Delivery | None:
        """The next task, or None after ``timeout`` seconds without one."""

    @abstractmethod
    async def publish_result(self, body: bytes) -> None:
        """Publish a result message; returns once the broker has confirmed it."""

    @abstractmethod
    async def publish_task(self, body: bytes) -> None:
        """Publish a task message (a retry, or a task handed back); returns once confirmed."""

    @abstractmethod
    async def ack(self, delivery: Delivery) -> None:
        """Remove the task from the queue (call only after its answer is published)."""

    async def in_progress(self, delivery: Delivery) -> None:  # noqa: B027 - optional hook
        """Tell the broker the task is still being worked on (only where ``heartbeat_s`` is set)."""

    @abstractmethod
    async def close(self) -> None:
        """Disconnect; tasks not acknowledged go back to the queue."""
