"""Throughput of the Monte Carlo (one or several processes, or Dask workers) and of GAN
training, in showers per second, with the settings that produced them."""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from ..physics.geometry import ENERGY_RANGE_GEV
from ..data.mc import BLOCK_SIZE, ShowerSimulator

__all__ = ["mc_throughput", "training_throughput", "dask_generation_throughput"]


def _simulate_blocks(args: tuple[ShowerSimulator, int, int, int, tuple[float, float]]) -> int:
    sim, n, seed, first_block, energy_range = args
    showers, _ = sim.simulate(n, seed=seed, energy_range_gev=energy_range, first_block=first_block)
    return showers.shape[0]


def mc_throughput(
    n_showers: int,
    *,
    seed: int = 1,
    workers: int = 1,
    energy_range_gev: tuple[float, float] = ENERGY_RANGE_GEV,
    simulator: ShowerSimulator | None = None,
    repeats: int = 3,
) -> dict:
    """Monte Carlo throughput in showers/s, energies uniform in ``energy_range_gev``.

    ``workers`` > 1 splits the run into per-process shards of whole random blocks (same
    showers as one process). The best of ``repeats`` runs is reported, with all of them.
    """
    if n_showers < 1 or workers < 1 or repeats < 1:
        raise ValueError("n_showers, workers and repeats must be >= 1")
    sim = simulator or ShowerSimulator()
    n_blocks = -(-n_showers // BLOCK_SIZE)
    per_worker = np.array_split(np.arange(n_blocks), workers)
    jobs = [(sim, min(len(b) * BLOCK_SIZE, n_showers - int(b[0]) * BLOCK_SIZE), seed, int(b[0]), energy_range_gev)
            for b in per_worker if len(b)]
    times = []
    if workers == 1:
        sim.simulate(BLOCK_SIZE, seed=seed, energy_range_gev=energy_range_gev)  # warm-up
        for _ in range(repeats):
            t0 = time.perf_counter()
            _simulate_blocks(jobs[0])
            times.append(time.perf_counter() - t0)
    else:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_simulate_blocks, [(sim, BLOCK_SIZE, seed, 0, energy_range_gev)] * workers))  # warm-up
            for _ in range(repeats):
                t0 = time.perf_counter()
                done = sum(pool.map(_simulate_blocks, jobs))
                times.append(time.perf_counter() - t0)
            if done != n_showers:
                raise RuntimeError(f"workers simulated {done} showers, expected {n_showers}")
    best = min(times)
    return {
        "n_showers": n_showers,
        "workers": workers,
        "energy_range_gev": list(energy_range_gev),
        "seconds": times,
        "showers_per_s": n_showers / best,
    }


def training_throughput(
    model: str = "conv2d",
    size: str | float = "lite",
    *,
    precision: str = "float32",
    batch_size: int = 128,
    steps: int = 10,
    warmup_steps: int = 2,
    seed: int = 1,
) -> dict:
    """GAN training throughput (showers/s) of one D + one G update per step.

    Runs ``warmup_steps`` (tracing, first-call allocation) and then times ``steps`` steps
    on a fixed batch of Monte Carlo showers with energies uniform in 2-500 GeV.
    """
    import tensorflow as tf

    from ..physics.observables import fit_sampling_fraction
    from ..training.training import TrainConfig, build_training

    if steps < 1 or warmup_steps < 0:
        raise ValueError("steps must be >= 1 and warmup_steps >= 0")
    showers, energies = ShowerSimulator().simulate(batch_size, seed=seed)
    config = TrainConfig(model=model, size=size, batch_size=batch_size, precision=precision, seed=seed)
    step = build_training(config, fit_sampling_fraction(showers, energies))[-1]
    s, e = tf.constant(showers), tf.constant(energies)
    for i in range(warmup_steps):
        step(s, e, tf.constant(i, tf.int64))
    t0 = time.perf_counter()
    for i in range(steps):
        losses = step(s, e, tf.constant(warmup_steps + i, tf.int64))
    float(losses["g_loss"])  # wait for the last step
    seconds = time.perf_counter() - t0
    return {"model": model, "size": size, "precision": precision, "batch_size": batch_size, "steps": steps,
            "seconds": seconds, "showers_per_s": steps * batch_size / seconds}


def dask_generation_throughput(n_showers: int, *, workers: int, shard_size: int = 512, seed: int = 1) -> dict:
    """Monte Carlo showers/s of :func:`gan3d_lib.speed.generation.generate_shards` on a LocalCluster of
    ``workers`` single-thread processes (started, with gan3d imported, before the clock
    starts); the timed part simulates, writes gzip HDF5 shards, checksums and the manifest.

    Runs in a spawned child process: a closed ``distributed`` client leaves threads in its
    process that kept taking CPU time (measured: a 2-thread inference stream afterwards ran
    at 37 % of its speed), which would slow every later benchmark of the caller."""
    import multiprocessing as mp

    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(_dask_generation_throughput, n_showers, workers, shard_size, seed).result()


def _dask_generation_throughput(n_showers: int, workers: int, shard_size: int, seed: int) -> dict:
    import importlib
    import tempfile

    from distributed import Client, LocalCluster

    from .generation import generate_shards

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client, tempfile.TemporaryDirectory() as tmp:
        client.run(importlib.import_module, "gan3d_lib.speed.generation")
        run = generate_shards(tmp, n_showers, shard_size=shard_size, seed=seed, scheduler=cluster.scheduler_address,
                              progress=False)
    return {"workers": workers, "n_showers": run.n_showers, "shard_size": shard_size, "shards": len(run.generated),
            "seconds": run.seconds, "showers_per_s": run.n_showers / run.seconds}
