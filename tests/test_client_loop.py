"""The broker client loop (``ScanClient``) against the in-memory broker: retries of redelivered tasks,
giving up, dropped messages, stopping (hand-back, grace time), reco errors, the task time limit.
The reco runs in a real child process (as with a broker); no broker is needed."""

import asyncio
import time

import pytest

from skymap_scanner.client.loop import ClientOptions, ScanClient
from skymap_scanner.pixels.types import PixelVariation
from skymap_scanner.simulation.synthetic import synthetic_event
from skymap_scanner.transport.memory import MemoryBroker, MemorySession
from skymap_scanner.transport.messages import Result, Task, decode_result, decode_task, encode_task
from skymap_scanner.transport.startup import Startup

pytestmark = pytest.mark.timeout(120)
SCAN = "loop"
EVENT = synthetic_event(seed=2)


def variation(pixel: int) -> PixelVariation:
    return PixelVariation(8, pixel, 0, *([0.0] * 13))


def task(task_id: str, pixels: list[int], attempt: int = 1, scan_id: str = SCAN) -> bytes:
    return encode_task(Task(scan_id, task_id, attempt, [variation(p) for p in pixels]))


def answered(results: list[Result]) -> dict[int, str]:
    """pixel -> "ok" or the failure reason."""
    out = {v.pixel_id: "ok" for r in results for v in r.results}
    out.update({f.id_tuple[1]: f.reason for r in results for f in r.failures})
    return out


async def _serve(broker, tasks, until, reco, reco_options, stop_when, session_kw, **options):
    broker.start(Startup.create(SCAN, reco, EVENT, reco_options))
    for body, previous in tasks:
        broker.publish_task(body, previous)
    session = MemorySession(broker, SCAN, **session_kw)
    client = ScanClient(session, ClientOptions(name="test-client", poll_s=0.05, **options))
    run = asyncio.create_task(client.run())
    deadline = time.monotonic() + 60
    stopped = False
    while not (until(broker) if until else stopped and run.done()):
        assert time.monotonic() < deadline, f"results {broker.results}, queue {broker.task_bodies()}"
        assert not run.done() or stopped, f"client ended early: {run.done() and run.result()}"
        if stop_when is not None and not stopped and stop_when(broker):
            client.request_stop()
            stopped = True
        await asyncio.sleep(0.02)
    if until:
        broker.finish(SCAN)
    await asyncio.wait_for(run, 30)
    return client.stats, session


def serve(tasks, until=None, reco="dummy", reco_options=None, stop_when=None, session_kw=None, **options):
    """Run a client on ``tasks`` ((body, previous deliveries) pairs) until ``until(broker)`` holds
    (then the scan ends) or, with ``stop_when``, until the client stopped after ``request_stop``."""
    broker = MemoryBroker()
    stats, session = asyncio.run(_serve(broker, tasks, until, reco, reco_options or {}, stop_when,
                                        session_kw or {}, **options))
    return broker, stats, session, [decode_result(r) for r in broker.results]


def n_results(n):
    return lambda broker: len(broker.results) >= n


def test_task_is_fitted_answered_and_acknowledged_with_heartbeats():
    broker, stats, session, results = serve([(task("t", [1, 2]), 0)], n_results(1),
                                            reco_options={"sleep_s": "0.5"}, session_kw={"heartbeat_s": 0.2})
    assert answered(results) == {1: "ok", 2: "ok"} and results[0].worker == "test-client"
    assert stats["tasks"] == 1 and stats["variations"] == 2 and not broker.tasks
    assert session.heartbeats >= 3


def test_redelivered_task_is_republished_as_single_variation_tasks_with_next_attempt():
    broker, stats, _, results = serve([(task("t", [1, 2, 3]), 1)], n_results(3))
    retries = [decode_task(b) for b in broker.published[1:]]
    assert [(t.task_id, t.attempt, [v.pixel_id for v in t.items]) for t in retries] == [
        ("t.r1.0", 2, [1]), ("t.r1.1", 2, [2]), ("t.r1.2", 2, [3])]
    assert sorted(r.task_id for r in results) == ["t.r1.0", "t.r1.1", "t.r1.2"]
    assert answered(results) == {1: "ok", 2: "ok", 3: "ok"}
    assert (stats["redelivered"], stats["retried"], stats["tasks"]) == (1, 1, 3)


def test_redelivery_after_max_attempts_is_answered_with_failures_naming_the_pixels():
    broker, stats, _, results = serve([(task("t", [4, 5], attempt=3), 1)], n_results(1), max_attempts=3)
    assert len(broker.published) == 1 and stats["given_up"] == 1 and stats["tasks"] == 0
    assert [f.id_tuple for f in results[0].failures] == [(8, 4, 0), (8, 5, 0)]
    assert "the client holding it died (after 3 attempts)" in results[0].failures[0].reason


def test_malformed_and_other_scans_tasks_are_dropped_and_acknowledged():
    tasks = [(b"\x00 not json", 0), (task("x", [1], scan_id="other-scan"), 0), (b'{"v": 99}', 0),
             (task("t", [7]), 0)]
    broker, stats, _, results = serve(tasks, stop_when=n_results(1))
    assert stats["rejected"] == 3 and answered(results) == {7: "ok"}
    assert broker.task_bodies() == []  # nothing came back when the session closed: all acknowledged


def test_stop_finishes_the_current_task_and_hands_back_unstarted_ones():
    tasks = [(task("a", [1]), 0), (task("b", [2], attempt=2), 0)]
    broker, stats, _, results = serve(tasks, reco_options={"sleep_s": "1"}, session_kw={"prefetch": 2},
                                      stop_when=lambda b: not b.tasks)
    assert answered(results) == {1: "ok"} and (stats["tasks"], stats["handed_back"]) == (1, 1)
    (back,) = broker.tasks
    assert back.previous == 0 and (decode_task(back.body).task_id, decode_task(back.body).attempt) == ("b", 2)


def test_stop_past_the_grace_time_kills_the_fit_and_hands_its_task_back():
    broker, stats, _, results = serve([(task("a", [1]), 0)], reco_options={"sleep_s": "60"},
                                      stop_when=lambda b: not b.tasks, shutdown_grace_s=0.5)
    assert results == [] and stats["handed_back"] == 1
    (back,) = broker.tasks
    assert back.previous == 0 and decode_task(back.body).attempt == 1


def test_reco_error_in_one_variation_fails_it_alone():
    broker, stats, _, results = serve([(task("t", [4, 5, 6]), 0)], n_results(1), reco="crash_dummy",
                                      reco_options={"probability": "0", "poison": "8:5"})
    got = answered(results)
    assert got[4] == got[6] == "ok" and "poison pixel nside 8 pixel 5" in got[5]
    assert len(results) == 1 and stats["retried"] == 0 and len(broker.published) == 1


def test_task_time_limit_kills_the_fit_retries_and_gives_up():
    broker, stats, _, results = serve([(task("t", [9]), 0)], n_results(1), reco_options={"sleep_s": "60"},
                                      task_time_limit_s=1.0, max_attempts=2)
    assert [decode_task(b).task_id for b in broker.published] == ["t", "t.r1.0"]
    assert answered(results) == {9: "task time limit of 1 s exceeded (after 2 attempts)"}
    assert (stats["retried"], stats["given_up"]) == (1, 1)


def test_a_scan_that_is_over_ends_the_client_at_once():
    broker = MemoryBroker()
    broker.finish(SCAN)
    stats = asyncio.run(ScanClient(MemorySession(broker, SCAN), ClientOptions(name="late")).run())
    assert not stats
