"""Real message brokers for the tests, on 127.0.0.1 only.

A broker already answering is used: RabbitMQ at ``SKYSCAN_TEST_RABBITMQ_URL`` (default
``amqp://guest:guest@127.0.0.1:5672/``), NATS with JetStream at ``SKYSCAN_TEST_NATS_URL`` (default
``nats://127.0.0.1:4222``). Otherwise (or always, with ``SKYSCAN_TEST_OWN_BROKERS=1``) the
fixture starts a private broker on free loopback ports in a temporary folder, installing the
Debian package (``rabbitmq-server``, ``nats-server``) with apt-get first when the program is
missing. Tests skip, naming the reason, only when neither works.

Recipes: ``docs/brokers.md`` ("Running a broker"; RabbitMQ needs its own epmd, node name, cookie home,
database and log folders; ``nats-server -js`` starts in 0.1 s).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from skymap_scanner.api import ScanResult, scan
from skymap_scanner.event.model import Event
from skymap_scanner.settings import Settings
from skymap_scanner.transport import ServerTransport, create_server_transport
from skymap_scanner.transport.auth import ScanKey
from skymap_scanner.transport.broker import BrokerConfig
from skymap_scanner.transport.messages import MessageError, decode_result, decode_task
from skymap_scanner.transport.startup import Startup

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # not the /usr/sbin wrapper, which su's
NATS_SERVER = "/usr/sbin/nats-server"
EPMD = "/usr/bin/epmd"
START_TIMEOUT_S = 90.0
#: the scan secret of every broker test (clients get it as SKYSCAN_SCAN_SECRET)
TEST_SECRET = "broker-tests-scan-secret-0123456789"
TEST_KEY = ScanKey(TEST_SECRET.encode())


def client_env() -> dict[str, str]:
    """The environment of a client (or server) command with the test scan secret."""
    return {**os.environ, "SKYSCAN_SCAN_SECRET": TEST_SECRET}


def answers(url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_program(path: str, package: str) -> str | None:
    """``path`` if it exists, after installing ``package`` with apt-get when needed and possible."""
    if os.path.exists(path):
        return path
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", package]
    for cmd in (install, ["apt-get", "update"], install):
        if subprocess.run(cmd, env=env, capture_output=True, timeout=600).returncode == 0 and os.path.exists(path):
            return path
    return path if os.path.exists(path) else None


def _wait_until_answers(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not answers(url, 0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"broker for {url} did not start (exit {process.returncode}):\n{tail}")
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_nats(folder: Path) -> tuple[list[subprocess.Popen], str]:
    port = free_port()
    url = f"nats://127.0.0.1:{port}"
    log = folder / "nats.log"
    process = subprocess.Popen([NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(folder / "store"),
                                "-l", str(log)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    _wait_until_answers(url, process, log)
    return [process], url


def start_rabbitmq(folder: Path) -> tuple[list[subprocess.Popen], str]:
    port, dist_port, epmd_port = free_port(), free_port(), free_port()
    (folder / "rabbitmq.conf").write_text(f"listeners.tcp.default = 127.0.0.1:{port}\n")
    (folder / "enabled_plugins").write_text("[].\n")
    (folder / "rabbitmq-env.conf").write_text("")
    env = {**os.environ, "HOME": str(folder), "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
           "RABBITMQ_LOG_BASE": str(folder / "log"), "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
           "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
           "RABBITMQ_CONF_ENV_FILE": str(folder / "rabbitmq-env.conf"), "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
           "RABBITMQ_NODE_PORT": str(port), "RABBITMQ_DIST_PORT": str(dist_port),
           "RABBITMQ_NODENAME": f"skyscan-test-{os.getpid()}@localhost", "ERL_EPMD_PORT": str(epmd_port),
           "ERL_EPMD_ADDRESS": "127.0.0.1",
           "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}"}
    epmd = subprocess.Popen([EPMD, "-address", "127.0.0.1", "-port", str(epmd_port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = folder / "rabbitmq.out"
    with log.open("w") as out:
        server = subprocess.Popen([RABBITMQ_SERVER], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=folder)
    url = f"amqp://guest:guest@127.0.0.1:{port}/"
    try:
        _wait_until_answers(url, server, log)
    except RuntimeError:
        stop(epmd)
        raise
    return [server, epmd], url


def broker(kind: str, folder: Path) -> Iterator[str]:
    """Yield the URL of a running broker of ``kind`` ("rabbitmq" or "nats")."""
    default = {"rabbitmq": "amqp://guest:guest@127.0.0.1:5672/", "nats": "nats://127.0.0.1:4222"}[kind]
    url = os.environ.get(f"SKYSCAN_TEST_{kind.upper()}_URL", default)
    if os.environ.get("SKYSCAN_TEST_OWN_BROKERS") != "1" and answers(url):
        yield url
        return
    program = (ensure_program(RABBITMQ_SERVER, "rabbitmq-server") if kind == "rabbitmq"
               else ensure_program(NATS_SERVER, "nats-server"))
    if program is None:
        pytest.skip(f"no {kind} broker answers at {url} and the Debian package could not be installed")
    processes, own_url = (start_rabbitmq if kind == "rabbitmq" else start_nats)(folder)
    try:
        yield own_url
    finally:
        for process in processes:
            stop(process)


@pytest.fixture(scope="session")
def rabbitmq_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from broker("rabbitmq", tmp_path_factory.mktemp("rabbitmq"))


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from broker("nats", tmp_path_factory.mktemp("nats"))


@pytest.fixture(params=["rabbitmq", "nats"])
def broker_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once per broker."""
    return request.getfixturevalue(f"{request.param}_url")


# -- scans over a broker, driven from a test ----------------------------------------------------
def server_transport(url: str, ack_wait_s: float = 2.0) -> ServerTransport:
    """The server side for ``url`` (NATS redelivers after ``ack_wait_s``: keep it short in tests)."""
    return create_server_transport(url, broker=BrokerConfig(url, ack_wait_s=ack_wait_s), key=TEST_KEY)


def start_client(url: str, scan_id: str, log: Path, *args: str) -> subprocess.Popen:
    """``skymap-scanner client`` as its own process; stdout and stderr go to ``log``."""
    env = client_env()
    with log.open("a") as out:
        return subprocess.Popen([sys.executable, "-c", "from skymap_scanner.cli import main; main()", "client",
                                 "--broker", url, "--scan-id", scan_id, *args], stdout=out, stderr=subprocess.STDOUT,
                                env=env)


def wait_for_log(log: Path, text: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in (log.read_text(errors="replace") if log.exists() else ""):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{text!r} not in {log} within {timeout} s")
        time.sleep(0.05)


class CountingTransport(ServerTransport):
    """A server transport that counts the variations sent and the result items received, so that a
    test can watch a scan running in another thread."""

    def __init__(self, inner: ServerTransport) -> None:
        self.inner = inner
        self.n_sent = 0
        self.n_received = 0

    @property  # type: ignore[override]
    def n_rejected(self) -> int:
        return self.inner.n_rejected

    def start(self, startup: Startup) -> None:
        self.inner.start(startup)

    def send(self, tasks: list[bytes]) -> None:
        self.inner.send(tasks)
        self.n_sent += sum(len(decode_task(t).items) for t in tasks)

    def receive(self, timeout: float) -> list[bytes]:
        messages = self.inner.receive(timeout)
        for message in messages:
            try:
                result = decode_result(message)
            except MessageError:
                continue
            self.n_received += len(result.results) + len(result.failures)
        return messages

    def close(self) -> None:
        self.inner.close()


class ServerThread(threading.Thread):
    """A broker-mode scan (``skymap_scanner.scan``) running in a thread; ``transport`` counts its traffic."""

    def __init__(self, event: Event, url: str, scan_id: str, output_dir: Path, *, reco: str = "dummy",
                 nsides: str = "8:0", options: dict[str, str] | None = None, ack_wait_s: float = 2.0,
                 **settings: Any) -> None:
        super().__init__(daemon=True)
        self.event = event
        self.scan_id = scan_id
        self.transport = CountingTransport(server_transport(url, ack_wait_s))
        settings = {"scan_id": scan_id, "idle_timeout_s": 60, "shuffle_seed": 1, **settings}
        self.kwargs = {"reco": reco, "nsides": nsides, "output_dir": output_dir, "progress": False,
                       "settings": Settings(**settings),
                       **(options or {})}
        self.outcome: ScanResult | None = None
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            with self.transport:
                self.outcome = scan(self.event, transport=self.transport, **self.kwargs)
        except BaseException as e:  # noqa: BLE001 - re-raised in the test by result()
            self.error = e

    def result(self, timeout: float) -> ScanResult:
        self.join(timeout)
        if self.is_alive():
            raise TimeoutError(f"scan {self.scan_id} did not end within {timeout} s")
        if self.error is not None:
            raise self.error
        assert self.outcome is not None
        return self.outcome
