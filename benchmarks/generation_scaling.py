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

from gan3d_lib.speed.throughput import dask_generation_throughput
from gan3d_lib.core.results import machine_info, package_versions


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
    runs = [dask_generation_throughput(args.n, workers=w, shard_size=args.shard_size, seed=args.seed) for w in (1, 2)]
    for r in runs:
        print(f"{r['workers']} Dask worker(s): {r['showers_per_s']:8.0f} showers/s "
              f"({r['n_showers']} showers in {r['shards']} shards of {args.shard_size}, {r['seconds']:.1f} s)")
    print(f"2 vs 1 worker: {runs[1]['showers_per_s'] / runs[0]['showers_per_s']:.2f}x")
    print(json.dumps({"machine": m, "settings": vars(args), "runs": runs}))


if __name__ == "__main__":
    main()
