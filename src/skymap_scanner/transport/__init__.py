"""Transports between the scan server and its clients: one small interface, several backends.

``embedded`` runs local worker processes (the default, no broker needed); broker backends
(RabbitMQ, NATS) implement the same :class:`ServerTransport`.
"""

from skymap_scanner.transport.base import ServerTransport

__all__ = ["ServerTransport"]
