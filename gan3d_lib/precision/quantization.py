"""Reduced-precision artefacts of a Keras generator: Neural Compressor INT8, TFLite, ONNX Runtime,
OpenVINO, BF16.

:func:`make_artefact` writes one artefact folder (see :mod:`gan3d_lib.precision.artefacts`) for a
backend. INT8 backends calibrate on latent vectors drawn as in training,
``(E / 100 GeV) * u`` (:func:`~gan3d_lib.models.models.latent_vectors`)
with E log-uniform in 2-500 GeV (:func:`calibration_latents`),
with the settings of a :class:`QuantConfig`: which ops stay FP32, the calibration method,
per-channel weights, the calibration set size and (OpenVINO) bias correction. The search
for the fastest configuration that keeps the physics is :mod:`gan3d_lib.speed.int8_search`.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .artefacts import Artefact, HardwareUnsupported, bucket_model_path, write_artefact
from .export import layer_of, onnx_fp32, quiet_converters
from ..physics.geometry import ENERGY_RANGE_GEV
from .quant_config import CALIBRATION_METHODS, QuantConfig, int8_dot_products_saturate
from .backends import (INC_INT8, KERAS_BF16, KERAS_FP32, ONNX_FP32, ONNX_INT8, TFLITE_DYNAMIC, TFLITE_FP16,
                       TFLITE_FP32, TFLITE_INT8, TF_GRAPH_FP32, backend_spec)

__all__ = ["QuantConfig", "CALIBRATION_METHODS", "calibration_latents", "activation_peaks", "make_artefact",
           "make_missing_artefacts", "layer_of", "quantizable_layer_costs",
           "quantizable_layers", "ops_in_layers", "HardwareUnsupported", "QUANTIZABLE_TF_OPS",
           "QUANTIZABLE_ONNX_OPS"]

# Each energy bucket calibrates on latents of its energies widened by this factor at both ends:
# a latent's energy is estimated from its norm (5 % spread), so a shower near an edge may run
# in the neighbouring bucket's model, whose ranges then still hold it.
BUCKET_MARGIN = 1.15
BUCKET_CALIBRATION_SEED = 3030  # bucket i draws its calibration latents with seed 3030 + i
QUANTIZABLE_TF_OPS = ("Conv2D", "MatMul", "Conv2DBackpropInput", "DepthwiseConv2dNative")
QUANTIZABLE_ONNX_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm")


def calibration_latents(n: int = 256, *, seed: int = 2024, energy_range_gev: tuple[float, float] = ENERGY_RANGE_GEV,
                        latent_size: int = 200) -> np.ndarray:
    """(n, latent_size) float32 latent vectors, E log-uniform in ``energy_range_gev`` (GeV)."""
    from ..models.models import latent_vectors

    rng = np.random.default_rng([seed, 0])
    energies = np.exp(rng.uniform(*np.log(energy_range_gev), n)).astype(np.float32)
    return latent_vectors(energies, seed=seed, latent_size=latent_size)


# ---------------------------------------------------------------------------------------------
# graph structure: which layers hold quantizable ops


def activation_peaks(generator: Any, energies_gev: Sequence[float], *, n: int = 64, seed: int = 0) -> dict[str, list[float]]:
    """{Keras layer name: [largest |output| over ``n`` showers at each energy]} for the
    generator's Dense and convolution layers, in graph order: the ranges a per-tensor INT8
    scale must span (one scale serves every energy unless the artefact has energy buckets)."""
    import keras

    from ..models.models import latent_vectors

    layers = [layer for layer in generator.layers if type(layer).__name__ in ("Dense", "Conv2D", "Conv2DTranspose",
                                                                               "Conv3D", "Conv3DTranspose")]
    probe = keras.Model(generator.input, [layer.output for layer in layers])
    peaks: dict[str, list[float]] = {layer.name: [] for layer in layers}
    for e in energies_gev:
        outs = probe(latent_vectors(np.full(n, e, np.float32), seed=seed), training=False)
        for layer, out in zip(layers, outs):
            peaks[layer.name].append(float(np.abs(keras.ops.convert_to_numpy(out)).max()))
    return peaks


def quantizable_layers(backend: str, generator: Any) -> list[str]:
    """Keras layers with quantizable ops in ``backend``'s graph of ``generator``, in graph
    order (the same order for two generators of one architecture, whatever their width)."""
    if backend in (INC_INT8,):
        from .export import frozen_graph

        names = [n.name for n in frozen_graph(generator, transposed_as_conv=True).node if n.op in QUANTIZABLE_TF_OPS]
    else:
        import onnx

        with tempfile.TemporaryDirectory(prefix="gan3d-layers-") as d:
            path = Path(d) / "fp32.onnx"
            with quiet_converters():
                onnx_fp32(generator, path)
            names = [n.name for n in onnx.load(str(path)).graph.node if n.op_type in QUANTIZABLE_ONNX_OPS]
    return list(dict.fromkeys(layer_of(n) for n in names))


def quantizable_layer_costs(backend: str, generator: Any, layers: Sequence[str] | None = None) -> dict[str, float]:
    """{quantizable layer (:func:`quantizable_layers`): its share of the generator's
    multiply-accumulates}; ``layers``: :func:`quantizable_layers` if already known. The
    exported graphs name a Keras layer ``<name>_<n>`` (INC's
    transposed convolutions ``<name>_phase_<n>``)."""
    import re

    from ..models.models import layer_multiply_accumulates

    macs = layer_multiply_accumulates(generator)
    names = list(layers) if layers is not None else quantizable_layers(backend, generator)  # the export is slow
    keras_names = {name: re.sub(r"_\d+$", "", name).removesuffix("_phase") for name in names}
    unknown = sorted(n for n, k in keras_names.items() if k not in macs)
    if unknown or len(set(keras_names.values())) != len(names):
        raise ValueError(f"{backend}: cannot match quantizable layers {unknown or names} to the generator's layers")
    total = sum(macs[k] for k in keras_names.values())
    return {n: macs[k] / total for n, k in keras_names.items()}


def ops_in_layers(op_names: Sequence[str], layers: Sequence[str]) -> list[str]:
    """The ops of ``op_names`` that belong to one of ``layers``."""
    wanted = set(layers)
    return [n for n in op_names if layer_of(n) in wanted]


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


def _inc_config(config: QuantConfig):
    import re

    from neural_compressor.tensorflow import StaticQuantConfig

    cfg = StaticQuantConfig(weight_granularity="per_channel" if config.per_channel else "per_tensor",
                            act_algorithm=config.calibration, act_sym=not config.asymmetric_activations)
    for layer in config.fp32_ops:
        cfg.set_local(".*/" + re.escape(layer) + "/.*", StaticQuantConfig(weight_dtype="fp32", act_dtype="fp32"))
    return cfg


def _inc_quantize(graph_path: str, latent: np.ndarray, config: QuantConfig, batch_size: int = 32):

    from neural_compressor.tensorflow import quantize_model
    from neural_compressor.tensorflow.utils import BaseDataLoader

    logging.getLogger("neural_compressor").setLevel(logging.WARNING)
    loader = BaseDataLoader(dataset=_Calibration(latent), batch_size=batch_size)
    return quantize_model(str(graph_path), _inc_config(config), loader, calib_iteration=-(-len(latent) // batch_size))


def _inc_in_subprocess(graph_path: Path, latents: Sequence[np.ndarray], config: QuantConfig,
                       out_paths: Sequence[Path]) -> None:
    """Run INC in a child process, in a scratch directory, once per (calibration latents, out
    path) pair: INC collects its calibration ranges by redirecting file descriptor 2 (where
    ``tf.print`` writes), which fails under a captured stderr (pytest, Jupyter), and it writes
    ``nc_workspace/`` into the working directory."""
    import json
    import subprocess
    import sys

    with tempfile.TemporaryDirectory(prefix="gan3d-inc-") as d:
        np.savez(Path(d) / "latents.npz", *latents)
        (Path(d) / "config.json").write_text(json.dumps(config.to_dict()))
        cmd = [sys.executable, "-m", "gan3d_lib.precision.quantization", str(Path(graph_path).resolve()), "latents.npz",
               "config.json", *(str(Path(p).resolve()) for p in out_paths)]
        res = subprocess.run(cmd, cwd=d, capture_output=True, text=True,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")})
        if res.returncode != 0 or not all(Path(p).exists() for p in out_paths):
            tail = "\n".join((res.stderr or res.stdout).strip().splitlines()[-15:])
            raise RuntimeError(f"Neural Compressor failed to quantize {graph_path}:\n{tail}")


def _write_inc(generator, latents: Sequence[np.ndarray], config: QuantConfig):
    from .export import frozen_graph, write_graph

    def write(path: Path):
        graph_path = path.with_name("fp32_graph.pb")
        write_graph(frozen_graph(generator, transposed_as_conv=True), graph_path)
        try:
            _inc_in_subprocess(graph_path, latents, config, [bucket_model_path(path, i) for i in range(len(latents))])
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


class _OnnxReader:
    def __init__(self, input_name: str, latent: np.ndarray, batch_size: int = 32):
        self.batches = iter([{input_name: latent[i:i + batch_size]} for i in range(0, len(latent), batch_size)])

    def get_next(self):
        return next(self.batches, None)

    def rewind(self):  # onnxruntime >= 1.16 may call it
        pass


def _onnx_quantize(fp32_path: Path, out_path: Path, latent: np.ndarray, config: QuantConfig) -> dict:
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

    reader_cls = type("Reader", (_OnnxReader, CalibrationDataReader), {})
    model = onnx.load(str(fp32_path))
    name = model.graph.input[0].name
    exclude = ops_in_layers([n.name for n in model.graph.node if n.op_type in QUANTIZABLE_ONNX_OPS], config.fp32_ops)
    method = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
              "percentile": CalibrationMethod.Percentile}[config.calibration]
    reduce_range = int8_dot_products_saturate()
    quantize_static(str(fp32_path), str(out_path), reader_cls(name, latent), quant_format=QuantFormat.QDQ,
                    per_channel=config.per_channel, reduce_range=reduce_range, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, nodes_to_exclude=exclude, calibrate_method=method,
                    op_types_to_quantize=list(QUANTIZABLE_ONNX_OPS))
    return {"reduce_range": reduce_range, "activation_type": "uint8", "weight_type": "int8",
            "fp32_op_names": exclude}


def _write_onnx(generator, int8: bool, latent: np.ndarray, config: QuantConfig, info: dict):
    def write(path: Path):
        if not int8:
            onnx_fp32(generator, path)
            return
        fp32 = path.with_name("fp32.onnx")
        try:
            onnx_fp32(generator, fp32)
            info.update(_onnx_quantize(fp32, path, latent, config))
        finally:
            fp32.unlink(missing_ok=True)

    return write


def _writer(backend: str, generator: Any, latents: Sequence[np.ndarray], config: QuantConfig,
            info: dict[str, Any]) -> Callable[[Path], None]:
    """``write(path)``: the model files of one ``backend`` artefact, one per calibration set in
    ``latents`` (energy buckets; :func:`~gan3d_lib.precision.artefacts.bucket_model_path`)."""
    if backend == INC_INT8:
        return _write_inc(generator, latents, config)
    if backend.startswith("openvino"):
        from .openvino_artefacts import openvino_writer

        singles = [openvino_writer(backend, generator, latent, config, info) for latent in latents]
    else:
        singles = [{
            KERAS_FP32: lambda: _write_keras_weights(generator),
            KERAS_BF16: lambda: _write_keras_weights(generator),
            TF_GRAPH_FP32: lambda: _write_graph(generator, transposed_as_conv=False),
            TFLITE_FP32: lambda: _write_tflite(generator, "fp32", latent),
            TFLITE_FP16: lambda: _write_tflite(generator, "fp16", latent),
            TFLITE_DYNAMIC: lambda: _write_tflite(generator, "dynamic", latent),
            TFLITE_INT8: lambda: _write_tflite(generator, "int8", latent),
            ONNX_FP32: lambda: _write_onnx(generator, False, latent, config, info),
            ONNX_INT8: lambda: _write_onnx(generator, True, latent, config, info),
        }[backend]() for latent in latents]

    def write(path: Path) -> None:
        for i, write_one in enumerate(singles):
            write_one(bucket_model_path(path, i))

    return write


def make_artefact(
    backend: str,
    generator: Any,
    out: str | os.PathLike,
    *,
    model: str,
    size: str | float,
    source: str,
    calibration: np.ndarray | None = None,
    config: QuantConfig = QuantConfig(),
    extra: dict[str, Any] | None = None,
) -> Artefact:
    """Write the ``backend`` artefact of a Keras ``generator`` to folder ``out``.

    ``calibration``: latent vectors for INT8 calibration (default :func:`calibration_latents`);
    ``config``: the INT8 settings (:class:`QuantConfig`; INT8 backends only).
    """
    from ..models.models import generator_options

    backend_spec(backend)  # an unknown name raises, listing the known ones
    config.check(backend)
    latent = calibration_latents() if calibration is None else np.asarray(calibration, np.float32)
    if config.n_calibration is not None:
        if config.n_calibration > len(latent):
            raise ValueError(f"config asks for {config.n_calibration} calibration latents; {len(latent)} given")
        latent = latent[:config.n_calibration]
    int8 = "int8" in backend
    # the writers add what they learn (e.g. reduce_range) here; write_artefact reads it after writing
    info: dict[str, Any] = {**(config.to_dict() if int8 else {}), "n_calibration": int(len(latent)) if int8 else 0}
    latents = [latent]
    if int8 and config.energy_buckets:
        info.update(bucket_calibration_seed=BUCKET_CALIBRATION_SEED, bucket_margin=BUCKET_MARGIN)
        edges = config.energy_buckets
        latents = [calibration_latents(len(latent), seed=BUCKET_CALIBRATION_SEED + i,
                                       energy_range_gev=(lo / BUCKET_MARGIN, hi * BUCKET_MARGIN))
                   for i, (lo, hi) in enumerate(zip(edges, edges[1:]))]
    writer = _writer(backend, generator, latents, config, info)
    extra = {**(extra or {}), "layers": [type(layer).__name__ for layer in generator.layers],
             "generator_options": generator_options(generator)}

    def write(path: Path):
        with quiet_converters():
            writer(path)

    return write_artefact(out, backend, write, model=model, size=size, source=source, settings=info, extra=extra)


def _main(argv: list[str]) -> int:
    """``python -m gan3d_lib.precision.quantization GRAPH.pb LATENTS.npz CONFIG.json OUT.pb [OUT.pb ...]``:
    one INT8 graph per calibration set of the npz (in order), see _inc_in_subprocess."""
    import json

    from .export import write_graph

    graph, latents, config, *outs = argv
    cfg = QuantConfig.from_dict(json.loads(Path(config).read_text()))
    with np.load(latents, allow_pickle=False) as z:
        sets = [z[f"arr_{i}"] for i in range(len(z.files))]
    if len(sets) != len(outs):
        raise SystemExit(f"{latents}: {len(sets)} calibration sets for {len(outs)} output paths")
    for latent, out in zip(sets, outs):
        q = _inc_quantize(graph, latent, cfg)
        if q is None:
            raise SystemExit(f"{graph}: Neural Compressor returned no quantized model")
        write_graph(q.graph_def, out)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))


def make_missing_artefacts(build_generator_fn: Any, root: str | os.PathLike, backends: Sequence[str], *, model: str,
                           size: str | float, source: str) -> list[Path]:
    """``root/<backend>`` for each backend, writing those that are missing from the generator
    ``build_generator_fn()`` returns (called at most once, only if one is missing)."""
    root, gen, out = Path(root), None, []
    for backend in backends:
        if not (root / backend / "manifest.json").exists():
            gen = gen if gen is not None else build_generator_fn()
            make_artefact(backend, gen, root / backend, model=model, size=size, source=source)
        out.append(root / backend)
    return out
