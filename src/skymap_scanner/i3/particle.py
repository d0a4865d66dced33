"""``I3Particle`` (class version 5; docs/i3-format.md §3.3) and its conversion to the event model."""

from __future__ import annotations

from dataclasses import dataclass

from skymap_scanner.event.model import Particle
from skymap_scanner.i3.archive import ArchiveReader, check_version
from skymap_scanner.i3.objects import read_nested_direction, read_nested_position

#: I3Particle::ParticleShape (dataclasses/public/dataclasses/physics/I3Particle.h)
SHAPES = {
    0: "Null", 10: "Primary", 20: "TopShower", 30: "Cascade", 31: "CascadeSegment",
    40: "InfiniteTrack", 50: "StartingTrack", 60: "StoppingTrack", 70: "ContainedTrack",
    80: "MCTrack",
}
#: IceCube energy-loss pdg codes (I3Particle.h)
LOSS_PDG = {
    -2000001001: "Brems", -2000001002: "DeltaE", -2000001003: "PairProd",
    -2000001004: "NuclInt", -2000001005: "MuPair", -2000001006: "Hadrons",
}
MUON_PDG = 13


@dataclass(frozen=True)
class I3ParticleData:
    """All stored fields of an ``I3Particle``: positions [m], angles [rad], time [ns],
    energy [GeV], length [m], speed [m/ns]."""

    major_id: int
    minor_id: int
    pdg: int
    shape: int
    fit_status: int
    x: float
    y: float
    z: float
    zenith: float
    azimuth: float
    time: float
    energy: float
    length: float
    speed: float
    location: int

    @property
    def shape_name(self) -> str:
        return SHAPES.get(self.shape, str(self.shape))

    def to_particle(self) -> Particle:
        return Particle(
            zenith=self.zenith, azimuth=self.azimuth, x=self.x, y=self.y, z=self.z,
            time=self.time, energy=self.energy, shape=self.shape_name,
        )


def read_particle_fields(r: ArchiveReader) -> I3ParticleData:
    """The v5 fields (after the class info, object id and frame-object base)."""
    minor_id = r.i32("minorID")
    major_id = r.u64("majorID")
    pdg, shape, fit_status = r.i32("pdgEncoding"), r.i32("shape"), r.i32("fitStatus")
    x, y, z = read_nested_position(r)
    zenith, azimuth = read_nested_direction(r)
    time, energy = r.f64("time"), r.f64("energy")
    length, speed = r.f64("length"), r.f64("speed")
    location = r.i32("locationType")
    return I3ParticleData(
        major_id, minor_id, pdg, shape, fit_status, x, y, z, zenith, azimuth, time, energy,
        length, speed, location,
    )


def read_particle(r: ArchiveReader, version: int) -> I3ParticleData:
    """``I3Particle`` as a frame object."""
    check_version(r, "I3Particle", version, (5,))
    return read_particle_fields(r)


def read_nested_particle(r: ArchiveReader) -> I3ParticleData:
    """``I3Particle`` as a member (e.g. in an ``I3MCTree``)."""
    check_version(r, "I3Particle", r.class_info("I3Particle"), (5,))
    r.frame_object_base()
    return read_particle_fields(r)
