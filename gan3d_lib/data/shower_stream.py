"""Training showers in memory or streamed from HDF5 files, in the same seeded order.

The showers of all files are numbered 0..N-1 in file order and cut into chunks of
``chunk_showers`` consecutive showers. An epoch's order (:func:`epoch_order`): if every chunk
fits in one shuffle buffer of ``buffer_chunks`` chunks, a plain permutation of all N showers
(the order the shipped generators were trained with); otherwise the chunks are permuted and
taken ``buffer_chunks`` at a time, and the showers of each group are permuted. Batches are
consecutive slices of that order, so a batch never needs more than two groups in memory.

:class:`TrainingShowers` gives the same batches whether it holds every shower in memory
(small sets: faster) or reads the chunks of the current group from disk (sets larger than
``max_in_memory_gb``): the order depends only on the seed, the epoch and the chunking.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np

from .io import DEFAULT_ENERGY_RANGE_GEV, SHOWER_SHAPE, open_shower_file, expand_paths, inspect_shower_file

__all__ = ["epoch_order", "TrainingShowers"]


def epoch_order(n: int, seed: int, epoch: int, *, chunk_showers: int, buffer_chunks: int) -> np.ndarray:
    """(n,) shower indices of one epoch (see the module docstring)."""
    rng = np.random.default_rng([seed, epoch])
    n_chunks = -(-n // chunk_showers)
    if n_chunks <= buffer_chunks:
        return rng.permutation(n)
    chunks = rng.permutation(n_chunks)
    parts = []
    for g in range(0, n_chunks, buffer_chunks):
        rows = np.concatenate([np.arange(c * chunk_showers, min(n, (c + 1) * chunk_showers))
                               for c in chunks[g:g + buffer_chunks]])
        parts.append(rows[rng.permutation(len(rows))])
    return np.concatenate(parts)


class TrainingShowers:
    """The showers of ``paths`` (files or globs, 3DGAN layout) for training.

    ``energies`` (N,) GeV and ``longitudinal_profiles`` (N, 25) GeV are always in memory
    (one pass over the files, which also validates every value); the cells are kept in
    memory only if they take at most ``max_in_memory_gb`` (float32), else read by chunk.
    """

    def __init__(self, paths: str | os.PathLike | Sequence[str | os.PathLike], *, chunk_showers: int = 1024,
                 buffer_chunks: int = 20, max_in_memory_gb: float = 2.0,
                 energy_range_gev: tuple[float, float] | None = DEFAULT_ENERGY_RANGE_GEV):
        from .io import iter_shower_batches
        from ..physics.observables import longitudinal_profile

        if chunk_showers < 1 or buffer_chunks < 1:
            raise ValueError(f"chunk_showers and buffer_chunks must be >= 1, got {chunk_showers}, {buffer_chunks}")
        self.files = expand_paths(paths)
        self.infos = [inspect_shower_file(p) for p in self.files]
        self.chunk_showers, self.buffer_chunks = chunk_showers, buffer_chunks
        counts = np.array([i.n_showers for i in self.infos])
        self.starts = np.concatenate([[0], np.cumsum(counts)])
        self.n = int(self.starts[-1])
        cell_bytes = self.n * int(np.prod(SHOWER_SHAPE)) * 4
        self.in_memory = cell_bytes <= max_in_memory_gb * 1e9
        energies, profiles, cells = [], [], []
        for showers, e in iter_shower_batches(self.files, batch_size=chunk_showers, energy_range_gev=energy_range_gev):
            energies.append(e)
            profiles.append(longitudinal_profile(showers))
            if self.in_memory:
                cells.append(showers)
        self.energies = np.concatenate(energies).astype(np.float32)
        self.longitudinal_profiles = np.concatenate(profiles)
        self._cells = np.concatenate(cells) if self.in_memory else None
        self._cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.n

    @property
    def profile_showers(self) -> np.ndarray:
        """(N, 1, 1, 25) GeV: each shower summed over x and y, enough for the sampling-fraction
        and depth fits of :mod:`gan3d_lib.physics.observables`."""
        return self.longitudinal_profiles[:, None, None, :]

    def order(self, seed: int, epoch: int) -> np.ndarray:
        return epoch_order(self.n, seed, epoch, chunk_showers=self.chunk_showers, buffer_chunks=self.buffer_chunks)

    def _read_rows(self, start: int, stop: int) -> np.ndarray:
        """Cells of showers start..stop-1 (global numbering), across file boundaries."""
        out = []
        for k, info in enumerate(self.infos):
            lo, hi = max(start, self.starts[k]), min(stop, self.starts[k + 1])
            if lo < hi:
                with open_shower_file(info.path) as f:
                    out.append(np.asarray(f["ECAL"][lo - self.starts[k]:hi - self.starts[k]], dtype=np.float32))
        return np.concatenate(out)

    def _chunk(self, c: int) -> np.ndarray:
        if c not in self._cache:
            self._cache[c] = self._read_rows(c * self.chunk_showers, min(self.n, (c + 1) * self.chunk_showers))
        return self._cache[c]

    def take(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Showers (len(idx), 25, 25, 25) and energies of the given indices, in that order."""
        idx = np.asarray(idx)
        if self.in_memory:
            return self._cells[idx], self.energies[idx]
        chunk_of = idx // self.chunk_showers
        out = np.empty((len(idx), *SHOWER_SHAPE), np.float32)
        for c in np.unique(chunk_of):
            sel = chunk_of == c
            out[sel] = self._chunk(int(c))[idx[sel] - c * self.chunk_showers]
        return out, self.energies[idx]

    def batches(self, batch_size: int, steps: int, *, seed: int, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``steps`` batches of the epoch's order (indices sorted within a batch, as before);
        streamed, the chunks of groups already passed are dropped from memory."""
        order = self.order(seed, epoch)
        group_rows = self.chunk_showers * self.buffer_chunks
        for b in range(steps):
            pos = b * batch_size
            idx = np.sort(order[pos:pos + batch_size])
            if not self.in_memory:
                current = set(order[(pos // group_rows) * group_rows:pos + batch_size] // self.chunk_showers)
                for c in [c for c in self._cache if c not in current]:
                    del self._cache[c]
            yield self.take(idx)
        self._cache.clear()
