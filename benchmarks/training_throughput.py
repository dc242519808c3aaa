"""Print GAN training throughput (showers/s), FP32 and mixed BF16, for each model size, side by side.

    python benchmarks/training_throughput.py [--sizes lite paper] [--steps 10] [--batch 128]
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gan3d_lib.speed.throughput import training_throughput  # noqa: E402
from gan3d_lib.core.results import machine_info, package_versions  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="conv2d", choices=["conv2d", "conv3d"])
    p.add_argument("--sizes", nargs="+", default=["lite", "paper"])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    args = p.parse_args()
    import tensorflow as tf

    m = machine_info()
    print(f"machine: {m['cpu_model']}, {m['usable_cores']} usable cores, AVX-512 BF16: {m['avx512_bf16']}; "
          f"TensorFlow {package_versions().get('tensorflow')}, intra-op threads "
          f"{tf.config.threading.get_intra_op_parallelism_threads() or 'default (all cores)'}")
    runs = []
    for size in args.sizes:
        pair = {}
        for precision in ("float32", "mixed_bfloat16"):
            r = training_throughput(args.model, size, precision=precision, batch_size=args.batch, steps=args.steps)
            pair[precision] = r
            runs.append(r)
            print(f"{args.model} {size:5s} {precision:15s} {r['showers_per_s']:7.1f} showers/s "
                  f"(batch {args.batch}, {args.steps} timed steps)", flush=True)
        speedup = pair["mixed_bfloat16"]["showers_per_s"] / pair["float32"]["showers_per_s"]
        print(f"{args.model} {size}: bf16 / fp32 = {speedup:.2f}x")
    print(json.dumps({"machine": m, "runs": runs}))


if __name__ == "__main__":
    main()
