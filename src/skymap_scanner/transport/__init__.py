"""Transports between the scan server and its clients: one small interface, several backends.

Server side (:class:`ServerTransport`), chosen by :func:`create_server_transport`:

- ``"processes"``: local worker processes (:class:`~.processes.ProcessTransport`, the default);
- ``"inprocess"``: the tasks run in the calling process (:class:`~.inprocess.InProcessTransport`);
- a broker URL: RabbitMQ (``amqp://``, ``amqps://``) or NATS JetStream (``nats://``, ``tls://``).

Broker clients get a :class:`~.session.ClientSession` from :func:`create_client_session`; the
client loop (``skymap_scanner.client.loop``) is the same for every broker. Backends are imported on
demand: the broker libraries are an optional extra.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from skymap_scanner.transport.auth import ScanKey
from skymap_scanner.transport.base import ServerTransport, TransportError
from skymap_scanner.transport.broker import BrokerConfig, backend_of, redact

if TYPE_CHECKING:
    from skymap_scanner.transport.session import ClientSession

__all__ = ["BrokerConfig", "ScanKey", "ServerTransport", "TransportError", "create_client_session",
           "create_server_transport"]


@dataclass(frozen=True)
class _Backend:
    library: str
    module: str
    server: str
    session: str


#: broker backends by ``backend_of(url)`` (URL scheme: amqp, amqps → rabbitmq; nats, tls → nats)
_BACKENDS = {
    "rabbitmq": _Backend("aio_pika", "skymap_scanner.transport.rabbitmq", "RabbitMQServerTransport",
                         "RabbitMQClientSession"),
    "nats": _Backend("nats", "skymap_scanner.transport.nats", "NatsServerTransport", "NatsClientSession"),
}


def _broker_class(url: str, kind: str) -> type:
    backend = _BACKENDS[backend_of(url)]
    try:
        importlib.import_module(backend.library)
    except ImportError:
        raise TransportError(f"the broker transports need {backend.library}: "
                             "pip install 'skymap-scanner[broker]'") from None
    return getattr(importlib.import_module(backend.module), getattr(backend, kind))


def create_server_transport(spec: str = "processes", *, workers: int = 1, task_time_limit_s: float | None = None,
                            max_attempts: int = 3, broker: BrokerConfig | None = None,
                            key: ScanKey | None = None) -> ServerTransport:
    """The server's transport for ``spec``: ``"processes"`` (``workers`` local worker processes),
    ``"inprocess"`` or a broker URL (``broker``: its credentials and TLS files, default
    ``BrokerConfig(url=spec)``; ``key``: the scan's secret, required). ``task_time_limit_s`` [s] and
    ``max_attempts`` apply to the local transports; broker clients have their own (``ClientOptions``)."""
    if spec == "processes":
        from skymap_scanner.transport.processes import ProcessTransport

        return ProcessTransport(workers, task_time_limit_s, max_attempts)
    if spec == "inprocess":
        from skymap_scanner.transport.inprocess import InProcessTransport

        return InProcessTransport(max_attempts)
    if "://" not in spec:
        raise TransportError(f"transport {redact(spec)!r}: use 'processes', 'inprocess' or a broker URL")
    config = broker if broker is not None else BrokerConfig(spec)
    if config.url != spec:
        raise TransportError(f"transport {redact(spec)!r} and broker URL {config.redacted_url!r} differ")
    transport: ServerTransport = _broker_class(spec, "server")(config, key)
    return transport


def create_client_session(config: BrokerConfig, scan_id: str, key: ScanKey | None) -> ClientSession:
    """A client's session with scan ``scan_id`` on the broker named by ``config.url`` (``key``: the
    scan's secret, required)."""
    session: ClientSession = _broker_class(config.url, "session")(config, scan_id, key)
    return session
