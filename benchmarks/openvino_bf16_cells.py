"""Why OpenVINO BF16 fails chapter 3's gate on a CPU with AVX-512 BF16: a reproducer.

Part 1, no TensorFlow: a one-convolution OpenVINO model ``exp(conv(x))``, the small-cell head's
form (a convolution that outputs ln(E / MeV), then exp), compiled in f32 and with the bf16
inference-precision hint. Beside it, NumPy's float32 result with the convolution's output rounded
to bfloat16 before the exp: if OpenVINO's bf16 error matches that, it is the documented bfloat16
rounding (8 significant bits) of a log-domain activation, which exp turns into a relative error
of |ln E| x 2^-9, not a kernel bug.
Part 2: the shipped lite generator's cells below 0.1 MeV, OpenVINO bf16 and Keras mixed_bfloat16
against FP32, and its small-cell head's ln(E / MeV) output (the part the exp amplifies).

    python benchmarks/openvino_bf16_cells.py [--weights data/weights/conv2d_lite_stage14]

Prints the CPU, its flags, the versions, and for each case the 1st/99th percentiles of the
ratio to FP32. On a CPU without AVX-512 BF16 or AMX, OpenVINO emulates nothing: bf16 is skipped.
"""

from __future__ import annotations

import argparse

import numpy as np


def _bf16_round(a: np.ndarray) -> np.ndarray:
    """float32 -> nearest bfloat16 (round to nearest even) -> float32."""
    bits = a.astype(np.float32).view(np.uint32)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return rounded.astype(np.uint32).view(np.float32)


def _percentiles(ratio: np.ndarray) -> str:
    return f"ratio to FP32 p1 {np.percentile(ratio, 1):.3f}, p99 {np.percentile(ratio, 99):.3f}"


def tiny_model(seed: int, log_scale: float) -> None:
    import openvino as ov
    import openvino.opset13 as ops

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 16, 12, 12)).astype(np.float32)  # NCHW
    w = (rng.normal(size=(4, 16, 3, 3)) * log_scale / np.sqrt(16 * 9)).astype(np.float32)
    core = ov.Core()

    def model(weights, head=True):
        param = ops.parameter(x.shape, ov.Type.f32)
        conv = ops.convolution(param, ops.constant(weights), [1, 1], [0, 0], [0, 0], [1, 1])
        return ov.Model([ops.exp(ops.minimum(conv, ops.constant(np.float32(3.0)))) if head else conv], [param])

    def run(m, data, precision):
        return core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": precision})(data)[0]

    fp32, bf16 = run(model(w), x, "f32"), run(model(w), x, "bf16")
    # bfloat16 inputs and weights, float32 accumulation (as oneDNN's bf16 kernels), bfloat16 output
    conv = run(model(_bf16_round(w), head=False), _bf16_round(x), "f32")
    emulated = np.exp(np.minimum(_bf16_round(conv), 3.0))
    live = fp32 > 1e-30
    print(f"tiny exp(conv) model, |ln E| up to {np.abs(conv).max():.0f}:")
    print(f"  OpenVINO bf16 hint:                       {_percentiles(bf16[live] / fp32[live])}")
    print("  bf16 inputs, weights and conv output,")
    print(f"  float32 accumulation (emulated in f32):   {_percentiles(emulated[live] / fp32[live])}")
    print(f"  largest |OpenVINO bf16 - emulated| / emulated: {np.abs(bf16[live] / emulated[live] - 1).max():.2e}")


def shipped_generator(weights: str, seed: int) -> None:
    import keras

    from gan3d_lib.models import latent_vectors
    from gan3d_lib.precision import quantization
    from gan3d_lib.precision.backends import KERAS_BF16, OPENVINO_BF16
    from gan3d_lib.training import load_generator
    import tempfile
    from pathlib import Path

    generator = load_generator(weights)
    z = latent_vectors(np.geomspace(2.0, 500.0, 64), seed=seed)
    ref = np.asarray(generator(z, training=False))
    small = (ref > 0) & (ref <= 1e-4)
    print(f"{weights}, 64 showers 2-500 GeV, {small.sum()} cells in (0, 0.1] MeV:")
    with tempfile.TemporaryDirectory() as d:
        for backend in (OPENVINO_BF16, KERAS_BF16):
            art = quantization.make_artefact(backend, generator, Path(d) / backend, model="conv2d", size="lite",
                                             source=weights, calibration=z[:8])
            out = art.generate_from_latent(z)
            print(f"  {backend:14s} {_percentiles(out[small] / ref[small])}")
    head = keras.Model(generator.input, generator.get_layer("small_cells_ln_mev").output)
    ln_e = np.asarray(head(z, training=False))
    print(f"  small-cell head ln(E/MeV): |value| median {np.median(np.abs(ln_e)):.1f}, max {np.abs(ln_e).max():.0f}; "
          f"bf16 rounding of it alone: {_percentiles(np.exp(_bf16_round(ln_e) - ln_e).ravel())}")


def main() -> None:
    import openvino as ov

    from gan3d_lib.core.results import machine_info
    from gan3d_lib.precision.openvino_artefacts import bf16_offered

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", default="data/weights/conv2d_lite_stage14")
    p.add_argument("--seed", type=int, default=3)
    args = p.parse_args()
    machine = machine_info()
    flags = [k for k in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx") if machine[k]]
    print(f"CPU {machine['cpu_model']}, {machine['usable_cores']} cores, flags {', '.join(flags)}; OpenVINO {ov.__version__}")
    if not bf16_offered():
        print("skipped: OpenVINO's CPU plugin offers no BF16 here (neither AVX-512 BF16 nor AMX)")
        return
    tiny_model(args.seed, log_scale=40.0)
    shipped_generator(args.weights, args.seed)


if __name__ == "__main__":
    main()
