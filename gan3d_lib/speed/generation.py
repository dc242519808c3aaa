"""Sharded shower generation on Dask: seeded shards, atomic HDF5 files, a checksummed manifest.

``generate_shards(out, n, source=..., shard_size=..., seed=...)`` splits ``n`` showers into
the shards of :func:`~gan3d_lib.data.datasets.shard_plan`, makes each shard on a Dask worker and
writes it atomically to ``out/shard_KKKKK.h5`` (CERN layout: ``ECAL`` (N, 25, 25, 25) GeV,
``target[:, 1]`` primary energy GeV). ``out/manifest.json`` lists the request and, per shard,
its file, seed, count and SHA-256; it is rewritten atomically as each shard completes.

* Monte Carlo (``source="mc"``): shard k holds consecutive random blocks of one run, so the
  shards concatenated equal ``ShowerSimulator().simulate(n, seed=seed)`` byte for byte.
* GAN (``source=<artefact folder>``): shard k draws its energies (uniform in
  ``energy_range_gev`` unless ``energies_gev`` are given) and its latent seed from
  ``SeedSequence(seed, spawn_key=(k,))``, then runs ``load_artefact(source).generate``.

A shard's bytes depend only on the request and its index, never on the scheduler: a
``scheduler="synchronous"`` run (a plain loop in this process) writes the same files. A
re-run skips shards whose file matches the manifest's checksum and redoes the rest; a shard
whose worker is killed is redone by Dask on another worker, and its partial file never
carries the final name. Workers write to ``out`` directly, so on a cluster ``out`` must be
on a file system shared by all workers.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..precision.artefacts import MANIFEST, file_sha256, load_artefact, load_manifest
from ..core.atomic import atomic_file
from ..data.datasets import shard_plan
from ..physics.geometry import ENERGY_RANGE_GEV
from ..data.io import write_showers
from ..data.mc import BLOCK_SIZE, SPECTRA, ShowerSimulator

__all__ = ["generate_shards", "GenerationRun", "read_manifest", "verify_shards", "MANIFEST"]

FORMAT = "gan3d-shards"


@dataclass(frozen=True)
class GenerationRun:
    """What a call of :func:`generate_shards` did: shard indices made and skipped, wall seconds."""

    manifest_path: Path
    manifest: dict[str, Any]
    generated: list[int]
    skipped: list[int]
    seconds: float

    @property
    def n_showers(self) -> int:
        return sum(s["count"] for s in self.manifest["shards"])


def _request(n: int, source: str, shard_size: int, seed: int, energy_range_gev, spectrum: str, energies_gev) -> dict:
    """The request as recorded in the manifest; raises ValueError on bad input."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    low, high = (float(v) for v in energy_range_gev)
    if not 0 < low <= high:
        raise ValueError(f"energy_range_gev must satisfy 0 < low <= high (GeV), got {energy_range_gev}")
    if spectrum not in SPECTRA:
        raise ValueError(f"spectrum must be one of {SPECTRA}, got {spectrum!r}")
    shard_plan(n, shard_size)  # checks n >= 1 and shard_size >= 1
    request = {"source": str(source), "n": int(n), "shard_size": int(shard_size), "seed": int(seed),
               "energy_range_gev": [low, high], "spectrum": spectrum}
    if source == "mc":
        if energies_gev is not None:
            raise ValueError("energies_gev is for GAN artefacts; the Monte Carlo draws its own energies")
        request["settings"] = repr(ShowerSimulator().settings())
        return request
    if not (Path(source) / "manifest.json").is_file():
        raise ValueError(f"source must be 'mc' or a gan3d artefact folder holding manifest.json, got {str(source)!r}")
    art = load_manifest(source)
    request.update(backend=art["backend"], model_sha256=art.get("sha256"))
    if energies_gev is not None:
        e = np.asarray(energies_gev, np.float32).reshape(-1)
        if e.shape != (n,) or not np.all(np.isfinite(e)) or (e <= 0).any():
            raise ValueError(f"energies_gev must be {n} finite energies > 0 GeV, got shape {e.shape}")
        request["energies_sha256"] = hashlib.sha256(e.tobytes()).hexdigest()
    return request


def _plan(request: dict) -> list[dict]:
    """One spec per shard: index, file name, first shower, count (and the MC block offset)."""
    specs, start = [], 0
    for k, (first_block, count) in enumerate(shard_plan(request["n"], request["shard_size"])):
        spec = {"shard": k, "file": f"shard_{k:05d}.h5", "seed": request["seed"], "first_shower": start, "count": count}
        if request["source"] == "mc":
            spec["first_block"] = first_block
        specs.append(spec)
        start += count
    return specs


@lru_cache(maxsize=2)
def _artefact(path: str):
    return load_artefact(path)


def _make_shard(out: str, spec: dict, request: dict, energies_gev: np.ndarray | None, previous: dict | None) -> dict:
    """Write one shard (runs on a worker); returns its manifest entry. A file that matches
    its ``previous`` manifest entry's checksum is kept (``"skipped": True``)."""
    path = Path(out) / spec["file"]
    if previous and path.is_file() and file_sha256(path) == previous["sha256"]:
        return {**previous, "skipped": True}
    low, high = request["energy_range_gev"]
    attrs = {"seed": spec["seed"], "shard": spec["shard"], "first_shower": spec["first_shower"],
             "source": request["source"], "energy_range_gev": np.asarray([low, high]), "spectrum": request["spectrum"]}
    if request["source"] == "mc":
        sim = ShowerSimulator()
        showers, energies = sim.simulate(spec["count"], seed=spec["seed"], energy_range_gev=(low, high),
                                         spectrum=request["spectrum"], first_block=spec["first_block"])
        attrs.update(generator="gan3d GFlash Monte Carlo", first_block=spec["first_block"], block_size=BLOCK_SIZE,
                     settings=repr(sim.settings()))
        entry = dict(spec)
    else:
        rng = np.random.default_rng(np.random.SeedSequence(spec["seed"], spawn_key=(spec["shard"],)))
        if energies_gev is None:
            u = rng.uniform(0.0, 1.0, spec["count"])
            energies = (low + (high - low) * u if request["spectrum"] == "uniform"
                        else np.exp(np.log(low) + (np.log(high) - np.log(low)) * u)).astype(np.float32)
        else:
            energies = np.asarray(energies_gev, np.float32)
        latent_seed = int(rng.integers(0, 2**63 - 1))
        showers = _artefact(request["source"]).generate(energies, seed=latent_seed)
        attrs.update(generator=f"gan3d artefact {request['backend']}", latent_seed=latent_seed)
        entry = {**spec, "latent_seed": latent_seed}
    write_showers(path, showers, energies, attrs=attrs)
    return {**entry, "sha256": file_sha256(path), "skipped": False}


def read_manifest(out: str | os.PathLike) -> dict[str, Any]:
    """The ``manifest.json`` of a shard folder."""
    path = Path(out) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no manifest; not a gan3d shard folder")
    doc = json.loads(path.read_text())
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path}: format {doc.get('format')!r}, expected {FORMAT!r}")
    return doc


def verify_shards(out: str | os.PathLike) -> list[str]:
    """Problems of a shard folder (missing shards, missing files, checksum mismatches); [] if complete."""
    out = Path(out)
    doc = read_manifest(out)
    done = {s["shard"]: s for s in doc["shards"]}
    problems = [f"shard {s['shard']} ({s['file']}): not generated"
                for s in _plan(doc["request"]) if s["shard"] not in done]
    for s in doc["shards"]:
        path = out / s["file"]
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif file_sha256(path) != s["sha256"]:
            problems.append(f"{path}: sha256 differs from {MANIFEST}")
    return problems


def _write_manifest(out: Path, request: dict, entries: dict[int, dict]) -> dict:
    doc = {"format": FORMAT, "request": request,
           "complete": len(entries) == len(_plan(request)),
           "shards": [{k: v for k, v in entries[i].items() if k != "skipped"} for i in sorted(entries)]}
    with atomic_file(out / MANIFEST) as tmp:
        tmp.write_text(json.dumps(doc, indent=1) + "\n")
    return doc


def _remove_partial(out: Path) -> None:
    """Temporary files of shards whose writer died (see atomic.atomic_file)."""
    for tmp in out.glob(".shard_*.h5.*.tmp"):
        tmp.unlink(missing_ok=True)


def generate_shards(
    out: str | os.PathLike,
    n: int,
    *,
    source: str | os.PathLike = "mc",
    shard_size: int = 10_000,
    seed: int,
    energy_range_gev: tuple[float, float] = ENERGY_RANGE_GEV,
    spectrum: str = "uniform",
    energies_gev: np.ndarray | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    timeout: float | None = None,
    progress: bool = True,
) -> GenerationRun:
    """Generate ``n`` showers into seeded shard files under ``out`` (see the module docstring).

    Args:
        n: number of showers (>= 1); shard_size: showers per shard (Monte Carlo shards are
            rounded up to whole blocks of 128).
        source: 'mc' or a gan3d artefact folder; seed: non-negative integer.
        energy_range_gev, spectrum: primary energies in GeV, 'uniform' or 'log-uniform'.
        energies_gev: (n,) primary energies in GeV for a GAN source, instead of drawing them.
        workers: worker processes (1 thread each) of the LocalCluster started when
            ``scheduler`` is None; scheduler: a Dask scheduler address ('tcp://host:8786'),
            or 'synchronous' for a plain loop in this process.
        timeout: seconds to wait for all shards (None: no limit).

    Raises ValueError if ``out`` holds a manifest of another request.
    """
    source = "mc" if str(source) == "mc" else str(Path(source).resolve())  # workers may run elsewhere
    request = _request(n, source, shard_size, seed, energy_range_gev, spectrum, energies_gev)
    if scheduler is None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    previous: dict[int, dict] = {}
    if (out / MANIFEST).exists():
        old = read_manifest(out)
        if old["request"] != request:
            raise ValueError(f"{out / MANIFEST}: holds shards of another request ({old['request']}); "
                             "use a new folder or delete it")
        previous = {s["shard"]: s for s in old["shards"]}
    _remove_partial(out)
    specs = _plan(request)
    e = None if energies_gev is None else np.asarray(energies_gev, np.float32).reshape(-1)
    args = [(str(out), s, request, None if e is None else e[s["first_shower"]:s["first_shower"] + s["count"]],
             previous.get(s["shard"])) for s in specs]
    t0 = time.perf_counter()
    entries: dict[int, dict] = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(specs), desc="shards", unit="shard")

    def record(entry: dict) -> None:
        entries[entry["shard"]] = entry
        _write_manifest(out, request, {**previous, **entries})  # a crash keeps what earlier runs made
        if bar is not None:
            bar.update(1)

    try:
        if scheduler == "synchronous":
            for a in args:
                record(_make_shard(*a))
        else:
            _run_on_dask(args, record, workers=workers, scheduler=scheduler, timeout=timeout)
    finally:
        if bar is not None:
            bar.close()
    _remove_partial(out)
    doc = _write_manifest(out, request, entries)
    return GenerationRun(out / MANIFEST, doc, sorted(k for k, v in entries.items() if not v["skipped"]),
                         sorted(k for k, v in entries.items() if v["skipped"]), time.perf_counter() - t0)


def _run_on_dask(args: list[tuple], record, *, workers: int, scheduler: str | None, timeout: float | None) -> None:
    """Submit one task per shard; ``record`` each result on the client as it completes."""
    from contextlib import ExitStack
    from uuid import uuid4

    from distributed import Client, LocalCluster, as_completed

    with ExitStack() as stack:
        if scheduler is None:
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                       dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(Client(scheduler, timeout=30 if timeout is None else min(30, timeout)))
        run = uuid4().hex[:8]
        futures = [client.submit(_make_shard, *a, key=f"gan3d-shard-{a[1]['shard']:05d}-{run}", pure=False)
                   for a in args]
        try:
            for future in as_completed(futures, timeout=timeout):
                record(future.result())
        finally:
            client.cancel(futures)
