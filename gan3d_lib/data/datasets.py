"""Monte Carlo data sets on disk: generate once, in seeded shards, reuse when they match."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from ..physics.geometry import ENERGY_RANGE_GEV
from .io import ShowerFileError, inspect_shower_file, write_showers
from .mc import BLOCK_SIZE, ShowerSimulator

__all__ = ["shard_plan", "simulate_to_files", "ensure_mc_dataset"]


def shard_plan(n_showers: int, shard_size: int) -> list[tuple[int, int]]:
    """(first_block, n) per shard; shards are whole random blocks so they join seamlessly."""
    if n_showers < 1:
        raise ValueError(f"n_showers must be >= 1, got {n_showers}")
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    blocks_per_shard = max(1, -(-shard_size // BLOCK_SIZE))
    plan, start = [], 0
    while start < n_showers:
        n = min(blocks_per_shard * BLOCK_SIZE, n_showers - start)
        plan.append((start // BLOCK_SIZE, n))
        start += n
    return plan


def simulate_to_files(
    out: str | os.PathLike,
    n_showers: int,
    *,
    seed: int,
    energy_range_gev: tuple[float, float] = ENERGY_RANGE_GEV,
    spectrum: str = "uniform",
    shard_size: int | None = None,
    simulator: ShowerSimulator | None = None,
    progress: bool = True,
) -> list[Path]:
    """Simulate showers into one file, or into shards ``<stem>_000.h5``, ``<stem>_001.h5``...

    Shard k holds consecutive random blocks of the same run, so the concatenated shards
    equal a single-file run with the same seed, byte for byte. Each file is written
    atomically; its attributes record seed, block offset, energy range and MC settings.
    """
    sim = simulator or ShowerSimulator()
    out = Path(out)
    plan = shard_plan(n_showers, shard_size or n_showers)
    paths = []
    for k, (first_block, n) in enumerate(plan):
        path = out if len(plan) == 1 else out.with_name(f"{out.stem}_{k:03d}{out.suffix or '.h5'}")
        showers, energies = sim.simulate(n, seed=seed, energy_range_gev=energy_range_gev, spectrum=spectrum,
                                         first_block=first_block, progress=progress)
        attrs = {"generator": "gan3d GFlash Monte Carlo", "seed": seed, "first_block": first_block,
                 "block_size": BLOCK_SIZE, "energy_range_gev": np.asarray(energy_range_gev, dtype=float),
                 "spectrum": spectrum, "settings": repr(sim.settings())}
        paths.append(write_showers(path, showers, energies, attrs=attrs))
    return paths


def ensure_mc_dataset(
    path: str | os.PathLike,
    n_showers: int,
    *,
    seed: int,
    energy_range_gev: tuple[float, float] = ENERGY_RANGE_GEV,
    simulator: ShowerSimulator | None = None,
    progress: bool = True,
) -> Path:
    """Return ``path``, (re)generating it unless it already holds this exact data set.

    An existing file is reused only if it is a valid shower file whose recorded seed,
    size, energy range and MC settings equal the request.
    """
    sim = simulator or ShowerSimulator()
    path = Path(path)
    if path.exists():
        try:
            info = inspect_shower_file(path)
            with h5py.File(path, "r") as f:
                same = (info.n_showers == n_showers and int(f.attrs.get("seed", -1)) == seed
                        and int(f.attrs.get("first_block", -1)) == 0
                        and np.allclose(f.attrs.get("energy_range_gev", [np.nan, np.nan]), energy_range_gev)
                        and f.attrs.get("settings", "") == repr(sim.settings()))
            if same:
                return path
        except ShowerFileError:
            pass
    return simulate_to_files(path, n_showers, seed=seed, energy_range_gev=energy_range_gev,
                             simulator=sim, progress=progress)[0]
