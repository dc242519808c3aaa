"""Quantization-aware fine-tuning against the physics gate: one generator with every Dense and
convolution in INT8 (``gan3d_lib.precision.qat``), before and after distillation from its FP32 self,
exported with quantize/dequantize nodes and run by ONNX Runtime; each judged by chapter 3's gate
(``precision.gate``) and timed beside ONNX Runtime FP32, side by side, at one batch size. Prints the
CPU, its flags and the threads; writes every number to ``--out`` (JSON).

    python benchmarks/qat_gate.py --weights data/weights/conv2d_lite_stage14 --steps 300
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def _ort(path: Path):
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda z: np.concatenate([session.run(None, {name: z[i:i + 128]})[0] for i in range(0, len(z), 128)])


def main() -> None:
    from gan3d_lib.core.results import machine_info, package_versions
    from gan3d_lib.precision import gate, qat, quantization
    from gan3d_lib.precision.export import onnx_fp32
    from gan3d_lib.training.training import load_generator

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", default="data/weights/conv2d_lite_stage14", help="training folder of the generator")
    p.add_argument("--steps", type=int, default=300, help="distillation steps")
    p.add_argument("--lr", type=float, default=1e-5, help="distillation learning rate")
    p.add_argument("--gate-n", type=int, default=1000, help="showers the gate compares (chapter 3's default)")
    p.add_argument("--batch", type=int, default=128, help="batch size of the timing")
    p.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="results/qat_gate.json")
    args = p.parse_args()
    m = machine_info()
    print(f"CPU {m['cpu_model']}, {m['usable_cores']} cores, avx512_vnni={m['avx512_vnni']} amx={m['amx']}; "
          f"ONNX Runtime default threads; batch {args.batch}")
    generator = load_generator(args.weights)
    ref, z = gate.fp32_gate(lambda lat: np.asarray(generator.predict(lat, batch_size=128, verbose=0)), args.gate_n,
                            seed=args.seed, n_bootstrap=20)
    calibration = quantization.calibration_latents(256, seed=args.seed)
    ranges = qat.calibrated_input_ranges(generator, calibration)
    out: dict = {"weights": args.weights, "steps": args.steps, "lr": args.lr, "gate_n": args.gate_n, "machine": m,
                 "versions": package_versions(), "candidates": {}}
    with tempfile.TemporaryDirectory(prefix="gan3d-qat-") as scratch:
        paths = {"onnx-fp32": Path(scratch) / "fp32.onnx"}
        onnx_fp32(generator, paths["onnx-fp32"])
        student = qat.fake_quantized(generator, ranges)
        paths["qdq-int8, calibrated only"] = qat.onnx_qdq(student, Path(scratch) / "ptq.onnx")
        t0 = time.perf_counter()
        losses = qat.distil(student, generator, quantization.calibration_latents(4096, seed=args.seed + 1),
                            steps=args.steps, learning_rate=args.lr, seed=args.seed)
        out["distillation"] = {"seconds": time.perf_counter() - t0, "loss_first": losses[0],
                               "loss_last_10": float(np.mean(losses[-10:]))}
        paths[f"qdq-int8, QAT {args.steps} steps"] = qat.onnx_qdq(student, Path(scratch) / "qat.onnx")
        runs = {name: _ort(path) for name, path in paths.items()}
        results = {name: gate.precision_gate(run(z), ref) for name, run in runs.items() if name != "onnx-fp32"}
        rows = gate.gate_table(results)
        batch = quantization.calibration_latents(args.batch, seed=args.seed + 2)
        speed = {name: [] for name in runs}
        for name, run in runs.items():
            run(batch)  # warm-up
        for _ in range(args.rounds):
            for name, run in runs.items():
                n, t0 = 0, time.perf_counter()
                while time.perf_counter() - t0 < 1.0:
                    run(batch)
                    n += args.batch
                speed[name].append(n / (time.perf_counter() - t0))
    best = {k: max(v) for k, v in speed.items()}
    for row in rows:
        name = row["candidate"]
        out["candidates"][name] = {**row, "showers_per_s": best[name], "speedup_over_onnx_fp32": best[name] / best["onnx-fp32"]}
        print(f"{name}: gate {'passed' if row['passed'] else 'failed'} (worst {row['worst_condition']} in {row['worst_bin']}, "
              f"{row['worst_ratio']:.3g} x its limit), small cells {row['small_cells_ratio_min']:.2f} x FP32; "
              f"{best[name]:.0f} showers/s, {best[name] / best['onnx-fp32']:.2f}x ONNX Runtime FP32 ({best['onnx-fp32']:.0f})")
    print(f"distillation: {args.steps} steps in {out['distillation']['seconds']:.0f} s, loss {losses[0]:.3g} -> "
          f"{out['distillation']['loss_last_10']:.3g}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
