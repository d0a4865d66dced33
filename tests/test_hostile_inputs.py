"""Every file of the hostile-inputs corpus (issue 18, ask 3) either loads or fails with the project's
own error type naming the file, never another exception, never more than 1 GiB RSS, never more
than 30 s. Each file runs through the hostile-inputs benchmark's runner (``benchmarks/hostile_inputs.py``):
a forked child whose address space is capped a little above the budget and whose peak RSS is measured
with ``wait4``, classified against the file's expected outcome (refuse / accept)."""

from __future__ import annotations

import pytest
from conftest import load_benchmark, shared_data_dir

CORPUS = shared_data_dir() / "hostile-inputs"
MAX_SECONDS = 30.0

BENCH = load_benchmark("hostile_inputs")
CASES = BENCH.corpus_cases(CORPUS) if CORPUS.is_dir() else []


@pytest.fixture(scope="module", autouse=True)
def _imported(shared_data):
    """Import what the loaders need once, before forking (children then start at once)."""
    BENCH.prepare_parent(shared_data / "geometry" / "icecube86.csv")


@pytest.mark.parametrize("case", CASES or [None], ids=[c.name for c in CASES] or ["no-corpus"])
def test_hostile_input_loads_or_fails_cleanly(case, shared_data):
    if case is None:
        pytest.fail(f"no hostile-inputs corpus at {CORPUS}")
    row = BENCH.run_case(case, time_limit=MAX_SECONDS)
    where = f"{case.name}: {row['outcome']} ({row['error']}: {row['message']}, {row['where']})"
    assert row["outcome"] in BENCH.CLEAN, where
    assert row["peak_rss_mib"] * BENCH.MIB < BENCH.BUDGET_BYTES, where
    if row["outcome"] == "clear_error":
        assert case.path.rsplit("/", 1)[-1] in row["message"], f"the error does not name the file: {where}"
