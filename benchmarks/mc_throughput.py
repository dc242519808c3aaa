"""Print the Monte Carlo's throughput (showers/s) with 1 and 2 processes, side by side.

    python benchmarks/mc_throughput.py [--n 4096] [--seed 1]

Energies are uniform in 2-500 GeV; the machine and thread settings are printed with the result.
"""

from __future__ import annotations

import argparse
import json
import os

from gan3d_lib.speed.throughput import mc_throughput
from gan3d_lib.core.results import machine_info, package_versions


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=4096)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    m = machine_info()
    print(f"machine: {m['cpu_model']}, {m['usable_cores']} usable cores; numpy {package_versions()['numpy']}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    runs = [mc_throughput(args.n, seed=args.seed, workers=w) for w in (1, 2)]
    for r in runs:
        print(f"{r['workers']} process(es): {r['showers_per_s']:8.0f} showers/s "
              f"({r['n_showers']} showers, E uniform 2-500 GeV, best of {len(r['seconds'])})")
    print(f"2 vs 1 process: {runs[1]['showers_per_s'] / runs[0]['showers_per_s']:.2f}x")
    print(json.dumps({"machine": m, "runs": runs}))


if __name__ == "__main__":
    main()
