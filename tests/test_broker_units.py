"""Transports without a broker: spec/URL → backend, names from scan ids, credentials, TLS settings,
the retry policy."""

import pytest

from skymap_scanner.pixels.types import PixelVariation
from skymap_scanner.settings import Settings
from skymap_scanner.transport import BrokerConfig, TransportError, create_server_transport
from skymap_scanner.transport.auth import ScanKey
from skymap_scanner.transport.broker import check_scan_id, done_marker, parse_control
from skymap_scanner.transport.inprocess import InProcessTransport
from skymap_scanner.transport.messages import Task
from skymap_scanner.transport.nats import NatsServerTransport, StreamNames
from skymap_scanner.transport.processes import ProcessTransport
from skymap_scanner.transport.rabbitmq import QueueNames, RabbitMQServerTransport
from skymap_scanner.transport.retry import retry_or_give_up
from skymap_scanner.transport.startup import Startup, StartupError


@pytest.mark.parametrize(("spec", "cls"), [
    ("processes", ProcessTransport),
    ("inprocess", InProcessTransport),
    ("amqp://guest:guest@127.0.0.1:5672/", RabbitMQServerTransport),
    ("amqps://broker.example.org/", RabbitMQServerTransport),
    ("nats://127.0.0.1:4222", NatsServerTransport),
    ("tls://broker.example.org:4222", NatsServerTransport),
])
def test_backend_is_chosen_by_spec(spec, cls):
    assert type(create_server_transport(spec, key=ScanKey(b"0123456789abcdef"))) is cls


def test_bad_spec_or_mismatched_broker_is_rejected():
    with pytest.raises(TransportError, match="'processes', 'inprocess' or a broker URL"):
        create_server_transport("threads")
    with pytest.raises(TransportError, match="differ"):
        create_server_transport("nats://a:4222", broker=BrokerConfig("nats://b:4222"), key=ScanKey(b"0123456789abcdef"))


def test_missing_broker_library_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "nats", None)  # import nats -> ImportError
    with pytest.raises(TransportError, match=r"pip install 'skymap-scanner\[broker\]'"):
        create_server_transport("nats://127.0.0.1:4222")


def test_bad_broker_url_is_rejected():
    with pytest.raises(ValueError, match="broker_url"):
        Settings(broker_url="http://127.0.0.1/")
    with pytest.raises(TransportError, match="scheme"):
        BrokerConfig("kafka://127.0.0.1")


def test_names_derive_from_scan_id():
    q = QueueNames.for_scan("run-12.a")
    assert (q.startup, q.tasks, q.results) == ("skyscan.run-12.a.startup", "skyscan.run-12.a.tasks",
                                               "skyscan.run-12.a.results")
    # '.' may not appear in a NATS stream name; the encoding keeps distinct ids distinct
    assert StreamNames.for_scan("a.b").stream == "SKYSCAN_a_db"
    assert StreamNames.for_scan("a_db").stream == "SKYSCAN_a__db"
    assert StreamNames.for_scan("a.b").tasks == "skyscan.a_db.tasks"
    for bad in ("", "a b", "a*", "x" * 65, "a>b"):
        with pytest.raises(TransportError, match="scan id"):
            check_scan_id(bad)


def test_credentials_replace_those_in_the_url_and_are_redacted():
    config = BrokerConfig("amqp://alice:old@host:5672/vhost", username="bob", password="s3cr/t")
    assert config.url_with_credentials() == "amqp://bob:s3cr%2Ft@host:5672/vhost"
    assert config.redacted_url == "amqp://bob:***@host:5672/vhost"
    assert BrokerConfig("nats://127.0.0.1:4222").url_with_credentials() == "nats://127.0.0.1:4222"


def test_tls_context_from_scheme_or_ca_file(tmp_path):
    assert BrokerConfig("amqp://h/").ssl_context() is None
    assert BrokerConfig("amqps://h/").ssl_context() is not None
    assert BrokerConfig("tls://h:4222").ssl_context() is not None
    with pytest.raises(OSError):
        BrokerConfig("nats://h:4222", tls_ca_file=tmp_path / "missing.pem").ssl_context()


def test_settings_read_broker_options_from_environment(monkeypatch):
    monkeypatch.setenv("SKYSCAN_BROKER_URL", "nats://127.0.0.1:4222")
    monkeypatch.setenv("SKYSCAN_BROKER_PASSWORD", "pw")
    monkeypatch.setenv("SKYSCAN_NATS_ACK_WAIT_S", "5")
    s = Settings()
    assert s.broker_url == "nats://127.0.0.1:4222" and s.nats_ack_wait_s == 5.0
    assert "pw" not in repr(s) and s.broker_password.get_secret_value() == "pw"


def test_control_payload_is_startup_or_done_marker():
    from skymap_scanner.simulation.synthetic import synthetic_event

    startup = Startup.create("s1", "dummy", synthetic_event())
    assert parse_control(startup.to_json(), "s1").event_sha256 == startup.event_sha256
    assert parse_control(done_marker("s1"), "s1") is None
    with pytest.raises(StartupError):
        parse_control(startup.to_json().replace(b'"event_sha256": "', b'"event_sha256": "0'), "s1")
    with pytest.raises(StartupError):
        parse_control(b"\x00garbage", "s1")


def _item(pixel):
    return PixelVariation(8, pixel, 0, *([0.0] * 13))


def test_failed_attempt_is_split_then_given_up():
    task = Task("s", "s-1", 1, [_item(1), _item(2)])
    retries, result = retry_or_give_up(task, 1, 3, "died", "w")
    assert result is None and [(t.attempt, len(t.items), t.task_id) for t in retries] == [
        (2, 1, "s-1.r1.0"), (2, 1, "s-1.r1.1")]
    retries, result = retry_or_give_up(retries[0], 3, 3, "time limit", "w")
    assert retries == [] and [f.id_tuple for f in result.failures] == [(8, 1, 0)]
    assert "time limit (after 3 attempts)" in result.failures[0].reason


def test_inprocess_scan_equals_process_scan(tmp_path):
    from skymap_scanner.api import scan
    from skymap_scanner.simulation.synthetic import synthetic_event

    def llh(spec):
        result = scan(synthetic_event(seed=2), "dummy", "8:0 64:4", transport=spec, workers=2, progress=False,
                      settings=Settings(shuffle_seed=1, scan_id="same"))
        return {n: {p: r.llh for p, r in pixels.items()} for n, pixels in result.pixels.items()}

    assert llh("inprocess") == llh("processes")


def test_inprocess_task_that_raises_is_retried_then_given_up(monkeypatch):
    from skymap_scanner.simulation.synthetic import synthetic_event
    from skymap_scanner.transport.messages import decode_result, encode_task
    from skymap_scanner.transport.worker import TaskRunner

    def broken(self, message):
        raise RuntimeError("lost")

    transport = InProcessTransport(max_attempts=2)
    transport.start(Startup.create("s", "dummy", synthetic_event()))
    monkeypatch.setattr(TaskRunner, "handle", broken)
    transport.send([encode_task(Task("s", "t", 1, [_item(1), _item(2)]))])
    results = [decode_result(m) for _ in range(4) for m in transport.receive(0.01)]
    assert [(r.task_id, [f.id_tuple for f in r.failures]) for r in results] == [
        ("t.r1.0", [(8, 1, 0)]), ("t.r1.1", [(8, 2, 0)])]
    assert results[0].failures[0].reason == "RuntimeError: lost (after 2 attempts)"
    assert transport.receive(0.01) == []


def test_transport_imports_nothing_above_it():
    import ast
    from pathlib import Path

    import skymap_scanner.transport

    above = tuple(f"skymap_scanner.{m}" for m in ("client", "server", "settings", "api", "cli"))
    for path in Path(skymap_scanner.transport.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not [n for n in names if n.startswith(above)], f"{path.name} imports {names}"
