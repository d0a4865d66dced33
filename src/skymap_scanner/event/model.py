"""The project's event model: what every reader (alert message, simulation, open file) produces.

Conventions (see ``docs/event-format.md``):

- positions in metres in the IceCube detector frame (z up, origin at 1948.07 m depth);
- times in ns, all in one time frame (relative to the event's readout window for real events);
- charges in photoelectrons (PE);
- zenith/azimuth in radians give the direction a particle comes *from*
  (travel direction p = -(sin z cos a, sin z sin a, cos z)).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

#: I3RecoPulse flag bits (IceTray dataclasses/public/dataclasses/physics/I3RecoPulse.h)
FLAG_LC = 1  # local coincidence (HLC)
FLAG_ATWD = 2
FLAG_FADC = 4

#: event types as written into results (upstream config / skyreader EventMetadata)
EVENT_TYPES = ("neutrino", "HESE", "EHE", "ESTRES", "simulated", "synthetic", "none")

#: well-known seed names
SEED_DIRECTION = "direction"  # online fit direction (e.g. OnlineL2 SplineMPE) — pointing seed
SEED_VERTEX = "vertex"  # vertex seed (e.g. VHESelfVeto / HESE vertex)
VERTEX_SHAPE = "VHESelfVetoVertex"  # Particle.shape of a VHESelfVeto vertex (online or computed)


#: a DOM's key is string * DOM_KEY_BASE + om (om < 1000 in IceCube)
DOM_KEY_BASE = 1000


def dom_key(string: np.ndarray | int, om: np.ndarray | int) -> np.ndarray:
    """int64 key of each DOM: ``string * 1000 + om``; keys sort like (string, om)."""
    return np.asarray(string, np.int64) * DOM_KEY_BASE + np.asarray(om, np.int64)


def dom_of_key(key: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """(string, om) of each DOM key (inverse of :func:`dom_key`)."""
    return np.divmod(np.asarray(key, np.int64), DOM_KEY_BASE)


#: run and event ids: non-negative and below this (they are written as 64-bit integers)
MAX_ID = 2**63
EVENT_TYPE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
#: event times accepted (MJD 33282 = 1950-01-01, 124593 = 2200-01-01)
MJD_RANGE = (33282.0, 124593.0)
#: largest |pulse time| accepted [ns]
MAX_ABS_TIME_NS = 1e12


class EventError(ValueError):
    """An event is malformed or inconsistent (the message names the field)."""


@dataclass(frozen=True)
class EventMetadata:
    """Identity of an event, as skyreader's ``EventMetadata`` (version 1)."""

    run_id: int
    event_id: int
    event_type: str
    mjd: float
    is_real_event: bool

    def __post_init__(self) -> None:
        for name in ("run_id", "event_id"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or isinstance(value, bool | np.bool_) or not (
                    0 <= value < MAX_ID):
                raise EventError(f"{name} must be an integer in [0, 2**63), got {value!r}")
        if not isinstance(self.event_type, str) or not EVENT_TYPE_PATTERN.fullmatch(self.event_type):
            shown = repr(self.event_type)[:80]
            raise EventError(f"event_type {shown}: use 1-64 characters from A-Z a-z 0-9 _ . + - "
                             "(it names the output files)")
        if not isinstance(self.is_real_event, bool | np.bool_):
            raise EventError(f"is_real_event must be true or false, got {self.is_real_event!r}")
        if self.is_real_event and not 100_000 <= self.run_id < 1_000_000:
            raise EventError(
                f"run_id {self.run_id}: a real event needs 100000 <= run_id < 1000000 (skyreader rule)"
            )
        if not math.isfinite(self.mjd) or not MJD_RANGE[0] <= self.mjd <= MJD_RANGE[1]:
            raise EventError(f"mjd must be finite and in [{MJD_RANGE[0]}, {MJD_RANGE[1]}] (1950-2200), got {self.mjd}")

    def __str__(self) -> str:
        """``run%08d.evt%012d.<type>``: names the cache folder and every output file."""
        return f"run{self.run_id:08d}.evt{self.event_id:012d}.{self.event_type}"


@dataclass(frozen=True)
class Particle:
    """A track/cascade hypothesis or truth. Missing values are NaN.

    zenith/azimuth [rad] (where it comes from), x/y/z [m], time [ns], energy [GeV].
    ``shape`` is free text such as "InfiniteTrack", "Cascade", "MCTrack".
    """

    zenith: float = math.nan
    azimuth: float = math.nan
    x: float = math.nan
    y: float = math.nan
    z: float = math.nan
    time: float = math.nan
    energy: float = math.nan
    shape: str = ""

    @property
    def has_direction(self) -> bool:
        return math.isfinite(self.zenith) and math.isfinite(self.azimuth)

    @property
    def has_vertex(self) -> bool:
        return all(math.isfinite(v) for v in (self.x, self.y, self.z))

    @property
    def position(self) -> np.ndarray:
        return np.array([self.x, self.y, self.z])


def _as(array: object, dtype: type | str, name: str) -> np.ndarray:
    """``array`` as a 1-d ``dtype`` array; numbers only (no strings, complex, objects), and integer
    columns only from integral values that fit (no silent truncation or wrap-around)."""
    try:
        src = np.asarray(array)
    except (TypeError, ValueError) as e:
        raise EventError(f"{name} must be an array of numbers ({e})") from None
    if src.dtype.kind not in "biuf":
        raise EventError(f"{name} must hold numbers, got {src.dtype} values")
    if src.ndim != 1:
        raise EventError(f"{name} must be one-dimensional, got shape {src.shape}")
    target = np.dtype(dtype)
    if target.kind in "iu" and len(src):
        info = np.iinfo(target)
        if src.dtype.kind == "f" and not np.all(np.isfinite(src) & (src == np.round(src))):
            raise EventError(f"{name} must hold integers")
        if src.min() < info.min or src.max() > info.max:
            raise EventError(f"{name} must lie in [{info.min}, {info.max}]")
    return np.ascontiguousarray(src.astype(target))


@dataclass(frozen=True)
class Pulses:
    """Pulses sorted by (string, om, time). Times [ns], charges [PE], flags = I3RecoPulse bits."""

    string: np.ndarray
    om: np.ndarray
    time: np.ndarray
    charge: np.ndarray
    flags: np.ndarray

    def __post_init__(self) -> None:
        cols = {
            "string": _as(self.string, np.int32, "pulses.string"),
            "om": _as(self.om, np.int32, "pulses.om"),
            "time": _as(self.time, np.float64, "pulses.time"),
            "charge": _as(self.charge, np.float64, "pulses.charge"),
            "flags": _as(self.flags, np.uint8, "pulses.flags"),
        }
        n = {len(v) for v in cols.values()}
        if len(n) != 1:
            raise EventError(f"pulse columns differ in length: { {k: len(v) for k, v in cols.items()} }")
        if not np.all(np.isfinite(cols["time"])):
            raise EventError("pulses.time contains NaN or inf")
        if not np.all(np.isfinite(cols["charge"])):
            raise EventError("pulses.charge contains NaN or inf")
        if np.any(np.abs(cols["time"]) > MAX_ABS_TIME_NS):
            raise EventError(f"pulses.time beyond ±{MAX_ABS_TIME_NS:g} ns")
        if np.any(cols["charge"] < 0):
            raise EventError("pulses.charge holds negative values")
        order = np.lexsort((cols["time"], cols["om"], cols["string"]))
        for k, v in cols.items():
            object.__setattr__(self, k, v[order])

    def __len__(self) -> int:
        return len(self.time)

    def select(self, mask: np.ndarray) -> Pulses:
        return Pulses(self.string[mask], self.om[mask], self.time[mask], self.charge[mask],
                      self.flags[mask])

    @property
    def hlc(self) -> np.ndarray:
        """Boolean mask of hard-local-coincidence pulses."""
        return (self.flags & FLAG_LC) != 0

    @property
    def n_channels(self) -> int:
        """Number of distinct hit DOMs."""
        return len(np.unique(self.dom_keys()))

    def dom_keys(self) -> np.ndarray:
        """One int64 key per pulse (:func:`dom_key`)."""
        return dom_key(self.string, self.om)

    def first_per_dom(self) -> np.ndarray:
        """Index of each hit DOM's first pulse, in (string, om) order (pulses are sorted by time
        within a DOM); consecutive indices bound each DOM's pulses (``np.add.reduceat``)."""
        keys = self.dom_keys()
        return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.empty(0, np.int64)

    @classmethod
    def empty(cls) -> Pulses:
        return cls(*(np.empty(0) for _ in range(5)))


@dataclass(frozen=True)
class Geometry:
    """DOM positions [m]: one row per (string, om), sorted by (string, om)."""

    string: np.ndarray
    om: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        cols = {
            "string": _as(self.string, np.int32, "geometry.string"),
            "om": _as(self.om, np.int32, "geometry.om"),
            "x": _as(self.x, np.float64, "geometry.x"),
            "y": _as(self.y, np.float64, "geometry.y"),
            "z": _as(self.z, np.float64, "geometry.z"),
        }
        if len({len(v) for v in cols.values()}) != 1:
            raise EventError("geometry columns differ in length")
        order = np.lexsort((cols["om"], cols["string"]))
        for k, v in cols.items():
            object.__setattr__(self, k, v[order])
        keys = self.keys()
        if len(keys) and np.any(np.diff(keys) == 0):
            raise EventError("geometry lists a (string, om) twice")

    def __len__(self) -> int:
        return len(self.x)

    def keys(self) -> np.ndarray:
        """The DOM key (:func:`dom_key`) of each row, ascending."""
        return dom_key(self.string, self.om)

    def positions(self) -> np.ndarray:
        """(N, 3) array of DOM positions [m]."""
        return np.column_stack([self.x, self.y, self.z])

    def lookup(self, string: np.ndarray, om: np.ndarray) -> np.ndarray:
        """Positions (N, 3) of the given DOMs; raises EventError naming a DOM that is missing."""
        want = dom_key(string, om)
        keys = self.keys()
        idx = np.searchsorted(keys, want)
        idx_c = np.clip(idx, 0, max(len(keys) - 1, 0))
        missing = (len(keys) == 0) | (keys[idx_c] != want) if len(keys) else np.ones(len(want), bool)
        if np.any(missing):
            bad_string, bad_om = dom_of_key(want[missing][0])
            raise EventError(
                f"DOM ({bad_string}, {bad_om}) has no position in the geometry ({self.source or 'unnamed'})"
            )
        return self.positions()[idx_c]


@dataclass(frozen=True)
class Event:
    """One event to scan: pulses, the geometry they need, metadata, seeds and (simulation) truth.

    ``seeds`` maps a name to a Particle: ``SEED_DIRECTION`` (online fit direction, used for pointed
    scans and as the dummy's minimum) and ``SEED_VERTEX`` (vertex seed) are well-known names; readers
    may keep further fits under their original key names. ``truth`` holds MC truth (e.g. "primary",
    "muon"); ``truth_losses`` is an (N, 5) array of stochastic losses (x, y, z [m], time [ns],
    energy [GeV]). ``realtime_version`` is the alert format version ("2021a", ...) or "".
    Simulation extras (optional): ``truth_loss_types`` names the kind of each loss (e.g. "em",
    "hadronic", "pair", "radiative"), one per row of ``truth_losses``; ``truth_info`` holds scalar
    truth (interaction type, neutrino energy, inelasticity, deposited energies, ...): str, int, float,
    bool or None values.
    """

    metadata: EventMetadata
    pulses: Pulses
    geometry: Geometry
    seeds: dict[str, Particle] = field(default_factory=dict)
    truth: dict[str, Particle] = field(default_factory=dict)
    truth_losses: np.ndarray | None = None
    realtime_version: str = ""
    source: str = ""
    truth_info: dict[str, str | int | float | bool | None] = field(default_factory=dict)
    truth_loss_types: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.pulses) == 0:
            raise EventError(f"event {self.metadata} has no pulses")
        self.geometry.lookup(self.pulses.string, self.pulses.om)  # every hit DOM needs a position
        if self.truth_losses is not None:
            losses = np.asarray(self.truth_losses, np.float64)
            if losses.ndim != 2 or losses.shape[1] != 5:
                raise EventError("truth_losses must have shape (N, 5): x, y, z, time, energy")
            object.__setattr__(self, "truth_losses", losses)
        if self.truth_loss_types is not None:
            types = tuple(str(t) for t in self.truth_loss_types)
            if self.truth_losses is None or len(types) != len(self.truth_losses):
                raise EventError("truth_loss_types needs one entry per row of truth_losses")
            object.__setattr__(self, "truth_loss_types", types)
        for key, value in self.truth_info.items():
            if not isinstance(key, str) or not (value is None or isinstance(value, (str, int, float, bool))):
                raise EventError(f"truth_info[{key!r}] must be a str, int, float, bool or None")

    def hit_positions(self) -> np.ndarray:
        """(N, 3) position of the DOM of each pulse [m]."""
        return self.geometry.lookup(self.pulses.string, self.pulses.om)
