"""Inputs that used to exhaust memory or hang are refused at once, with an error naming them."""

import os
import time

import pytest

from skymap_scanner.i3.geometry import GeometryError, read_geometry_table
from skymap_scanner.recos import RecoError, get_reco_class
from skymap_scanner.settings import SettingsError, load_settings


def test_geometry_from_a_device_or_fifo_is_refused(tmp_path):
    with pytest.raises(GeometryError, match="/dev/zero: not a regular file"):
        read_geometry_table("/dev/zero")
    fifo = tmp_path / "table.csv"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(GeometryError, match="not a regular file"):
        read_geometry_table(fifo)
    assert time.monotonic() - start < 1.0  # no hang waiting for a writer


def test_oversized_geometry_table_is_refused(tmp_path):
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(65 * 1024 * 1024)  # sparse: no disk used
    with pytest.raises(GeometryError, match="more than a geometry table"):
        read_geometry_table(big)


@pytest.mark.parametrize("value", ["100000000", "-3", "0"])
def test_dummy_variations_are_bounded(value):
    with pytest.raises(RecoError, match="variations"):
        get_reco_class("dummy").parse_options({"variations": value})


def test_batch_size_is_bounded_by_the_wire_limit():
    assert load_settings(batch_size=5000).batch_size == 5000
    with pytest.raises(SettingsError, match="batch_size"):
        load_settings(batch_size=100_000)
