"""Reading IceCube data without IceTray: alert messages, ``.i3`` files, frames and frame objects.

Entry points: :func:`skymap_scanner.i3.alert.read_alert_event` (alert ``.json``/``.pkl`` →
``Event``), :func:`skymap_scanner.i3.simulation.read_i3_events` (``.i3`` simulation → events with
MC truth), :func:`skymap_scanner.i3.files.iter_frames` (frames of any ``.i3`` file); DOM positions from a GCD
file or a DOM table with :mod:`skymap_scanner.i3.geometry`. Decoders only decode:
seeds computed from the pulses are added in preparation (``skymap_scanner.prepare``). Every decoding
problem raises :class:`I3DecodeError`. The byte-level specification is ``docs/i3-format.md``.
"""

from skymap_scanner.i3.errors import I3DecodeError

__all__ = ["I3DecodeError"]
