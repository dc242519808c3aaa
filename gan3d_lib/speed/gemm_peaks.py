"""Achievable peaks of this CPU, measured by matrix products that share nothing with the models.

Fractions of peak in chapter 4 are taken against these, not against a number fitted to the
models: FP32 through oneDNN (TensorFlow's ``MatMul``) and through ONNX Runtime (``MatMul``),
BF16 through oneDNN (TensorFlow, where the CPU has BF16), INT8 through ONNX Runtime
(``MatMulInteger``, u8 x s8 -> s32). Each is the best of ``repeats`` timed products of
``n`` x ``n`` matrices with the threads this process may use, all by one timer.
"""

from __future__ import annotations

import os
import time

import numpy as np

__all__ = ["tf_gemm_macs_per_s", "ort_gemm_macs_per_s", "measured_peaks"]


def _best_rate(run, n: int, repeats: int) -> float:
    run()  # warm-up: thread pools, kernel selection, page faults
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return n ** 3 / best


def tf_gemm_macs_per_s(n: int = 2048, *, dtype: str = "float32", repeats: int = 5, seed: int = 1) -> float:
    """Multiply-accumulates per second of TensorFlow's (oneDNN) ``MatMul`` in ``dtype``
    (float32 or bfloat16) on n x n matrices."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    a = tf.constant(rng.standard_normal((n, n), dtype=np.float32), dtype=dtype)
    b = tf.constant(rng.standard_normal((n, n), dtype=np.float32), dtype=dtype)
    matmul = tf.function(lambda: tf.linalg.matmul(a, b))
    return _best_rate(lambda: matmul().numpy(), n, repeats)


def ort_gemm_macs_per_s(n: int = 2048, *, int8: bool = False, repeats: int = 5, seed: int = 1,
                        threads: int | None = None) -> float:
    """Multiply-accumulates per second of ONNX Runtime's ``MatMul`` (FP32) or ``MatMulInteger``
    (u8 activations x s8 weights, s32 accumulation) on n x n matrices, the weight a constant."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    if int8:
        x = rng.integers(0, 255, (n, n), dtype=np.uint8)
        w = numpy_helper.from_array(rng.integers(-127, 127, (n, n), dtype=np.int8), "w")
        node = helper.make_node("MatMulInteger", ["x", "w"], ["y"])
        types = (TensorProto.UINT8, TensorProto.INT32)
    else:
        x = rng.standard_normal((n, n), dtype=np.float32)
        w = numpy_helper.from_array(rng.standard_normal((n, n), dtype=np.float32), "w")
        node = helper.make_node("MatMul", ["x", "w"], ["y"])
        types = (TensorProto.FLOAT, TensorProto.FLOAT)
    graph = helper.make_graph([node], "gemm", [helper.make_tensor_value_info("x", types[0], [n, n])],
                              [helper.make_tensor_value_info("y", types[1], [n, n])], initializer=[w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    onnx.checker.check_model(model)
    return _best_rate(lambda: sess.run(None, {"x": x}), n, repeats)


def measured_peaks(n: int = 2048, *, repeats: int = 5, bf16: bool | None = None) -> dict:
    """{'fp32_tf', 'fp32_ort', 'int8_ort', 'bf16_tf' (None without BF16), 'fp32', 'int8', 'bf16'
    (the best measured per arithmetic; 'bf16' None, not measured, without BF16), 'n', 'threads'}
    in MACs per second."""
    from ..core.results import machine_info

    if bf16 is None:
        bf16 = bool(machine_info()["avx512_bf16"])
    out = {"fp32_tf": tf_gemm_macs_per_s(n, repeats=repeats), "fp32_ort": ort_gemm_macs_per_s(n, repeats=repeats),
           "int8_ort": ort_gemm_macs_per_s(n, int8=True, repeats=repeats),
           "bf16_tf": tf_gemm_macs_per_s(n, dtype="bfloat16", repeats=repeats) if bf16 else None,
           "n": n, "threads": len(os.sched_getaffinity(0))}
    out.update({"fp32": max(out["fp32_tf"], out["fp32_ort"]), "int8": out["int8_ort"], "bf16": out["bf16_tf"]})
    return out
