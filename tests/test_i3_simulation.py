"""Simulation files: pulses and MC truth (docs/i3-format.md §7, §12), and I3MCTree built from the spec."""

from __future__ import annotations

import i3_bytes as b
import numpy as np
import pytest

from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.frame import FrameEntry
from skymap_scanner.i3.mctree import MCTree
from skymap_scanner.i3.registry import decode_entry
from skymap_scanner.i3.simulation import read_i3_events

MUONGUN = "oscNext_muongun_level3_v02_first_5_frames.i3.gz"
GENIE = "oscNext_genie_level7_v02_first_5_frames.i3.gz"
#: event id: split in-ice pulses, DOMs, Q [PE]; true muon (zenith, azimuth) [rad]
MUONGUN_GOLDEN = {34: (46, 38, 43.0, 1.0175, 1.8318), 81: (113, 96, 100.5, 0.9554, 6.1381),
                  167: (42, 38, 61.0, 1.0171, 0.9390), 174: (49, 45, 45.3, 0.1835, 1.8089),
                  215: (65, 58, 62.4, 0.2963, 6.0767)}
# ice model for the direct-light time of the true muon (docs/physics.md): group/phase refractive index
C_VACUUM, N_PHASE, N_GROUP = 0.299792458, 1.3195, 1.3564


def mctree_blob(bits: list[int], particles: list[tuple[int, float]]) -> bytes:
    a = b.Archive().prologue("I3MCTree", 1).pack("II", len(bits), 1)
    a.pack("Q", sum(bit << i for i, bit in enumerate(bits)))
    for pdg, energy in particles:
        a.particle(pdg, 0, (1.0, 2.0, 3.0), (0.1, 0.2), 50.0, energy)
    return a.bytes()  # a chunk of fewer than 65535 bits is the last one


def decode(blob: bytes):
    return decode_entry(FrameEntry("I3MCTree", "TreeBase::Tree<I3Particle,...>", blob, 0), "Q frame #2")


def test_mctree_preorder_walk():
    # R ─ A ─ A1 ; R ─ B   (bits: create A, create A1, A1 done, back to A, sibling B, B done, up, stop)
    tree = decode(mctree_blob([1, 1, 1, 0, 0, 1, 0, 0, 0], [(14, 10.0), (13, 5.0), (-2000001002, 1.0), (2212, 2.0)]))
    assert isinstance(tree, MCTree) and tree.parents == (-1, 0, 1, 0)
    assert tree.primaries() == [0] and tree.children(0) == [1, 3]
    assert tree.leading_muon() == 1
    assert tree.losses(1).tolist() == [[1.0, 2.0, 3.0, 50.0, 1.0]]
    assert decode(b.Archive().prologue("I3MCTree", 1).pack("I", 0).bytes()).particles == ()


@pytest.mark.parametrize("bits, reason", [([1, 1, 0], "end inside the tree"), ([1, 0, 0, 1, 0, 0], "ends at bit 2"),
                                          ([0, 1], "must create the root")])
def test_malformed_trees(bits, reason):
    particles = [(13, 1.0)] * sum(bits)
    with pytest.raises(I3DecodeError, match=reason):
        decode(mctree_blob(bits, particles))


def test_mctree_mask_words_too_short():
    blob = b.Archive().prologue("I3MCTree", 1).pack("IIQ", 100, 1, 1).bytes()
    with pytest.raises(I3DecodeError, match="cannot hold 100 bits"):
        decode(blob)
    with pytest.raises(I3DecodeError, match="unsupported I3MCTree class version 0"):
        decode(b.Archive().prologue("I3MCTree", 0).pack("I", 0).bytes())


@pytest.fixture(scope="module")
def muongun(shared_data, geometry_table):
    return list(read_i3_events(shared_data / "simulation" / MUONGUN, geometry_table=geometry_table))


@pytest.mark.shared_data
def test_muongun_events_and_truth(muongun):
    assert [e.metadata.event_id for e in muongun] == list(MUONGUN_GOLDEN)
    for event in muongun:
        n, nch, q, zenith, azimuth = MUONGUN_GOLDEN[event.metadata.event_id]
        assert (len(event.pulses), event.pulses.n_channels) == (n, nch)
        assert event.pulses.charge.sum() == pytest.approx(q, abs=0.05)
        muon = event.truth["muon"]
        assert (muon.zenith, muon.azimuth) == pytest.approx((zenith, azimuth), abs=1e-4)
        assert 200 < muon.energy < 410 and muon.shape in ("Null", "MCTrack", "StartingTrack")
        assert event.truth["primary"].shape == "Primary"
        assert event.truth_losses.shape[1] == 5 and len(event.truth_losses) > 0
        assert event.metadata.run_id == 130000 and not event.metadata.is_real_event
        assert event.metadata.event_type == "simulated" and event.metadata.mjd > 56000


def _direct_time(event) -> np.ndarray:
    """Direct-Cherenkov arrival time [ns] of the true muon's light at each hit DOM."""
    m = event.truth["muon"]
    travel = -np.array([np.sin(m.zenith) * np.cos(m.azimuth), np.sin(m.zenith) * np.sin(m.azimuth),
                        np.cos(m.zenith)])
    v = event.hit_positions() - m.position
    along = v @ travel
    rho = np.linalg.norm(v - np.outer(along, travel), axis=1)
    theta = np.arccos(1 / N_PHASE)
    return m.time + (along - rho / np.tan(theta)) / C_VACUUM + rho / np.sin(theta) * N_GROUP / C_VACUUM


@pytest.mark.shared_data
def test_truth_times_share_the_pulses_time_frame(muongun):
    # the Q frame's TimeShift (thousands of ns) is already applied: residuals stay within ~0.5 µs
    for event in muongun:
        first = event.pulses.first_per_dom()
        residual = np.median((event.pulses.time - _direct_time(event))[first])
        assert 0 < residual < 600


@pytest.mark.shared_data
def test_genie_events(shared_data, geometry_table):
    events = list(read_i3_events(shared_data / "simulation" / GENIE, geometry_table=geometry_table))
    assert [e.metadata.event_id for e in events] == [2, 30, 32, 56, 62]
    for event in events:
        assert 29 <= len(event.pulses) <= 45 and 23 <= event.pulses.n_channels <= 33
        primary, muon = event.truth["primary"], event.truth["muon"]
        assert 1.5 <= primary.energy <= 4.7 and 0 < muon.energy < primary.energy
        assert "SPEFit2" not in event.seeds or event.seeds["SPEFit2"].has_direction


@pytest.mark.shared_data
def test_simulation_needs_geometry_and_a_known_pulse_key(shared_data, geometry_table):
    with pytest.raises(I3DecodeError, match="no geometry"):
        next(read_i3_events(shared_data / "simulation" / MUONGUN))
    with pytest.raises(I3DecodeError, match="no pulse series 'Nope'"):
        next(read_i3_events(shared_data / "simulation" / MUONGUN, geometry_table=geometry_table, pulses_key="Nope"))


def test_load_event_opens_i3_files(shared_data, geometry_table):
    from skymap_scanner.event.io import EventFileError
    from skymap_scanner.io.events import load_event

    path = next((shared_data / "simulation").glob("oscNext_muongun_*.i3.gz"))
    event = load_event(path, geometry_table=geometry_table, event_index=1)
    assert event.metadata.event_type == "simulated" and "muon" in event.truth
    with pytest.raises(EventFileError, match="physics frame number 99"):
        load_event(path, geometry_table=geometry_table, event_index=99)
