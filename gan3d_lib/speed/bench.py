"""Throughput measurements (showers per second), with the settings that produced them.

Inference: :func:`run_streams` runs N worker processes x M threads, each pinned to its own
cores, over a list of (artefact, batch size) points; every point starts in all streams at
once (a barrier), runs for a fixed time and reports showers/s and per-batch latencies.
One stream with all cores is the ordinary single-process benchmark.
"""

from __future__ import annotations

import os
import queue as queue_module
import time
import traceback
from pathlib import Path
from typing import Any, Sequence

import numpy as np


__all__ = ["run_streams", "best_batch", "ratio", "paired_ratio", "parse_int_list", "stream_configs", "run_stream_configs"]


def parse_int_list(text: str | Sequence[int]) -> list[int]:
    """``"1,16,128"`` (or a sequence) -> [1, 16, 128]; every value must be >= 1."""
    values = [int(v) for v in (text.split(",") if isinstance(text, str) else text) if str(v).strip()]
    if not values or min(values) < 1:
        raise ValueError(f"expected a comma-separated list of integers >= 1, got {text!r}")
    return values


def _stream_worker(index: int, cpus: list[int], threads: int, commands, results, barrier, min_batches: int,
                   seed: int, quiet: bool) -> None:
    """One stream: pinned to ``cpus``, loads artefacts once and runs the points it is sent
    (``(job, path, batch, warmup, seconds)``; None ends it), all streams of its group starting
    and ending each point together; puts ``(index, job, record)`` on ``results``."""
    if quiet:  # runtimes' start-up chatter on fd 2; errors travel back through the queue
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    try:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, cpus)
        from ..precision.artefacts import HardwareUnsupported, load_artefact
        from ..models.models import latent_vectors

        loaded: dict[str, Any] = {}
        while (command := commands.get()) is not None:
            job, path, batch, warmup, seconds = command
            skipped = None
            try:
                art = loaded[path] = loaded.get(path) or load_artefact(path, threads=threads)
                # the same primary energies for every artefact at this batch size
                energies = np.random.default_rng([seed, index, batch]).uniform(2.0, 500.0, batch).astype(np.float32)
                z = latent_vectors(energies, seed=seed + index, latent_size=art.manifest["latent_size"])
                for _ in range(warmup):
                    art.run_latent(z)
            except HardwareUnsupported as exc:
                skipped = str(exc)
            barrier.wait()  # every stream loaded and warm: start together
            if skipped:
                results.put((index, job, {"status": "skipped", "reason": skipped}))
                barrier.wait()
                continue
            latencies = []
            t0 = time.perf_counter()
            while True:
                t = time.perf_counter()
                art.run_latent(z)
                latencies.append(time.perf_counter() - t)
                if time.perf_counter() - t0 >= seconds and len(latencies) >= min_batches:
                    break
            elapsed = time.perf_counter() - t0
            lat_ms = 1e3 * np.asarray(latencies)
            results.put((index, job, {"status": "ok", "pid": os.getpid(), "batches": len(latencies), "seconds": elapsed,
                                      "showers_per_s": batch / float(np.median(latencies)),
                                      "showers_per_s_wall": len(latencies) * batch / elapsed,
                                      "latency_ms_p50": float(np.percentile(lat_ms, 50)),
                                      "latency_ms_p99": float(np.percentile(lat_ms, 99))}))
            barrier.wait()  # every stream done before anyone warms up the next point
    except Exception:  # noqa: BLE001 - reported to the parent, which raises
        results.put((index, None, {"status": "error", "traceback": traceback.format_exc()}))
        barrier.abort()


def _usable_cpus(cpus: Sequence[int] | None) -> list[int]:
    return sorted(cpus if cpus is not None else (os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity")
                                                 else range(os.cpu_count() or 1)))


def _check_layout(streams: int, threads: int, cpus: list[int]) -> None:
    if streams < 1 or threads < 1:
        raise ValueError(f"streams and threads must be >= 1, got {streams} x {threads}")
    if streams * threads > len(cpus):
        raise ValueError(f"{streams} streams x {threads} threads need {streams * threads} cores; "
                         f"only {len(cpus)} usable ({cpus})")


def _run_jobs(groups: Sequence[tuple[int, int]], jobs: Sequence[tuple[int, str, int, int, float]], *, cpus: list[int],
              min_batches: int, seed: int, quiet: bool, timeout_s: float, progress: bool) -> list[list[dict]]:
    """Run ``jobs`` ``(group, path, batch, warmup, seconds)`` one after the other, each on all
    streams of its group; ``groups`` are (streams, threads) layouts whose processes are all
    started once and kept (idle ones block on their queue). Returns per job the streams' records."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # fresh runtimes: thread pools are fixed at first use
    results = ctx.Queue()
    procs, members, barriers = [], [], []  # the parent keeps every barrier alive until the children have it
    for streams, threads in groups:
        barrier = ctx.Barrier(streams)
        barriers.append(barrier)
        mine = []
        for i in range(streams):
            commands = ctx.Queue()
            proc = ctx.Process(target=_stream_worker, daemon=True,
                               args=(i, cpus[i * threads:(i + 1) * threads], threads, commands, results, barrier,
                                     min_batches, seed, quiet))
            proc.start()
            procs.append(proc)
            mine.append(commands)
        members.append(mine)
    out: list[list[dict]] = []
    deadline = time.monotonic() + timeout_s
    bar = _progress(len(jobs), progress)
    try:
        for job, (group, path, batch, warmup, seconds) in enumerate(jobs):
            for commands in members[group]:
                commands.put((job, path, batch, warmup, seconds))
            got: dict[int, dict] = {}
            while len(got) < len(members[group]):
                try:
                    index, done, record = results.get(timeout=max(1.0, min(10.0, deadline - time.monotonic())))
                except queue_module.Empty:
                    if not all(p.is_alive() for p in procs):
                        raise RuntimeError(f"benchmark streams exited early (exit codes {[p.exitcode for p in procs]}); "
                                           "scripts must run benchmarks under `if __name__ == '__main__':`") from None
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"benchmark streams timed out after {timeout_s:.0f} s") from None
                    continue
                if record["status"] == "error":
                    raise RuntimeError(f"benchmark stream {index} failed:\n{record['traceback']}")
                got[index] = record
            out.append([got[i] for i in range(len(members[group]))])
            bar.update(1)
    finally:
        bar.close()
        for mine in members:
            for commands in mine:
                commands.put(None)
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    return out


def _record(path: str, batch: int, streams: int, threads: int, cpus: list[int], per_round: list[list[dict]],
            seconds: float, warmup: int) -> dict:
    """One point's record from its rounds (each a list of per-stream records): the median round."""
    from ..precision.artefacts import load_manifest

    manifest = load_manifest(path)
    rounds = len(per_round)
    record = {"artefact": path, "backend": manifest["backend"], "model": manifest["model"],
              "size": manifest["size"], "batch_size": batch, "streams": streams, "threads_per_stream": threads,
              "cpus": [cpus[i * threads:(i + 1) * threads] for i in range(streams)],
              "seconds_per_point": seconds, "warmup_batches": warmup, "rounds": rounds}
    if any(s["status"] == "skipped" for per_stream in per_round for s in per_stream):
        reason = next(s["reason"] for per_stream in per_round for s in per_stream if s["status"] == "skipped")
        return {**record, "status": "skipped", "reason": reason, "showers_per_s": None}
    rates = [float(sum(s["showers_per_s"] for s in per_stream)) for per_stream in per_round]
    median = per_round[int(np.argsort(rates)[(rounds - 1) // 2])]
    return {**record, "status": "ok", "showers_per_s": float(np.median(rates)), "showers_per_s_rounds": rates,
            "latency_ms_p50": float(np.median([s["latency_ms_p50"] for s in median])),
            "latency_ms_p99": float(max(s["latency_ms_p99"] for s in median)), "per_stream": median}


def _check_paths(artefacts: Sequence[str | os.PathLike]) -> list[str]:
    paths = [str(Path(a)) for a in artefacts]
    for path in paths:
        if not (Path(path) / "manifest.json").exists():
            raise FileNotFoundError(f"{path}: not an artefact folder (no manifest.json); see gan3d quantize")
    return paths


def run_streams(
    artefacts: Sequence[str | os.PathLike],
    batch_sizes: Sequence[int],
    *,
    streams: int = 1,
    threads: int | None = None,
    seconds: float = 2.0,
    warmup: int = 2,
    min_batches: int = 3,
    rounds: int = 1,
    seed: int = 1,
    cpus: Sequence[int] | None = None,
    timeout_s: float = 1800.0,
    quiet: bool = True,
    progress: bool = False,
) -> list[dict]:
    """Inference throughput of every (artefact, batch size) with ``streams`` processes x ``threads``.

    Stream i is pinned to cores ``cpus[i*threads:(i+1)*threads]`` (default: the cores this
    process may use, ``threads`` = all of them divided by ``streams``). Each point is timed
    for ``seconds`` (and at least ``min_batches`` batches) after ``warmup`` untimed batches,
    all streams starting together. A stream's throughput is batch size / median batch time
    (robust to a preempted batch; ``showers_per_s_wall`` is showers / elapsed time). Returns
    one record per point: aggregate ``showers_per_s`` (sum over streams), per-stream
    throughput and p50/p99 latency in ms per batch, or
    ``status='skipped'`` with the reason where the runtime has no kernel for this CPU.
    ``rounds`` > 1 times every point that many times and reports the median round: the
    rounds interleave (every artefact at one batch size, the next batch size, ..., then the
    next round, one warm-up batch after the first round), so a slow phase of a shared or
    throttling machine hits the artefacts being compared alike; :func:`ratio` pairs rounds.
    """
    cpus = _usable_cpus(cpus)
    threads = threads or max(1, len(cpus) // max(1, streams))
    _check_layout(streams, threads, cpus)
    if seconds <= 0 or warmup < 0 or min_batches < 1 or rounds < 1:
        raise ValueError("seconds must be > 0, warmup >= 0, min_batches >= 1 and rounds >= 1")
    paths = _check_paths(artefacts)
    batches = parse_int_list(batch_sizes)
    points = [(path, b) for b in batches for path in paths]
    jobs = [(0, path, b, warmup if r == 0 else min(warmup, 1), seconds) for r in range(rounds) for path, b in points]
    got = _run_jobs([(streams, threads)], jobs, cpus=cpus, min_batches=min_batches, seed=seed, quiet=quiet,
                    timeout_s=timeout_s, progress=progress)
    records = {(path, b): _record(path, b, streams, threads, cpus, [got[r * len(points) + p] for r in range(rounds)],
                                  seconds, warmup) for p, (path, b) in enumerate(points)}
    return [records[(path, b)] for path in paths for b in batches]


def stream_configs(cores: int, *, single_thread: bool = True) -> list[tuple[int, int]]:
    """(streams, threads per stream) pairs that fill ``cores`` exactly, from one stream with
    every core to one stream per core, plus (1, 1) if ``single_thread``."""
    full = [(n, cores // n) for n in range(1, cores + 1) if cores % n == 0]
    return list(dict.fromkeys(([(1, 1)] if single_thread else []) + full))


def run_stream_configs(artefact: str | os.PathLike, batch_sizes: Sequence[int], configs: Sequence[tuple[int, int]],
                       *, rounds: int = 1, seconds: float = 2.0, warmup: int = 2, min_batches: int = 3, seed: int = 1,
                       cpus: Sequence[int] | None = None, timeout_s: float = 1800.0, quiet: bool = True,
                       progress: bool = False) -> list[dict]:
    """Throughput of one artefact for every (streams, threads) config and batch size, as
    :func:`run_streams` records (in config order, then batch order). The processes of every
    config are started once and kept; the configs take turns at each batch size, ``rounds``
    times (round r: every config at batch 1, every config at the next batch, ...), and each
    record reports its median round, so that :func:`ratio` can pair configs round by round."""
    cpus = _usable_cpus(cpus)
    for n, m in configs:
        _check_layout(n, m, cpus)
    if seconds <= 0 or warmup < 0 or min_batches < 1 or rounds < 1:
        raise ValueError("seconds must be > 0, warmup >= 0, min_batches >= 1 and rounds >= 1")
    (path,) = _check_paths([artefact])
    batches = parse_int_list(batch_sizes)
    points = [(c, b) for b in batches for c in range(len(configs))]
    jobs = [(c, path, b, warmup if r == 0 else min(warmup, 1), seconds) for r in range(rounds) for c, b in points]
    got = _run_jobs(list(configs), jobs, cpus=cpus, min_batches=min_batches, seed=seed, quiet=quiet,
                    timeout_s=timeout_s, progress=progress)
    records = {(c, b): _record(path, b, *configs[c], cpus, [got[r * len(points) + p] for r in range(rounds)], seconds, warmup)
               for p, (c, b) in enumerate(points)}
    return [records[(c, b)] for c in range(len(configs)) for b in batches]


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="benchmark points", unit="point", disable=not enabled)


def best_batch(records: Sequence[dict], artefact: str | os.PathLike) -> dict:
    """The record of ``artefact`` with the highest showers/s (ValueError if none ran)."""
    ok = [r for r in records if r["artefact"] == str(Path(artefact)) and r["status"] == "ok"]
    if not ok:
        raise ValueError(f"no successful measurement of {artefact}")
    return max(ok, key=lambda r: r["showers_per_s"])


def paired_ratio(numerator: dict, denominator: dict) -> float | None:
    """showers/s of one record over another's; None if either was skipped. Records measured
    in the same rounds (same number, > 1) give the median of the round-by-round ratios: a
    slow phase that hit both measurements of a round cancels."""
    if numerator["showers_per_s"] is None or denominator["showers_per_s"] is None:
        return None
    a, b = numerator.get("showers_per_s_rounds"), denominator.get("showers_per_s_rounds")
    if a and b and len(a) == len(b) > 1:
        return float(np.median(np.asarray(a) / np.asarray(b)))
    return numerator["showers_per_s"] / denominator["showers_per_s"]


def ratio(records: Sequence[dict], numerator: str | os.PathLike, denominator: str | os.PathLike,
          batch_size: int) -> float | None:
    """:func:`paired_ratio` of ``numerator`` over ``denominator`` (artefact folders) at ``batch_size``."""
    def find(artefact):
        for r in records:
            if r["artefact"] == str(Path(artefact)) and r["batch_size"] == batch_size:
                return r
        raise KeyError(f"no measurement of {artefact} at batch {batch_size}")

    return paired_ratio(find(numerator), find(denominator))
