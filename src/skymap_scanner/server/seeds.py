"""Seeds for each pixel: direction, base vertex from the coarser parent, rotated variations.

Upstream ``PixelsToReco`` (``docs/upstream-behaviour.md`` §6) with defect D3 fixed: every
pixel rotates a fresh copy of the same base pattern.
"""

from __future__ import annotations

import math

import numpy as np

from skymap_scanner.event.model import Particle
from skymap_scanner.pixels.choose import parent_best, radec_of_pixels
from skymap_scanner.pixels.types import NSidesDict, Pixel, PixelVariation
from skymap_scanner.sky import direction_vector, equa_to_dir


def rotation_to(directions: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations R = Rz(phi) Ry(theta) taking +z onto each unit travel direction."""
    theta = np.arccos(np.clip(directions[:, 2], -1.0, 1.0))
    phi = np.arctan2(directions[:, 1], directions[:, 0])
    ct, st, cp, sp = np.cos(theta), np.sin(theta), np.cos(phi), np.sin(phi)
    zero = np.zeros_like(ct)
    return np.stack([
        np.stack([cp * ct, -sp, cp * st], axis=-1),
        np.stack([sp * ct, cp, sp * st], axis=-1),
        np.stack([-st, zero, ct], axis=-1),
    ], axis=-2)


def build_variations(
    pixels: list[Pixel],
    collected: NSidesDict,
    first_nside: int,
    event_seed: Particle,
    mjd: float,
    variations: np.ndarray,
    rotate: bool,
    add_fallback: bool,
) -> list[PixelVariation]:
    """Every (pixel, variation) request of a round, variations of a pixel back to back."""
    if not pixels:
        return []
    nside = np.array([p[0] for p in pixels])
    pix = np.array([p[1] for p in pixels])
    ra = np.empty(len(pixels))
    dec = np.empty(len(pixels))
    for n in np.unique(nside):
        sel = nside == n
        ra[sel], dec[sel] = radec_of_pixels(int(n), pix[sel])
    zenith, azimuth = equa_to_dir(ra, dec, mjd)
    offsets = np.broadcast_to(variations, (len(pixels), *variations.shape))
    if rotate:
        offsets = np.einsum("nij,vj->nvi", rotation_to(direction_vector(zenith, azimuth)), variations)
    seed_pos = event_seed.position
    out: list[PixelVariation] = []
    for i, (n, p) in enumerate(pixels):
        parent = parent_best(collected, n, float(ra[i]), float(dec[i]), first_nside)
        if parent is not None:
            base = np.array([parent.x, parent.y, parent.z])
            t, energy = parent.time, parent.energy
        else:
            base, t, energy = seed_pos, event_seed.time, math.nan
        fallback = add_fallback and not np.allclose(base, seed_pos)
        for k, off in enumerate(offsets[i]):
            pos = base + off
            fb = seed_pos + off if fallback else (math.nan,) * 3
            out.append(PixelVariation(
                n, p, k, float(ra[i]), float(dec[i]), float(zenith[i]), float(azimuth[i]),
                float(pos[0]), float(pos[1]), float(pos[2]), float(t), float(energy),
                float(fb[0]), float(fb[1]), float(fb[2]),
                float(event_seed.time) if fallback else math.nan,
            ))
    return out
