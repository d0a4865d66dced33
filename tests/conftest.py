"""Shared test fixtures.

Real data live in ``../shared/data`` (override with ``SKYSCAN_TEST_DATA``). Tests that need them use the
``shared_data`` fixture: they skip with a clear reason when the folder is absent, unless
``SKYSCAN_REQUIRE_SHARED_DATA=1`` (set by ``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_benchmark(name: str) -> ModuleType:
    """The module ``benchmarks/<name>.py`` (benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def shared_data_dir() -> Path:
    return Path(os.environ.get("SKYSCAN_TEST_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the shared real-data folder (events/, reference/, geometry/, simulation/)."""
    path = shared_data_dir()
    if not (path / "events").is_dir():
        msg = f"shared data folder {path} is absent (set SKYSCAN_TEST_DATA)"
        if os.environ.get("SKYSCAN_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(msg + " and SKYSCAN_REQUIRE_SHARED_DATA=1 forbids skipping")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def geometry_table(shared_data: Path) -> Path:
    return shared_data / "geometry" / "icecube86.csv"


# real RabbitMQ / NATS brokers (started on 127.0.0.1 when none answers): see tests/brokers.py
from brokers import broker_url, nats_url, rabbitmq_url  # noqa: E402, F401
