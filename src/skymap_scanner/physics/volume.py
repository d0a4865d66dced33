"""Where a straight line crosses a vertical prism (a detector's instrumented volume: a convex hull of
string positions in x-y [m] between two depths z [m])."""

from __future__ import annotations

import math

import numpy as np


def prism_chord(hull_xy: np.ndarray, z_range: tuple[float, float], point: np.ndarray,
          direction: np.ndarray) -> tuple[float, float] | None:
    """(s_in, s_out) [m] of the line point + s·direction inside the prism hull_xy × z_range (hull
    counter-clockwise), or None (Cyrus-Beck clipping)."""
    p, d = np.asarray(point, np.float64), np.asarray(direction, np.float64)
    lo, hi = -math.inf, math.inf
    if abs(d[2]) > 1e-12:
        s1, s2 = sorted(((z_range[0] - p[2]) / d[2], (z_range[1] - p[2]) / d[2]))
        lo, hi = max(lo, s1), min(hi, s2)
    elif not z_range[0] <= p[2] <= z_range[1]:
        return None
    edge = np.roll(hull_xy, -1, axis=0) - hull_xy
    normal = np.column_stack([edge[:, 1], -edge[:, 0]])  # outward for a counter-clockwise hull
    num = np.einsum("kj,kj->k", normal, p[:2] - hull_xy)
    den = normal @ d[:2]
    parallel = np.abs(den) < 1e-12
    if np.any(parallel & (num > 0)):
        return None
    s = -num[~parallel] / den[~parallel]
    entering = den[~parallel] < 0
    if np.any(entering):
        lo = max(lo, float(np.max(s[entering])))
    if np.any(~entering):
        hi = min(hi, float(np.min(s[~entering])))
    return (lo, hi) if lo < hi else None
