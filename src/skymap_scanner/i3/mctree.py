"""``I3MCTree`` (class version 1; docs/i3-format.md §7): simulation truth.

Chunks of (u32 numBits, u32 nblocks, nblocks × u64 mask words, one ``I3Particle`` per set bit);
another chunk follows only when numBits == 65535. The bits encode a pre-order walk of the tree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skymap_scanner.i3.archive import ArchiveReader, check_version
from skymap_scanner.i3.particle import LOSS_PDG, MUON_PDG, I3ParticleData, read_nested_particle

#: a chunk holding this many bits is followed by another chunk
FULL_CHUNK_BITS = 65535


@dataclass(frozen=True)
class MCTree:
    """Particles in pre-order with the index of each one's parent (-1 for a primary)."""

    particles: tuple[I3ParticleData, ...]
    parents: tuple[int, ...]

    def primaries(self) -> list[int]:
        return [i for i, p in enumerate(self.parents) if p < 0]

    def children(self, index: int) -> list[int]:
        return [i for i, p in enumerate(self.parents) if p == index]

    def leading_muon(self) -> int | None:
        """Index of the most energetic (anti)muon, or ``None``."""
        muons = [i for i, p in enumerate(self.particles) if abs(p.pdg) == MUON_PDG]
        return max(muons, key=lambda i: self.particles[i].energy) if muons else None

    def losses(self, index: int) -> np.ndarray:
        """(N, 5) stochastic losses among the children of ``index``: x, y, z [m], time [ns],
        energy [GeV]."""
        rows = [(p.x, p.y, p.z, p.time, p.energy)
                for p in (self.particles[i] for i in self.children(index)) if p.pdg in LOSS_PDG]
        return np.array(rows, np.float64).reshape(-1, 5)


def _read_chunk(r: ArchiveReader, num_bits: int) -> tuple[np.ndarray, list[I3ParticleData]]:
    at = r.pos
    nblocks = r.count(8, "I3MCTree mask blocks")
    if nblocks * 64 < num_bits:
        r.fail(f"I3MCTree: {nblocks} mask words cannot hold {num_bits} bits", at)
    words = r.array("<u8", nblocks, "I3MCTree mask words")
    bits = np.unpackbits(words.view(np.uint8), bitorder="little")[:num_bits].astype(bool)
    return bits, [read_nested_particle(r) for _ in range(int(bits.sum()))]


def _walk(bits: np.ndarray, r: ArchiveReader) -> list[int]:
    """Parent index of each node from the pre-order bits (bit 0 is the first primary)."""
    if not len(bits):
        return []
    if not bits[0]:
        r.fail("I3MCTree: the first walk bit must create the root")
    parents = [-1]
    node, first_child = 0, True
    for i, bit in enumerate(bits[1:].tolist(), start=1):
        if bit:
            parents.append(node if first_child else parents[node])
            node, first_child = len(parents) - 1, True
        elif first_child:
            first_child = False
        elif parents[node] >= 0:
            node = parents[node]
        elif i != len(bits) - 1:
            r.fail(f"I3MCTree: the walk ends at bit {i} of {len(bits)}")
        else:
            return parents
    r.fail("I3MCTree: the walk bits end inside the tree")


def read_mctree(r: ArchiveReader, version: int) -> MCTree:
    check_version(r, "I3MCTree", version, (1,))
    bits, particles = [], []
    while True:
        num_bits = r.u32("I3MCTree bit count")
        if num_bits == 0:
            break
        chunk_bits, chunk_particles = _read_chunk(r, num_bits)
        bits.append(chunk_bits)
        particles += chunk_particles
        if num_bits != FULL_CHUNK_BITS:
            break
    parents = _walk(np.concatenate(bits) if bits else np.zeros(0, bool), r)
    return MCTree(tuple(particles), tuple(parents))
