"""Gated INT8 against FP32, side by side: showers/s of the searched INT8 artefacts (``gan3d
quantize --tune``) beside the FP32 graph, OpenVINO FP32 and the all-ops INT8 artefacts, for
the lite generator and, with each searched layout applied layer for layer, the paper-size
(untrained) one. Prints the CPU, its flags, threads and batch of every number, and whether each
searched artefact passed the gate (its manifest's gate record): a search may end without a
passing configuration, and its speed is then not that of a gated INT8.

    python benchmarks/gated_int8_speed.py --tuned data/artefacts/ov8-tuned data/artefacts/onnx8-tuned

``--profile`` adds, for the paper-size OpenVINO artefacts at the largest batch, where the time
goes: milliseconds per batch by the precision of the kernel that ran (OpenVINO's performance
counters), and the op types that take it.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def main() -> None:
    from gan3d_lib.precision import quantization
    from gan3d_lib.precision.artefacts import load_artefact
    from gan3d_lib.speed.bench import run_streams
    from gan3d_lib.speed.int8_search import transfer_config
    from gan3d_lib.models.models import build_generator, generator_options
    from gan3d_lib.speed.profiles import kernel_precision_ms, op_profile
    from gan3d_lib.core.results import machine_info
    from gan3d_lib.book.speedups import search_gate
    from gan3d_lib.training.training import load_generator

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tuned", nargs="+", required=True, help="searched INT8 artefact folders of the lite generator")
    p.add_argument("--weights", default="data/weights/conv2d_lite_stage14", help="the lite generator they were searched on")
    p.add_argument("--artefacts", default="data/artefacts", help="chapter 3's artefact folders (FP32 and all-ops INT8)")
    p.add_argument("--batch", default="1,16,128")
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=1, help="seed of the untrained paper-size generator (chapter 3's)")
    p.add_argument("--profile", action="store_true", help="OpenVINO kernel-precision profile of the paper-size artefacts")
    args = p.parse_args()
    batches = [int(b) for b in args.batch.split(",")]
    m = machine_info()
    print(f"CPU {m['cpu_model']}, {m['usable_cores']} cores, avx2={m['avx2']} avx512_vnni={m['avx512_vnni']} "
          f"amx={m['amx']}; one stream, all cores, {args.rounds} interleaved rounds of {args.seconds:g} s")
    lite = load_generator(args.weights)
    paper = build_generator("conv2d", size="paper", seed=args.seed, **generator_options(lite))
    baselines = ("tf-graph-fp32", "openvino-fp32", "openvino-int8", "onnx-fp32", "onnx-int8")
    with tempfile.TemporaryDirectory(prefix="gan3d-gated-") as scratch:
        paper_tuned, tuned_backends = [], []
        for folder in args.tuned:
            art = load_artefact(folder)
            tuned_backends.append(art.backend)
            print(f"{folder}: physics gate {search_gate(folder) or 'not recorded in its manifest'}")
            cfg = transfer_config(art.manifest["settings"], quantization.quantizable_layers(art.backend, lite),
                                  quantization.quantizable_layers(art.backend, paper))
            paper_tuned.append(str(quantization.make_artefact(
                art.backend, paper, Path(scratch) / Path(folder).name, model="conv2d", size="paper", source="untrained",
                calibration=quantization.calibration_latents(256, seed=args.seed), config=cfg).path))
        for size, folders in (("lite", [f"{args.artefacts}/conv2d_lite/{b}" for b in baselines] + list(args.tuned)),
                              ("paper", [f"{args.artefacts}/conv2d_paper_untrained/{b}" for b in baselines]
                               + paper_tuned)):
            records = run_streams(folders, batches, seconds=args.seconds, rounds=args.rounds)
            fp32 = {r["batch_size"]: r["showers_per_s"] for r in records if r["artefact"].endswith("tf-graph-fp32")}
            for r in records:
                print(f"{size:5s} {Path(r['artefact']).name:28s} batch {r['batch_size']:4d} {r['showers_per_s']:9.1f} "
                      f"showers/s  {r['showers_per_s'] / fp32[r['batch_size']]:5.2f}x TF FP32 graph")
        if args.profile:
            batch = max(batches)
            print(f"paper, batch {batch}: ms per batch by kernel precision (OpenVINO performance counters, "
                  f"{args.rounds * 2} runs)")
            for folder in [f"{args.artefacts}/conv2d_paper_untrained/{b}" for b in ("openvino-fp32", "openvino-int8")] \
                    + [f for f, b in zip(paper_tuned, tuned_backends) if b.startswith("openvino")]:
                prof = op_profile(folder, batch, runs=args.rounds * 2, warmup=2)
                by_precision = kernel_precision_ms(prof)
                fp32_ops: dict[str, float] = {}
                for o in prof["ops"]:
                    for kernel, ms in o["detail"].get("kernels", {}).items():
                        if kernel.upper().endswith(("FP32", "F32")):
                            fp32_ops[o["op"]] = fp32_ops.get(o["op"], 0.0) + ms / prof["runs"]
                top = ", ".join(f"{op} {ms:.1f}" for op, ms in sorted(fp32_ops.items(), key=lambda kv: -kv[1])[:4])
                print(f"  {Path(folder).name:28s} wall {prof['wall_ms']:7.1f} ms; "
                      + "; ".join(f"{k} {v:.1f} ms ({v / prof['wall_ms']:.0%})" for k, v in sorted(by_precision.items()))
                      + f"; FP32 kernels by op: {top}")


if __name__ == "__main__":
    main()
