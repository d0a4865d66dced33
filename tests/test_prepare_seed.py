"""``with_vertex_seed``: the VHESelfVeto vertex seed every scan's preparation adds."""

from dataclasses import replace

import numpy as np

from skymap_scanner.event.model import (
    FLAG_LC,
    SEED_VERTEX,
    VERTEX_SHAPE,
    Event,
    EventMetadata,
    Geometry,
    Particle,
    Pulses,
)
from skymap_scanner.prepare.seed_vertex import with_vertex_seed
from skymap_scanner.recos import get_reco_class
from skymap_scanner.simulation.synthetic import synthetic_event


def _event(charge: float, seeds: dict[str, Particle] | None = None) -> Event:
    """Three HLC pulses on three DOMs of one string, 100 ns apart, ``charge`` PE each."""
    geometry = Geometry([1, 1, 1], [1, 2, 3], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [10.0, 0.0, -10.0])
    pulses = Pulses([1, 1, 1], [1, 2, 3], [100.0, 200.0, 300.0], [charge] * 3, [FLAG_LC] * 3)
    return Event(EventMetadata(1, 2, "synthetic", 60000.0, False), pulses, geometry, seeds=seeds or {})


def test_adds_the_vertex_when_the_event_has_none():
    event = _event(100.0, {"other": Particle(zenith=1.0, azimuth=2.0)})
    vertex = with_vertex_seed(event).seeds[SEED_VERTEX]
    # 250 PE are passed at the third pulse: time 300 ns, charge-weighted mean of the three DOMs
    assert (vertex.x, vertex.y, vertex.z, vertex.time, vertex.shape) == (0.0, 0.0, 0.0, 300.0, VERTEX_SHAPE)
    assert with_vertex_seed(event).seeds["other"] == event.seeds["other"]
    assert SEED_VERTEX not in event.seeds  # the input is not modified


def test_keeps_a_vertex_seed_and_replaces_one_without_position():
    event = _event(100.0, {SEED_VERTEX: Particle(x=1.0, y=2.0, z=3.0, time=4.0)})
    assert with_vertex_seed(event) is event
    no_position = replace(event, seeds={SEED_VERTEX: Particle(time=4.0)})
    assert with_vertex_seed(no_position).seeds[SEED_VERTEX].shape == VERTEX_SHAPE


def test_no_vertex_below_every_threshold():
    event = _event(1.0)  # 3 PE in total: below 250 PE and 5 PE
    assert with_vertex_seed(event) is event


def test_every_reco_prepares_with_the_seed():
    event = synthetic_event()
    bare = replace(event, seeds={k: v for k, v in event.seeds.items() if k != SEED_VERTEX})
    expected = with_vertex_seed(bare).seeds[SEED_VERTEX]
    for name in ("dummy", "mpe_pandel"):
        cls = get_reco_class(name)
        prepared = cls.prepare_event(bare, cls.parse_options({}))
        assert prepared.seeds[SEED_VERTEX] == expected, name
        assert np.array_equal(cls.seed(prepared).position, expected.position)
