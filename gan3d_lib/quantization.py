"""Reduced-precision artefacts of a Keras generator: Neural Compressor INT8, TFLite, ONNX Runtime, BF16.

:func:`make_artefact` writes one artefact folder (see :mod:`gan3d_lib.artefacts`) for a
backend. INT8 backends calibrate on latent vectors drawn as in training,
``(E / 100 GeV) * N(0, 1)`` with E log-uniform in 2-500 GeV (:func:`calibration_latents`).

Accuracy-driven tuning (:func:`tune`) walks a ladder of candidate configurations: all
quantizable ops in INT8, then the ops nearest the output kept in FP32, one graph layer
more per trial (:func:`fallback_ladder`), and stops at the first candidate whose physics
metric (``shower_shape_mse`` against held-out Monte Carlo, lower is better) is within
``tolerance`` of FP32 (``mse_int8 <= (1 + tolerance) * mse_fp32``). Every trial is recorded.
The loop is the one Neural Compressor 3.x ``autotune`` runs over a config list (quantize,
evaluate, stop at the first within tolerance); it is ours so that INC and ONNX Runtime share
it and its trial record. Each INC trial is a ``StaticQuantConfig`` whose ``set_local``
entries keep the fallback ops in FP32; each ONNX trial passes them as ``nodes_to_exclude``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .artefacts import BACKENDS, Artefact, HardwareUnsupported, write_artefact

__all__ = ["calibration_latents", "make_artefact", "fallback_ladder", "quantizable_ops", "tune", "op_precision_table",
           "HardwareUnsupported", "QUANTIZABLE_TF_OPS", "QUANTIZABLE_ONNX_OPS"]

QUANTIZABLE_TF_OPS = ("Conv2D", "MatMul", "Conv2DBackpropInput", "DepthwiseConv2dNative")
QUANTIZABLE_ONNX_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm")


def calibration_latents(n: int = 256, *, seed: int = 2024, energy_range_gev: tuple[float, float] = (2.0, 500.0),
                        latent_size: int = 200) -> np.ndarray:
    """(n, latent_size) float32 latent vectors, E log-uniform in ``energy_range_gev`` (GeV)."""
    from .models import latent_vectors

    rng = np.random.default_rng([seed, 0])
    energies = np.exp(rng.uniform(*np.log(energy_range_gev), n)).astype(np.float32)
    return latent_vectors(energies, seed=seed, latent_size=latent_size)


# ---------------------------------------------------------------------------------------------
# graph structure: which ops are quantizable, and how far each is from the output


def _tf_graph(graph_def) -> tuple[dict[str, str], dict[str, list[str]]]:
    ops = {n.name: n.op for n in graph_def.node}
    inputs = {n.name: [i.lstrip("^").split(":")[0] for i in n.input] for n in graph_def.node}
    return ops, inputs


def _onnx_graph(model) -> tuple[dict[str, str], dict[str, list[str]]]:
    producer = {o: n.name for n in model.graph.node for o in n.output}
    ops = {n.name: n.op_type for n in model.graph.node}
    inputs = {n.name: [producer[i] for i in n.input if i in producer] for n in model.graph.node}
    return ops, inputs


def quantizable_ops(ops: dict[str, str], inputs: dict[str, list[str]], quantizable: Sequence[str]) -> dict[str, int]:
    """{op name: layer depth} of the quantizable ops: depth 0 for those with no quantizable op
    between them and the output, 1 for the layer feeding those, and so on (longest path)."""
    consumers: dict[str, list[str]] = {name: [] for name in ops}
    for name, ins in inputs.items():
        for i in ins:
            if i in consumers:
                consumers[i].append(name)
    depth: dict[str, int] = {}

    def visit(name: str) -> int:  # quantizable ops strictly downstream of `name`, longest chain
        if name in depth:
            return depth[name]
        depth[name] = 0
        best = 0
        for c in consumers[name]:
            best = max(best, visit(c) + (1 if ops[c] in quantizable else 0))
        depth[name] = best
        return best

    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(ops)))
    try:
        return {n: visit(n) for n, op in ops.items() if op in quantizable}
    finally:
        sys.setrecursionlimit(limit)


def fallback_ladder(depths: dict[str, int], *, max_trials: int | None = None) -> list[list[str]]:
    """Candidate lists of ops kept in FP32: [], then every op of depth 0, then of depth <= 1, ..."""
    ladder: list[list[str]] = [[]]
    for d in range(max(depths.values(), default=-1) + 1):
        ladder.append(sorted(n for n, k in depths.items() if k <= d))
    return ladder[:max_trials] if max_trials else ladder


# ---------------------------------------------------------------------------------------------
# writers, one per backend


def _write_keras_weights(generator):
    return lambda path: generator.save_weights(path)


def _write_graph(generator, *, transposed_as_conv: bool):
    from .export import frozen_graph, write_graph

    return lambda path: write_graph(frozen_graph(generator, transposed_as_conv=transposed_as_conv), path)


class _Calibration:
    """An INC dataset: (latent, dummy label) pairs."""

    def __init__(self, latent: np.ndarray):
        self.latent = latent

    def __len__(self) -> int:
        return len(self.latent)

    def __getitem__(self, i):
        return self.latent[i], 0


def _inc_config(fp32_ops: Sequence[str]):
    import re

    from neural_compressor.tensorflow import StaticQuantConfig

    cfg = StaticQuantConfig(weight_granularity="per_channel")
    for name in fp32_ops:
        cfg.set_local(re.escape(name) + "$", StaticQuantConfig(weight_dtype="fp32", act_dtype="fp32"))
    return cfg


def _inc_quantize(graph_path: str, latent: np.ndarray, fp32_ops: Sequence[str], batch_size: int = 32):
    import logging

    from neural_compressor.tensorflow import quantize_model
    from neural_compressor.tensorflow.utils import BaseDataLoader

    logging.getLogger("neural_compressor").setLevel(logging.WARNING)
    loader = BaseDataLoader(dataset=_Calibration(latent), batch_size=batch_size)
    return quantize_model(str(graph_path), _inc_config(fp32_ops), loader, calib_iteration=-(-len(latent) // batch_size))


def _inc_in_subprocess(graph_path: Path, latent: np.ndarray, fp32_ops: Sequence[str], out_path: Path) -> None:
    """Run INC in a child process, in a scratch directory: INC collects its calibration ranges
    by redirecting file descriptor 2 (where ``tf.print`` writes), which fails under a captured
    stderr (pytest, Jupyter), and it writes ``nc_workspace/`` into the working directory."""
    import json
    import subprocess
    import sys

    with tempfile.TemporaryDirectory(prefix="gan3d-inc-") as d:
        np.save(Path(d) / "latent.npy", latent)
        (Path(d) / "fp32_ops.json").write_text(json.dumps(list(fp32_ops)))
        cmd = [sys.executable, "-m", "gan3d_lib.quantization", str(Path(graph_path).resolve()), "latent.npy",
               "fp32_ops.json", str(Path(out_path).resolve())]
        res = subprocess.run(cmd, cwd=d, capture_output=True, text=True,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")})
        if res.returncode != 0 or not Path(out_path).exists():
            tail = "\n".join((res.stderr or res.stdout).strip().splitlines()[-15:])
            raise RuntimeError(f"Neural Compressor failed to quantize {graph_path}:\n{tail}")


def _write_inc(generator, latent: np.ndarray, fp32_ops: Sequence[str]):
    from .export import frozen_graph, write_graph

    def write(path: Path):
        graph_path = path.with_name("fp32_graph.pb")
        write_graph(frozen_graph(generator, transposed_as_conv=True), graph_path)
        try:
            _inc_in_subprocess(graph_path, latent, fp32_ops, path)
        finally:
            graph_path.unlink(missing_ok=True)

    return write


def _write_tflite(generator, mode: str, latent: np.ndarray):
    import tensorflow as tf

    def write(path: Path):
        converter = tf.lite.TFLiteConverter.from_keras_model(generator)
        if mode == "fp16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif mode == "dynamic":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        elif mode == "int8":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: ([latent[i:i + 1]] for i in range(len(latent)))
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        with warnings.catch_warnings():  # float32 model inputs are intended: the latent stays float
            warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
            path.write_bytes(converter.convert())

    return write


def _capped_onnx_optimizer(max_iterations: int = 8):
    """tf2onnx's optimize_graph, stopped after ``max_iterations`` passes. tf2onnx 1.17 repeats
    its passes until none changes the graph, which on this generator never happens (the
    transpose passes undo each other), and deep-copies the graph before each pass."""
    def optimize_graph(graph, catch_errors=True, optimizers=None):
        from tf2onnx import optimizer

        passes = optimizer._get_optimizers() if optimizers is None else optimizers  # noqa: SLF001
        for iteration in range(max_iterations):
            changed = False
            for factory in passes.values():
                opt = factory()
                graph = opt.optimize(graph, iteration) or graph
                changed = changed or opt.graph_been_opt
            if not changed:
                break
        graph.topological_sort(graph.get_nodes())
        return graph

    return optimize_graph


def _onnx_fp32(generator, path: Path) -> None:
    import tf2onnx
    from tf2onnx import optimizer

    from .export import INPUT_NAME, OUTPUT_NAME, frozen_graph

    graph = frozen_graph(generator, transposed_as_conv=False)
    original = optimizer.optimize_graph
    optimizer.optimize_graph = _capped_onnx_optimizer()
    try:
        tf2onnx.convert.from_graph_def(graph, input_names=[f"{INPUT_NAME}:0"], output_names=[f"{OUTPUT_NAME}:0"],
                                       opset=17, output_path=str(path))
    finally:
        optimizer.optimize_graph = original


class _OnnxReader:
    def __init__(self, input_name: str, latent: np.ndarray, batch_size: int = 32):
        self.batches = iter([{input_name: latent[i:i + batch_size]} for i in range(0, len(latent), batch_size)])

    def get_next(self):
        return next(self.batches, None)

    def rewind(self):  # onnxruntime >= 1.16 may call it
        pass


def _onnx_quantize(fp32_path: Path, out_path: Path, latent: np.ndarray, fp32_ops: Sequence[str]) -> dict:
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    from .results import machine_info

    reader_cls = type("Reader", (_OnnxReader, CalibrationDataReader), {})
    name = onnx.load(str(fp32_path)).graph.input[0].name
    # U8S8 on CPUs without VNNI saturates in vpmaddubsw; 7-bit weights (reduce_range) avoid it.
    reduce_range = not machine_info()["avx512_vnni"]
    quantize_static(str(fp32_path), str(out_path), reader_cls(name, latent), quant_format=QuantFormat.QDQ,
                    per_channel=True, reduce_range=reduce_range, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, nodes_to_exclude=list(fp32_ops),
                    op_types_to_quantize=list(QUANTIZABLE_ONNX_OPS))
    return {"reduce_range": reduce_range, "activation_type": "uint8", "weight_type": "int8", "per_channel": True}


def _write_onnx(generator, int8: bool, latent: np.ndarray, fp32_ops: Sequence[str], info: dict):
    def write(path: Path):
        if not int8:
            _onnx_fp32(generator, path)
            return
        fp32 = path.with_name("fp32.onnx")
        try:
            _onnx_fp32(generator, fp32)
            info.update(_onnx_quantize(fp32, path, latent, fp32_ops))
        finally:
            fp32.unlink(missing_ok=True)

    return write


def op_precision_table(artefact: Artefact) -> dict[str, dict[str, int]]:
    """{op type: {'int8': n, 'fp32': n}} of the compute ops in an artefact's graph: an op
    counts as INT8 when it computes on INT8 tensors (TensorFlow: a ``Quantized*`` kernel;
    ONNX: its input comes from a DequantizeLinear, i.e. a QDQ pair ORT fuses; LiteRT: its
    output is INT8). FP16 storage (weights dequantized to FP32 at load) counts as FP32."""
    backend = artefact.backend
    table: dict[str, dict[str, int]] = {}

    def add(op: str, kind: str) -> None:
        entry = table.setdefault(op, {"int8": 0, "fp32": 0})
        entry[kind] = entry.get(kind, 0) + 1

    if backend in ("tf-graph-fp32", "inc-int8"):
        import tensorflow as tf

        from .export import graph_op_counts

        g = tf.compat.v1.GraphDef()
        g.ParseFromString(artefact.model_file.read_bytes())
        for op, n in graph_op_counts(g).items():
            if op in ("QuantizeV2", "Dequantize", "Requantize", "Pack", "Shape", "StridedSlice", "Reshape"):
                continue
            kind = "int8" if op.startswith("Quantized") or op.startswith("_Quantized") else "fp32"
            base = op.replace("QuantizedConv2D", "Conv2D").replace("QuantizedMatMul", "MatMul") if kind == "int8" else op
            base = base.split("With")[0] if kind == "int8" else base
            for _ in range(n):
                add(base, kind)
    elif backend.startswith("onnx"):
        import onnx

        m = onnx.load(str(artefact.model_file))
        dq_outputs = {o for n in m.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
        for n in m.graph.node:
            if n.op_type in ("QuantizeLinear", "DequantizeLinear", "Shape", "Reshape", "Unsqueeze", "Concat", "Squeeze"):
                continue
            int8 = n.op_type in QUANTIZABLE_ONNX_OPS and n.input and n.input[0] in dq_outputs
            add(n.op_type, "int8" if int8 else "fp32")
    elif backend.startswith("tflite"):
        from ai_edge_litert.interpreter import Interpreter

        interp = Interpreter(model_path=str(artefact.model_file))
        dtype = {d["index"]: d["dtype"] for d in interp.get_tensor_details()}
        for op in interp._get_ops_details():  # noqa: SLF001 (the public API has no op list)
            name = op["op_name"]
            if name in ("QUANTIZE", "DEQUANTIZE", "RESHAPE", "SHAPE", "STRIDED_SLICE", "PACK"):
                continue
            outs = [dtype.get(i) for i in op["outputs"] if i >= 0]
            add(name, "int8" if any(d in (np.int8, np.uint8) for d in outs) else "fp32")
    else:  # Keras: every layer computes at the policy's precision (BF16 keeps FP32 weights)
        kind = "bf16" if backend == "keras-bf16" else "fp32"
        for layer in artefact.manifest.get("layers", []):
            add(layer, kind)
    return dict(sorted(table.items()))


@contextlib.contextmanager
def _quiet():
    """Silence the converters' progress chatter (Python prints and log records below ERROR);
    their errors still raise."""
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logging.disable(logging.NOTSET)


def make_artefact(
    backend: str,
    generator,
    out: str | os.PathLike,
    *,
    model: str,
    size: str | float,
    source: str,
    calibration: np.ndarray | None = None,
    fp32_ops: Sequence[str] = (),
    extra: dict[str, Any] | None = None,
) -> Artefact:
    """Write the ``backend`` artefact of a Keras ``generator`` to folder ``out``.

    ``calibration``: latent vectors for INT8 calibration (default :func:`calibration_latents`);
    ``fp32_ops``: graph op names kept in FP32 (INC and ONNX Runtime INT8 only).
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    latent = calibration_latents() if calibration is None else np.asarray(calibration, np.float32)
    info: dict[str, Any] = {}
    writers = {
        "keras-fp32": lambda: _write_keras_weights(generator),
        "keras-bf16": lambda: _write_keras_weights(generator),
        "tf-graph-fp32": lambda: _write_graph(generator, transposed_as_conv=False),
        "inc-int8": lambda: _write_inc(generator, latent, fp32_ops),
        "tflite-fp32": lambda: _write_tflite(generator, "fp32", latent),
        "tflite-fp16": lambda: _write_tflite(generator, "fp16", latent),
        "tflite-dynamic": lambda: _write_tflite(generator, "dynamic", latent),
        "tflite-int8": lambda: _write_tflite(generator, "int8", latent),
        "onnx-fp32": lambda: _write_onnx(generator, False, latent, fp32_ops, info),
        "onnx-int8": lambda: _write_onnx(generator, True, latent, fp32_ops, info),
    }
    settings = {"fp32_ops": list(fp32_ops), "n_calibration": int(len(latent)) if "int8" in backend else 0}
    extra = {**(extra or {}), "layers": [type(layer).__name__ for layer in generator.layers]}

    def write(path: Path):
        with _quiet():
            writers[backend]()(path)

    art = write_artefact(out, backend, write, model=model, size=size, source=source,
                         settings={**settings, **info}, extra=extra)
    return art


def tune(
    backend: str,
    generator,
    out: str | os.PathLike,
    metric: Callable[[Artefact], float],
    *,
    model: str,
    size: str | float,
    source: str,
    tolerance: float = 0.10,
    max_trials: int | None = 8,
    calibration: np.ndarray | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Accuracy-driven INT8 (see the module docstring) for ``inc-int8`` or ``onnx-int8``.

    ``metric(artefact)`` returns the physics metric (lower is better). Writes the chosen
    artefact to ``out`` and returns {'baseline', 'trials': [{'trial', 'fp32_ops', 'metric',
    'ratio', 'accepted'}], 'chosen' (trial index or None), 'artefact'}.
    """
    if backend not in ("inc-int8", "onnx-int8"):
        raise ValueError(f"tune supports inc-int8 and onnx-int8, got {backend!r}")
    latent = calibration_latents() if calibration is None else calibration
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".tune-", dir=out.parent) as scratch:
        scratch = Path(scratch)
        fp32_backend = "tf-graph-fp32" if backend == "inc-int8" else "onnx-fp32"
        fp32 = make_artefact(fp32_backend, generator, scratch / "fp32", model=model, size=size, source=source)
        baseline = float(metric(fp32))
        ladder = fallback_ladder(_depths_for(backend, generator, scratch), max_trials=max_trials)
        trials: list[dict[str, Any]] = []
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(ladder), desc=f"tuning {backend}", unit="trial")
        chosen = None
        for i, fp32_ops in enumerate(ladder):
            art = make_artefact(backend, generator, scratch / f"trial_{i}", model=model, size=size, source=source,
                                calibration=latent, fp32_ops=fp32_ops)
            value = float(metric(art))  # HardwareUnsupported propagates: nothing to tune on this CPU
            ok = value <= (1.0 + tolerance) * baseline
            trials.append({"trial": i, "fp32_ops": fp32_ops, "n_fp32_ops": len(fp32_ops), "metric": value,
                           "ratio": value / baseline, "accepted": ok})
            if bar is not None:
                bar.update(1)
                bar.set_postfix(ratio=f"{value / baseline:.3f}")
            if ok:
                chosen = i
                break
        if bar is not None:
            bar.close()
        best = chosen if chosen is not None else min(range(len(trials)), key=lambda k: trials[k]["metric"])
        extra = {"tuning": {"baseline_metric": baseline, "tolerance": tolerance, "chosen_trial": chosen, "trials": trials}}
        art = make_artefact(backend, generator, out, model=model, size=size, source=source, calibration=latent,
                            fp32_ops=ladder[best], extra=extra)
    return {"baseline": baseline, "trials": trials, "chosen": chosen, "artefact": art}


def _depths_for(backend: str, generator, scratch: Path) -> dict[str, int]:
    if backend == "inc-int8":
        from .export import frozen_graph

        return quantizable_ops(*_tf_graph(frozen_graph(generator, transposed_as_conv=True)), QUANTIZABLE_TF_OPS)
    import onnx

    path = scratch / "ladder.onnx"
    _onnx_fp32(generator, path)
    return quantizable_ops(*_onnx_graph(onnx.load(str(path))), QUANTIZABLE_ONNX_OPS)



def _main(argv: list[str]) -> int:
    """``python -m gan3d_lib.quantization GRAPH.pb LATENT.npy FP32_OPS.json OUT.pb`` (see _inc_in_subprocess)."""
    import json

    from .export import write_graph

    graph, latent, fp32_ops, out = argv
    q = _inc_quantize(graph, np.load(latent, allow_pickle=False), json.loads(Path(fp32_ops).read_text()))
    if q is None:
        raise SystemExit(f"{graph}: Neural Compressor returned no quantized model")
    write_graph(q.graph_def, out)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
