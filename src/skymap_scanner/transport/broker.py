"""What the RabbitMQ and NATS transports share: connection settings, the control payload, the
event-loop thread and the server-side base class.

Both brokers are driven by asyncio libraries (aio-pika, nats-py). The server's
:class:`~skymap_scanner.transport.base.ServerTransport` API is synchronous, so the server-side
transports run their event loop in a background thread and hand results over through a
thread-safe queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import re
import ssl
import threading
from abc import abstractmethod
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

from skymap_scanner.transport.auth import AuthError, ScanKey, open_sealed, seal
from skymap_scanner.transport.base import ServerTransport, TransportError
from skymap_scanner.transport.startup import Startup, StartupError

LOGGER = logging.getLogger(__name__)

SCHEMES = {"amqp": "rabbitmq", "amqps": "rabbitmq", "nats": "nats", "tls": "nats"}
TLS_SCHEMES = {"amqps", "tls"}
SCAN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
#: tasks published concurrently (awaiting their broker confirmations together)
PUBLISH_WINDOW = 200
_DONE_KIND = "scan-done"
T = TypeVar("T")


def check_scan_id(scan_id: str) -> str:
    """Queue, stream and subject names are derived from the scan id, so it must be plain."""
    if not isinstance(scan_id, str) or not SCAN_ID_PATTERN.fullmatch(scan_id):
        raise TransportError(f"scan id {scan_id!r}: use 1-64 characters from A-Z a-z 0-9 _ . -")
    return scan_id


def backend_of(url: str) -> str:
    """``"rabbitmq"`` or ``"nats"`` from the URL scheme."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise TransportError(f"broker URL {redact(url)!r}: scheme must be one of {', '.join(sorted(SCHEMES))}")
    return SCHEMES[scheme]


def redact(url: str) -> str:
    """The URL without its password (for logs and errors)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc[-1]}"))


@dataclass(frozen=True)
class BrokerConfig:
    """Where the broker is and how to log in. Credentials given here replace those in the URL."""

    url: str
    username: str | None = None
    password: str | None = None
    tls_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    #: NATS: seconds until an unacknowledged task is delivered again (clients send heartbeats)
    ack_wait_s: float = 30.0
    connect_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        backend_of(self.url)

    @property
    def backend(self) -> str:
        return backend_of(self.url)

    @property
    def uses_tls(self) -> bool:
        return urlsplit(self.url).scheme.lower() in TLS_SCHEMES or self.tls_ca_file is not None

    def ssl_context(self) -> ssl.SSLContext | None:
        """TLS context (server certificate checked against the CA file or the system CAs)."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(cafile=self.tls_ca_file)
        if self.tls_cert_file is not None:
            context.load_cert_chain(self.tls_cert_file, self.tls_key_file)
        return context

    def url_with_credentials(self) -> str:
        parts = urlsplit(self.url)
        user = self.username if self.username is not None else parts.username
        password = self.password if self.password is not None else parts.password
        host = parts.netloc.rsplit("@", 1)[-1]
        if user is None:
            return self.url
        login = quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "")
        return urlunsplit(parts._replace(netloc=f"{login}@{host}"))

    @property
    def redacted_url(self) -> str:
        return redact(self.url_with_credentials())


# -- the control payload: the startup while the scan runs, a done marker once it is over ---------
def done_marker(scan_id: str, key: ScanKey | None = None) -> bytes:
    """The done marker of scan ``scan_id``, sealed with ``key`` (None: unsealed, the memory broker's)."""
    return seal(key, scan_id, "control", json.dumps({"kind": _DONE_KIND, "scan_id": scan_id}).encode())


def parse_control(data: bytes, scan_id: str, key: ScanKey | None = None) -> Startup | None:
    """Scan ``scan_id``'s startup (MAC- and hash-verified), or None when the scan is already over. A
    control payload whose MAC does not check out under ``key`` raises StartupError (never "scan over")."""
    try:
        body = open_sealed(key, scan_id, "control", data)
    except AuthError as e:
        raise StartupError(f"control payload rejected: {e}") from None
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError):
        obj = None  # Startup.from_json names the problem
    if isinstance(obj, dict) and obj.get("kind") == _DONE_KIND:
        return None
    return Startup.from_json(body)


class LoopThread:
    """An asyncio event loop running in a daemon thread; ``run`` executes a coroutine there."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()


class BrokerServerTransport(ServerTransport):
    """Server side of a broker transport: subclasses implement the three coroutines.

    Every message is sealed with ``key`` (``transport.auth``); results whose MAC does not check out
    are dropped, logged and counted in ``n_rejected``.
    """

    #: longest wait for one broker operation [s]
    operation_timeout_s = 120.0

    def __init__(self, config: BrokerConfig, key: ScanKey | None) -> None:
        if key is None:
            raise TransportError("a broker scan needs a scan secret (--scan-secret-file or SKYSCAN_SCAN_SECRET)")
        self.config = config
        self.key = key
        self.scan_id = ""
        self._thread: LoopThread | None = None
        self._results: queue.Queue[bytes] = queue.Queue()
        self._failure: str | None = None

    @abstractmethod
    async def _open(self, control: bytes) -> None:
        """Connect, create the scan's queues and publish ``control`` (the sealed startup payload)."""

    @abstractmethod
    async def _publish(self, tasks: list[bytes]) -> None:
        """Publish task messages, returning once the broker has confirmed them all."""

    @abstractmethod
    async def _finish(self, done: bytes) -> None:
        """Publish ``done`` (the sealed done marker), delete the scan's work queues and disconnect."""

    # -- called from the event loop by subclasses --------------------------------------------
    def _deliver(self, body: bytes) -> None:
        self._results.put(body)

    def _fail(self, why: str) -> None:
        LOGGER.error("scan %s: broker connection lost: %s", self.scan_id, why)
        self._failure = why

    # -- ServerTransport ---------------------------------------------------------------------
    def _call(self, coro: Coroutine[Any, Any, T], what: str) -> T:
        assert self._thread is not None, "start() first"
        try:
            return self._thread.run(coro, self.operation_timeout_s)
        except Exception as e:  # noqa: BLE001 - every broker/library error ends as a TransportError
            raise TransportError(f"scan {self.scan_id}: {what} via {self.config.redacted_url} failed: "
                                 f"{type(e).__name__}: {e}") from e

    def start(self, startup: Startup) -> None:
        self.scan_id = check_scan_id(startup.scan_id)
        self._thread = LoopThread(f"{self.config.backend}-{self.scan_id}")
        self._call(self._open(self.key.seal(self.scan_id, "control", startup.to_json())), "opening the scan")
        LOGGER.info("scan %s: serving through %s (%s)", self.scan_id, self.config.redacted_url, self.config.backend)

    def send(self, tasks: list[bytes]) -> None:
        if tasks:
            sealed = [self.key.seal(self.scan_id, "task", t) for t in tasks]
            self._call(self._publish(sealed), f"publishing {len(tasks)} task(s)")

    def receive(self, timeout: float) -> list[bytes]:
        if self._failure is not None:
            raise TransportError(f"scan {self.scan_id}: broker connection lost: {self._failure}")
        try:
            raw = [self._results.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                raw.append(self._results.get_nowait())
            except queue.Empty:
                break
        return [body for body in map(self._authenticated, raw) if body is not None]

    def _authenticated(self, data: bytes) -> bytes | None:
        try:
            return self.key.open(self.scan_id, "result", data)
        except AuthError as e:
            self.n_rejected += 1
            LOGGER.error("scan %s: rejected a result message (%d bytes): %s (%d rejected so far)",
                         self.scan_id, len(data), e, self.n_rejected)
            return None

    def close(self) -> None:
        if self._thread is None:
            return
        try:
            self._call(self._finish(done_marker(self.scan_id, self.key)), "ending the scan")
        except TransportError as e:
            LOGGER.error("%s", e)
        finally:
            self._thread.stop()
            self._thread = None
