"""Print Monte Carlo generation throughput (showers/s) on Dask with 1 and 2 worker processes.

    python benchmarks/generation_scaling.py [--n 4096] [--shard-size 512] [--seed 1]

Each point starts a LocalCluster (processes, 1 thread each) and imports gan3d on its
workers before the clock starts; the timed part is ``generate_shards`` into a fresh folder
(simulation, gzip HDF5 writes, SHA-256 checksums, manifest). Energies uniform in 2-500 GeV.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import tempfile

from distributed import Client, LocalCluster

from gan3d_lib.generation import generate_shards
from gan3d_lib.results import machine_info, package_versions


def measure(n: int, shard_size: int, seed: int, workers: int) -> dict:
    """One timed run of ``n`` Monte Carlo showers on ``workers`` Dask worker processes."""
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client, tempfile.TemporaryDirectory() as tmp:
        client.run(importlib.import_module, "gan3d_lib.generation")
        run = generate_shards(tmp, n, shard_size=shard_size, seed=seed, scheduler=cluster.scheduler_address,
                              progress=False)
    return {"workers": workers, "n_showers": run.n_showers, "shards": len(run.generated), "seconds": run.seconds,
            "showers_per_s": run.n_showers / run.seconds}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=4096)
    p.add_argument("--shard-size", type=int, default=512)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    m = machine_info()
    v = package_versions()
    print(f"machine: {m['cpu_model']}, {m['usable_cores']} usable cores, load average {os.getloadavg()[0]:.1f} "
          f"before the run; numpy {v['numpy']}, dask {importlib.import_module('dask').__version__}")
    runs = [measure(args.n, args.shard_size, args.seed, w) for w in (1, 2)]
    for r in runs:
        print(f"{r['workers']} Dask worker(s): {r['showers_per_s']:8.0f} showers/s "
              f"({r['n_showers']} showers in {r['shards']} shards of {args.shard_size}, {r['seconds']:.1f} s)")
    print(f"2 vs 1 worker: {runs[1]['showers_per_s'] / runs[0]['showers_per_s']:.2f}x")
    print(json.dumps({"machine": m, "settings": vars(args), "runs": runs}))


if __name__ == "__main__":
    main()
