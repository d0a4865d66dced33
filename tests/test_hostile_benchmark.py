"""The hostile-inputs benchmark (``benchmarks/hostile_inputs.py``, issue 18): its generator yields at
least 200 cases without the shared data, and the fast classes (wire messages, authentication,
options) end in no traceback and no hang. Each case still runs in a forked, memory-capped child."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import load_benchmark, shared_data_dir

FAST_CLASSES = ("wire", "auth", "options")


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("hostile_inputs")


@pytest.fixture(scope="module")
def cases(bench, tmp_path_factory):
    """Every generated class but ``decoder`` (its bombs take seconds to compress), no shared data."""
    classes = tuple(k for k in bench.CLASSES if k != "decoder")
    return bench.generate_cases(tmp_path_factory.mktemp("hostile"), classes=classes)


def test_generator_yields_200_cases_without_shared_data(bench, cases):
    assert len(cases) >= 200
    assert set(Counter(c.klass for c in cases)) == set(bench.CLASSES) - {"decoder"}
    assert len({(c.klass, c.name) for c in cases}) == len(cases)
    assert {c.expect for c in cases} <= {"refuse", "accept", "either"}
    assert all(c.target in bench.TARGETS for c in cases)
    assert all(Path(c.path).exists() or c.name == "missing" for c in cases)


def test_corpus_files_are_cases(bench):
    corpus = shared_data_dir() / "hostile-inputs"
    if not corpus.is_dir():
        pytest.skip(f"no hostile-inputs corpus at {corpus} (set SKYSCAN_TEST_DATA)")
    cases = bench.corpus_cases(corpus)
    assert len(cases) == sum(1 for p in corpus.iterdir() if p.is_file() and p.name != "README.md")
    assert {c.klass for c in cases} <= set(bench.CLASSES)


def test_fast_classes_end_cleanly(bench, cases):
    bench.prepare_parent(None)
    rows = list(bench.run_cases([c for c in cases if c.klass in FAST_CLASSES], time_limit=20.0))
    summary = bench.summarize(rows)["all"]
    bad = [f"{r['klass']}/{r['name']}: {r['outcome']} {r['error']}: {r['message']}" for r in rows
           if r["outcome"] in ("traceback", "hang", "over_budget")]
    assert not bad, "\n".join(bad)
    assert summary["accepted"] >= 10  # the valid messages and settings of each class load
    assert summary["clear_error"] >= 100


def test_runner_reports_hang_and_traceback(bench, tmp_path, monkeypatch):
    """The runner's own classification: a case that sleeps is a hang, any other exception a traceback."""
    def sleeper(path: Path) -> None:
        import time

        time.sleep(10)

    def crasher(path: Path) -> None:
        raise KeyError("boom")

    monkeypatch.setitem(bench.TARGETS, "task", sleeper)
    monkeypatch.setitem(bench.TARGETS, "result", crasher)
    path = tmp_path / "x"
    path.write_bytes(b"{}")
    hang = bench.run_case(bench.Case("sleeps", "wire", "task", str(path)), time_limit=0.5)
    crash = bench.run_case(bench.Case("crashes", "wire", "result", str(path)), time_limit=5.0)
    assert hang["outcome"] == "hang"
    assert crash["outcome"] == "traceback" and crash["error"] == "KeyError"
