"""OpenVINO artefacts: the frozen generator graph converted with ``openvino.convert_model``,
INT8 with NNCF's ``nncf.quantize``, and accuracy-controlled INT8 with
``nncf.quantize_with_accuracy_control`` judged by the physics gate (:mod:`gan3d_lib.precision.gate`).

OpenVINO runs on any x86 CPU; its INT8 kernels use AVX-512 VNNI or AMX where the CPU has
them. Every artefact pins its inference precision (see :mod:`gan3d_lib.precision.artefacts`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .backends import OPENVINO_INT8
from .quant_config import QuantConfig, int8_dot_products_saturate
from .export import layer_of

__all__ = ["openvino_writer", "convert", "quantize", "accuracy_controlled_int8", "op_layer", "int8_layers",
           "executed_precisions"]

#: ops of a converted model that multiply-accumulate, and their primitives once compiled
COMPUTE_OPS = ("Convolution", "ConvolutionBackpropData", "GroupConvolution", "MatMul")
_RUNTIME_COMPUTE = ("Convolution", "Deconvolution", "FullyConnected", "MatMul")
_RANGE_ESTIMATORS = {"minmax": "MINMAX", "mean_minmax": "MEAN_MINMAX"}


def convert(generator: Any) -> Any:
    """The generator as an ``openvino.Model`` (input (?, 200) latent, output (?, 25, 25, 25) GeV):
    its frozen TensorFlow graph through tf2onnx (the ONNX FP32 model), because OpenVINO's
    TensorFlow frontend names the convolutions generically (``Convolution_549``) and the
    ignored scope of a search names Keras layers."""
    import tempfile

    import openvino as ov

    from .export import onnx_fp32, quiet_converters

    with tempfile.TemporaryDirectory(prefix="gan3d-ov-") as d:
        path = Path(d) / "model.onnx"
        with quiet_converters():
            onnx_fp32(generator, path)
        return ov.convert_model(str(path))


def _quiet_nncf() -> None:
    """NNCF's warnings only: at INFO it logs a line per op of the ignored scope."""
    import logging

    import nncf

    nncf.set_log_level(logging.WARNING)


def _dataset(latent: np.ndarray, batch_size: int = 1):
    import nncf

    return nncf.Dataset([latent[i:i + batch_size] for i in range(0, len(latent), batch_size)])


def op_layer(op: Any) -> str | None:
    """The Keras layer an op of a converted generator belongs to: the one its name holds
    (``conv2d_generator_1/conv2d_7_1/convolution``), else, for the transposed convolutions that
    OpenVINO names generically (``ConvolutionBackpropData_90``), the one its weights' constant
    names; None for an op of no layer (the output's multiply, ``showers:0``)."""
    name = op.get_friendly_name()
    if "/" in name:
        return layer_of(name)
    if op.get_type_name() in COMPUTE_OPS and op.get_input_size() > 1:
        weights = op.input_value(1).get_node()
        while weights.get_type_name() != "Constant" and weights.get_input_size():
            weights = weights.input_value(0).get_node()
        if "/" in weights.get_friendly_name():
            return layer_of(weights.get_friendly_name())
    return None


def int8_layers(model: Any, config: QuantConfig) -> list[str]:
    """The layers of ``model`` (an ``openvino.Model``) whose compute ops ``config`` puts in INT8:
    every layer with a convolution or matrix product but those of ``config.fp32_ops``.
    ValueError for an ``fp32_ops`` layer the model does not have."""
    layers = list(dict.fromkeys(op_layer(op) for op in model.get_ops() if op.get_type_name() in COMPUTE_OPS))
    unknown = sorted(set(config.fp32_ops) - set(layers))
    if unknown:
        raise ValueError(f"fp32_ops names layers the model does not have: {unknown} (it has {', '.join(map(str, layers))})")
    return [layer for layer in layers if layer is not None and layer not in config.fp32_ops]


def _ignored_scope(model: Any, config: QuantConfig):
    """Every op outside the INT8 layers, by its exact name (checked by NNCF: ``validate=True``):
    each op of a kept layer, transposed convolutions included, and the ops of no quantizable layer
    (batch normalisation, activations, the heads' elementwise ops, the output's multiply) stay FP32."""
    import nncf

    chosen = set(int8_layers(model, config))
    names = [op.get_friendly_name() for op in model.get_ops()
             if op.get_type_name() not in ("Parameter", "Constant", "Result") and op_layer(op) not in chosen]
    return nncf.IgnoredScope(names=names, validate=True)


def executed_precisions(model_path: str | Path, inference_precision: str) -> list[dict[str, str | None]]:
    """What OpenVINO's CPU plugin runs, per compute primitive of the model compiled with
    ``inference_precision`` ('f32', 'bf16'): {'layer', 'type' (Convolution, Deconvolution,
    FullyConnected, MatMul), 'precision' ('u8'/'i8' for INT8, 'f32', 'bf16'), 'kernel'}, read from
    the compiled model's runtime information."""
    import openvino as ov

    compiled = ov.Core().compile_model(str(model_path), "CPU", {"INFERENCE_PRECISION_HINT": inference_precision})
    rows = []
    for op in compiled.get_runtime_model().get_ops():
        info = op.get_rt_info()
        kind = info["layerType"].astype(str)
        if kind not in _RUNTIME_COMPUTE:
            continue
        names = [n for n in info["originalLayersNames"].astype(str).split(",") if "/" in n]
        rows.append({"layer": layer_of(names[0]) if names else None, "type": kind,
                     "precision": info["runtimePrecision"].astype(str), "kernel": info["primitiveType"].astype(str)})
    return rows


def _overflow_fix():
    """7-bit weights in every layer where u8 x s8 sums saturate (no VNNI), NNCF's default (the
    first layer only) elsewhere: :func:`quant_config.int8_dot_products_saturate`."""
    from nncf.quantization.advanced_parameters import OverflowFix

    return OverflowFix.ENABLE if int8_dot_products_saturate() else OverflowFix.FIRST_LAYER


def _advanced(config: QuantConfig):
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, QuantizationParameters
    from nncf.quantization.range_estimator import RangeEstimatorParametersSet

    return AdvancedQuantizationParameters(
        overflow_fix=_overflow_fix(),
        disable_bias_correction=not config.bias_correction,
        activations_range_estimator_params=getattr(RangeEstimatorParametersSet, _RANGE_ESTIMATORS[config.calibration]),
        weights_quantization_params=None if config.per_channel else QuantizationParameters(per_channel=False))


def quantize(model: Any, latent: np.ndarray, config: QuantConfig) -> Any:
    """NNCF INT8 of an ``openvino.Model`` calibrated on ``latent`` (n, 200) with ``config``."""
    import nncf

    _quiet_nncf()
    preset = nncf.QuantizationPreset.MIXED if config.asymmetric_activations else nncf.QuantizationPreset.PERFORMANCE
    return nncf.quantize(model, _dataset(latent), subset_size=len(latent), fast_bias_correction=True, preset=preset,
                         ignored_scope=_ignored_scope(model, config), advanced_parameters=_advanced(config))


def bf16_offered() -> bool:
    """Whether OpenVINO's CPU plugin computes in BF16 on this CPU (AVX-512 BF16 or AMX):
    its ``OPTIMIZATION_CAPABILITIES`` list 'BF16'."""
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def _save(model, path: Path) -> None:
    import openvino as ov

    ov.save_model(model, str(path), compress_to_fp16=False)


def openvino_writer(backend: str, generator: Any, latent: np.ndarray, config: QuantConfig,
                    info: dict[str, Any]) -> Callable[[Path], None]:
    """``write(path)`` of an OpenVINO artefact (FP32, BF16 or INT8) (see :func:`make_artefact`)."""
    from .artefacts import OPENVINO_PRECISION

    def write(path: Path) -> None:
        model = convert(generator)
        if backend == OPENVINO_INT8:
            model = quantize(model, latent, config)
        _save(model, path)
        if backend == OPENVINO_INT8:
            info["overflow_fix"] = _overflow_fix().value
        info["inference_precision_pinned"] = ("bf16" if backend == OPENVINO_INT8 and config.float_precision == "bf16"
                                              else OPENVINO_PRECISION[backend])

    return write


def accuracy_controlled_int8(generator: Any, out: Any, latent: np.ndarray, judge: Callable[[np.ndarray], Any],
                             gate_latent: np.ndarray, *, model: str, size: str | float, source: str,
                             max_iterations: int = 12, batch_size: int = 128) -> Any:
    """OpenVINO INT8 by ``nncf.quantize_with_accuracy_control``: quantize everything (NNCF's
    ``MIXED`` preset: asymmetric activations, the search's default), then revert the ops NNCF
    ranks most sensitive to FP32, one group per iteration, until the physics gate passes.
    ``judge(showers) -> GateResult`` is the gate for showers generated from ``gate_latent``
    (n, 200); NNCF's metric is :func:`gate.gate_score` and the allowed
    absolute drop from FP32 is 1 (a score >= 0 passes). Returns (artefact, record)."""
    import time

    import nncf
    from nncf.quantization.advanced_parameters import AdvancedAccuracyRestorerParameters, AdvancedQuantizationParameters

    from .artefacts import OPENVINO_PRECISION, write_artefact
    from .gate import gate_score

    batches = [gate_latent[i:i + batch_size] for i in range(0, len(gate_latent), batch_size)]
    calls: list[dict] = []

    def validate(compiled, items) -> tuple[float, None]:
        items = list(items)
        if len(items) != len(batches):  # the gate needs the whole paired set; NNCF then ranks by outputs
            raise ValueError("the physics gate judges the full validation set only")
        t = time.perf_counter()
        showers = np.concatenate([np.asarray(compiled([b])[0], np.float32) for b in items])
        result = judge(showers)
        score = gate_score(result)
        calls.append({"score": score, "passed": result.passed, "worst": list(result.worst),
                      "worst_ratio": result.worst_ratio, "seconds": time.perf_counter() - t})
        return score, None

    _quiet_nncf()
    fp32_model = convert(generator)  # NNCF compiles what it validates with inference precision f32
    t0 = time.perf_counter()
    quantized = nncf.quantize_with_accuracy_control(
        fp32_model, _dataset(latent), nncf.Dataset(batches), validate, max_drop=1.0,
        drop_type=nncf.DropType.ABSOLUTE, subset_size=len(latent), preset=nncf.QuantizationPreset.MIXED,
        advanced_quantization_parameters=AdvancedQuantizationParameters(overflow_fix=_overflow_fix()),
        advanced_accuracy_restorer_parameters=AdvancedAccuracyRestorerParameters(max_num_iterations=max_iterations))
    seconds = time.perf_counter() - t0
    record = {"validation_calls": calls, "seconds": seconds, "max_iterations": max_iterations,
              "metric": "gate_score = 1 - worst ratio", "max_drop": 1.0}

    def write(path: Path) -> None:
        _save(quantized, path)

    art = write_artefact(out, OPENVINO_INT8, write, model=model, size=size, source=source,
                         settings={"method": "nncf.quantize_with_accuracy_control", "n_calibration": len(latent),
                                   "asymmetric_activations": True,
                                   "overflow_fix": _overflow_fix().value,
                                   "inference_precision_pinned": OPENVINO_PRECISION[OPENVINO_INT8]},
                         extra={"accuracy_control": record})
    return art, record
