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
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .mc import BLOCK_SIZE, ShowerSimulator

__all__ = ["mc_throughput", "training_throughput", "run_streams", "best_batch", "peak_macs_per_s", "ratio", "paired_ratio",
           "parse_int_list", "arithmetic_precision", "roofline", "sgemm_macs_per_s",
           "speedup_table", "stream_configs", "run_stream_configs", "dask_generation_throughput"]


def _simulate_blocks(args: tuple[ShowerSimulator, int, int, int, tuple[float, float]]) -> int:
    sim, n, seed, first_block, energy_range = args
    showers, _ = sim.simulate(n, seed=seed, energy_range_gev=energy_range, first_block=first_block)
    return showers.shape[0]


def mc_throughput(
    n_showers: int,
    *,
    seed: int = 1,
    workers: int = 1,
    energy_range_gev: tuple[float, float] = (2.0, 500.0),
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

    from .observables import fit_sampling_fraction
    from .training import TrainConfig, build_training

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
        from .artefacts import HardwareUnsupported, load_artefact
        from .models import latent_vectors

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
    from .artefacts import load_manifest

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


def _clock_ghz() -> float | None:
    """Nominal maximum core clock in GHz: cpufreq if exposed, else the highest 'cpu MHz' seen."""
    try:
        return int(Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text()) / 1e6
    except (OSError, ValueError):
        pass
    try:
        mhz = [float(line.split(":", 1)[1]) for line in open("/proc/cpuinfo") if line.startswith("cpu MHz")]
        return max(mhz) / 1e3 if mhz else None
    except OSError:
        return None


def sgemm_macs_per_s(n: int = 2048, *, repeats: int = 5, seed: int = 1) -> float:
    """FP32 multiply-accumulates per second of NumPy's BLAS on an n x n matrix product (best
    of ``repeats``), with the threads this process may use: what a tuned kernel reaches here."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    a @ b  # warm-up: thread pool start, page faults
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return n ** 3 / best


def peak_macs_per_s(machine: dict | None = None, *, cores: int | None = None, clock_ghz: float | None = None,
                    fma_units: int = 2, at_least_macs_per_s: float | None = None) -> dict:
    """Theoretical multiply-accumulates per second of this CPU, FP32 and INT8.

    Per core and cycle: FP32 = ``fma_units`` x (vector bits / 32) (one FMA = one MAC per lane);
    INT8 with VNNI = ``fma_units`` x (vector bits / 8) (``vpdpbusd``: four u8*s8 products per
    32-bit lane); INT8 without VNNI needs two instructions (``vpmaddubsw`` + ``vpmaddwd``)
    for the same work, half that. Vector bits: 512 with AVX-512F, 256 with AVX2, else 128.
    ``fma_units`` = 2 is an assumption (true of Xeon Gold/Platinum and AMD Zen 2-4 cores).
    The clock is the OS's nominal one; virtual machines often report the base clock while
    cores turbo above it, so ``at_least_macs_per_s`` (an FP32 rate measured here, e.g.
    :func:`sgemm_macs_per_s`) raises the clock to the lowest one that rate implies.
    """
    from .results import machine_info

    m = machine or machine_info()
    cores = cores or m["usable_cores"]
    nominal = clock = clock_ghz or _clock_ghz()
    bits = 512 if m.get("avx512f") else 256 if m.get("avx2") else 128
    vnni = bool(m.get("avx512_vnni") or m.get("avx_vnni"))
    fp32_per_cycle = fma_units * bits // 32
    int8_per_cycle = fma_units * bits // 8 if vnni else fma_units * bits // 16
    if at_least_macs_per_s:
        clock = max(clock or 0.0, at_least_macs_per_s / (cores * fp32_per_cycle) / 1e9)
    hz = None if clock is None else cores * clock * 1e9
    return {"cores": cores, "clock_ghz": clock, "nominal_clock_ghz": nominal, "vector_bits": bits, "vnni": vnni,
            "fma_units": fma_units,
            "fp32_macs_per_cycle_per_core": fp32_per_cycle, "int8_macs_per_cycle_per_core": int8_per_cycle,
            "fp32": None if hz is None else hz * fp32_per_cycle, "int8": None if hz is None else hz * int8_per_cycle,
            "int8_over_fp32": int8_per_cycle / fp32_per_cycle}


def arithmetic_precision(backend: str, machine: dict) -> str:
    """The arithmetic a backend's convolutions run in on this CPU: 'int8' or 'fp32'.

    TFLite FP16 models are dequantized to FP32 on x86; BF16 runs as FP32 arithmetic (with
    conversions) where the CPU has no AVX-512 BF16, and counts as FP32 there too.
    """
    if backend.endswith(("int8", "int8-tuned")) or backend == "tflite-dynamic":
        return "int8"
    if backend in ("keras-bf16", "openvino-bf16") and machine.get("avx512_bf16"):
        return "bf16"
    return "fp32"


def roofline(records: Sequence[dict], macs_per_shower: dict[tuple[str, str], int], peaks: dict,
             machine: dict) -> list[dict]:
    """Best-batch throughput of each artefact as multiply-accumulates per second and as a
    fraction of ``peaks`` for its arithmetic ({'fp32', 'int8', optional 'bf16'} MACs/s, e.g.
    :func:`gemm_peaks.measured_peaks`; BF16 defaults to 2x FP32). The peaks are inputs: no
    record moves them.

    ``macs_per_shower`` maps (model, size) to MACs per shower (:func:`models.multiply_accumulates`).
    """
    rows = []
    for path in dict.fromkeys(r["artefact"] for r in records if r["status"] == "ok"):
        best = best_batch(records, path)
        kind = arithmetic_precision(best["backend"], machine)
        bf16 = peaks.get("bf16") or (None if peaks["fp32"] is None else 2 * peaks["fp32"])
        peak = {"int8": peaks["int8"], "fp32": peaks["fp32"], "bf16": bf16}[kind]
        macs = best["showers_per_s"] * macs_per_shower[(best["model"], str(best["size"]))]
        rows.append({"artefact": path, "backend": best["backend"], "model": best["model"], "size": best["size"],
                     "batch_size": best["batch_size"], "showers_per_s": best["showers_per_s"],
                     "gmacs_per_s": macs / 1e9, "arithmetic": kind,
                     "peak_gmacs_per_s": None if peak is None else peak / 1e9,
                     "fraction_of_peak": None if peak is None else macs / peak})
    return rows


#: (row label, numerator backend, denominator backend, the study's claim or None)
# The study's 1.8x was its accuracy-tuned INT8: it stands beside the gated (searched) INC INT8.
PRECISION_COMPARISONS = (
    ("INC INT8 gated by physics vs FP32 graph", "inc-int8-tuned", "tf-graph-fp32", 1.8),
    ("INC INT8, all ops vs FP32 graph", "inc-int8", "tf-graph-fp32", None),
    ("ONNX Runtime INT8 gated by physics vs FP32", "onnx-int8-tuned", "onnx-fp32", None),
    ("OpenVINO INT8 gated by physics vs TF FP32 graph", "openvino-int8-tuned", "tf-graph-fp32", None),
    ("OpenVINO INT8, all ops vs OpenVINO FP32", "openvino-int8", "openvino-fp32", None),
    ("OpenVINO BF16 vs OpenVINO FP32", "openvino-bf16", "openvino-fp32", None),
    ("OpenVINO FP32 vs TF FP32 graph", "openvino-fp32", "tf-graph-fp32", None),
    ("ONNX Runtime INT8 vs FP32", "onnx-int8", "onnx-fp32", None),
    ("TFLite INT8 vs FP32", "tflite-int8", "tflite-fp32", None),
    ("TFLite dynamic-range INT8 vs FP32", "tflite-dynamic", "tflite-fp32", None),
    ("TFLite FP16 vs FP32", "tflite-fp16", "tflite-fp32", None),
    ("BF16 vs FP32 (Keras)", "keras-bf16", "keras-fp32", None),
)


def speedup_table(sweep: Sequence[dict], stream_runs: Sequence[dict], *, mc_rate: float, geant4_rate: float,
                  conv3d: str | os.PathLike, cores: int) -> list[dict]:
    """The study's speed claims beside ratios of these measurements (rows: claim, setting,
    paper, ours; ``ours`` is None where a runtime was skipped).

    ``sweep``: single-stream records of Conv2D artefact folders named by backend plus the
    paper-size Conv3D FP32 graph ``conv3d``; each precision ratio uses the largest batch of
    its size and the FP32 model of the same runtime. ``stream_runs``: records of one FP32
    artefact with 1 stream x ``cores`` threads and ``cores`` streams x 1 thread.
    ``mc_rate``, ``geant4_rate``: Monte Carlo and Geant4 showers/s on the same cores.
    """
    paths = {}
    for r in sweep:
        if r["model"] == "conv2d":
            paths.setdefault(str(r["size"]), {})[Path(r["artefact"]).name] = r["artefact"]
    batch = {size: max(r["batch_size"] for r in sweep if str(r["size"]) == size) for size in paths}
    rows = []
    if "paper" in paths and "tf-graph-fp32" in paths["paper"]:
        rows.append({"claim": "Conv2D vs Conv3D generator, FP32", "paper": 2.1,
                     "setting": f"paper size, batch {batch['paper']}",
                     "ours": ratio(sweep, paths["paper"]["tf-graph-fp32"], conv3d, batch["paper"])})
    for label, num, den, claim in PRECISION_COMPARISONS:
        for size, named in paths.items():
            if num in named and den in named:
                rows.append({"claim": label, "paper": claim, "setting": f"{size}, batch {batch[size]}",
                             "ours": ratio(sweep, named[num], named[den], batch[size])})
    single = {r["batch_size"]: r for r in stream_runs if r["streams"] == 1 and r["threads_per_stream"] == cores}
    multi = {r["batch_size"]: r for r in stream_runs if r["streams"] == cores and r["threads_per_stream"] == 1}
    if cores > 1 and single and multi:
        best = max(single, key=lambda b: single[b]["showers_per_s"])
        for b in sorted({min(single), best}):
            rows.append({"claim": f"{cores} streams vs 1 stream", "paper": 2.2,
                         "setting": f"{single[b]['size']} FP32, batch {b}",
                         "ours": paired_ratio(multi[b], single[b])})
    gan_best = max(r["showers_per_s"] for r in stream_runs if r["status"] == "ok")
    rows.append({"claim": "GAN vs our Monte Carlo", "paper": None, "setting": f"best GAN run, {cores} cores",
                 "ours": gan_best / mc_rate})
    rows.append({"claim": "GAN vs Geant4 (external reference CPU time)", "paper": 68000,
                 "setting": f"best GAN run, {cores} cores", "ours": gan_best / geant4_rate})
    return rows


def dask_generation_throughput(n_showers: int, *, workers: int, shard_size: int = 512, seed: int = 1) -> dict:
    """Monte Carlo showers/s of :func:`gan3d_lib.generation.generate_shards` on a LocalCluster of
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
        client.run(importlib.import_module, "gan3d_lib.generation")
        run = generate_shards(tmp, n_showers, shard_size=shard_size, seed=seed, scheduler=cluster.scheduler_address,
                              progress=False)
    return {"workers": workers, "n_showers": run.n_showers, "shard_size": shard_size, "shards": len(run.generated),
            "seconds": run.seconds, "showers_per_s": run.n_showers / run.seconds}
