"""Neutrino interactions in the simulation (issue 15): cascades, starting tracks, truth.

The fingerprints below were taken with the simulator *before* interactions were added
(``simulate_event(SimulationConfig(energy_gev=1e5), seed, 0)``, seeds 1-3): the muon simulation must
stay bit-for-bit the same.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from skymap_scanner.simulation import SimulationConfig, simulate_event

MUON_FINGERPRINTS = {
    1: (1133, "34eaaf68f26f1d25db4b1f3205ea05c9c9adb2a3da1561e6e6aee0cb2a8513a9"),
    2: (1854, "2ee3575e8957930d321584927cec1f6719231de7210e1e69391365af2d250c91"),
    3: (4757, "8ea6113faf7381eccd1a8c58169cd8356b5f725807cb3627c61cffbaea1b674c"),
}


def _fingerprint(event) -> tuple[int, str]:
    p = event.pulses
    h = hashlib.sha256()
    for a in (p.time, p.charge, p.string, p.om):
        h.update(np.ascontiguousarray(a, np.float64).tobytes())
    return len(p), h.hexdigest()


@pytest.mark.parametrize("seed", sorted(MUON_FINGERPRINTS))
def test_muon_events_unchanged(seed):
    assert _fingerprint(simulate_event(SimulationConfig(energy_gev=1e5), seed, 0)) == MUON_FINGERPRINTS[seed]
