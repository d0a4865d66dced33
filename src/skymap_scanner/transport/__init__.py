"""Transports between the scan server and its clients: one small interface, several backends.

``embedded`` runs local worker processes (the default, no broker needed); the broker backends
(RabbitMQ: ``amqp://``/``amqps://``, NATS JetStream: ``nats://``/``tls://``) implement the same
:class:`ServerTransport`, and their clients share one loop (``skymap_scanner.client.loop``).
Backends are imported on demand: the broker libraries are an optional extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skymap_scanner.transport.base import ServerTransport, TransportError
from skymap_scanner.transport.broker import BrokerConfig, backend_of

if TYPE_CHECKING:
    from skymap_scanner.client.session import ClientSession
    from skymap_scanner.config import Settings

__all__ = ["BrokerConfig", "ServerTransport", "TransportError", "broker_config", "make_client_session",
           "make_server_transport"]


def broker_config(settings: Settings) -> BrokerConfig:
    """Broker URL, credentials and TLS files from the settings (``SKYSCAN_BROKER_*``)."""
    if not settings.broker_url:
        raise TransportError("no broker URL: pass --broker or set SKYSCAN_BROKER_URL")
    password = settings.broker_password.get_secret_value() if settings.broker_password else None
    return BrokerConfig(settings.broker_url, settings.broker_username, password, settings.broker_tls_ca_file,
                        settings.broker_tls_cert_file, settings.broker_tls_key_file, settings.nats_ack_wait_s)


def _require(module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        raise TransportError(f"the broker transports need {module}: pip install 'skymap-scanner[broker]'") from None


def make_server_transport(settings: Settings) -> ServerTransport:
    """The transport the settings ask for: a broker's when a broker URL is set, else embedded workers."""
    if not settings.broker_url:
        from skymap_scanner.transport.embedded import EmbeddedTransport

        return EmbeddedTransport(settings.workers, settings.task_time_limit_s, settings.max_attempts)
    config = broker_config(settings)
    if config.backend == "rabbitmq":
        _require("aio_pika")
        from skymap_scanner.transport.rabbitmq import RabbitMQServerTransport

        return RabbitMQServerTransport(config)
    _require("nats")
    from skymap_scanner.transport.nats import NatsServerTransport

    return NatsServerTransport(config)


def make_client_session(config: BrokerConfig, scan_id: str) -> ClientSession:
    """A client's session with the broker named by ``config.url``."""
    if backend_of(config.url) == "rabbitmq":
        _require("aio_pika")
        from skymap_scanner.transport.rabbitmq import RabbitMQClientSession

        return RabbitMQClientSession(config, scan_id)
    _require("nats")
    from skymap_scanner.transport.nats import NatsClientSession

    return NatsClientSession(config, scan_id)
