"""The backends, defined once: each backend's name, runtime, precision, display label, model
file, FP32 counterpart and what it needs from the CPU. The loader, the writers, the command
line's help, the chapters and the tests read them from here; no other library module types a
backend's name.

An artefact folder is named after its backend; a gate-searched INT8 artefact after its
backend with ``-tuned`` (:func:`tuned`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Backend", "BACKENDS", "BACKEND_NAMES", "backend_spec", "tuned", "backend_of", "fp32_counterpart",
           "KERAS_FP32", "KERAS_BF16", "TF_GRAPH_FP32", "INC_INT8", "TFLITE_FP32", "TFLITE_FP16", "TFLITE_DYNAMIC",
           "TFLITE_INT8", "ONNX_FP32", "ONNX_INT8", "OPENVINO_FP32", "OPENVINO_BF16", "OPENVINO_INT8",
           "INT8_BACKENDS", "OPENVINO_ACCURACY_CONTROL"]


@dataclass(frozen=True)
class Backend:
    """One way of running the generator.

    ``runtime``: the family whose loader runs it (``keras``, ``tf``, ``inc``, ``tflite``, ``onnx``,
    ``openvino``); ``precision``: the arithmetic its label promises (``fp32``, ``bf16``, ``fp16``,
    ``dynamic``: INT8 weights with activations quantized on the fly, ``int8``); ``fp32``: the FP32
    artefact of the same runtime it is compared with; ``cpu_flags``: the
    :func:`~gan3d_lib.core.results.machine_info` flags the CPU must have to run it in that
    precision (INC's INT8 graphs do not run without them; BF16 without them is FP32 arithmetic);
    ``onednn``: its kernels are oneDNN's, so ``ONEDNN_MAX_CPU_ISA`` caps them (chapter 3 runs
    the reduced-precision ones with and without a cap);
    ``openvino_precision``: the inference precision an OpenVINO artefact pins;
    ``calibration_methods``: the activation-range methods an INT8 backend offers, the default
    first; ``asymmetric``: it offers activation ranges with a zero point; ``bf16_rest``: it can
    run the layers left out of INT8 in BF16 instead of FP32.
    """

    name: str
    runtime: str
    precision: str
    label: str
    model_file: str
    fp32: str
    cpu_flags: tuple[str, ...] = ()
    onednn: bool = False
    openvino_precision: str | None = None
    calibration_methods: tuple[str, ...] = ()
    asymmetric: bool = False
    bf16_rest: bool = False

    @property
    def int8(self) -> bool:
        """INT8 arithmetic in its convolutions (statically or dynamically quantized)."""
        return self.precision in ("int8", "dynamic")


KERAS_FP32 = "keras-fp32"
KERAS_BF16 = "keras-bf16"
TF_GRAPH_FP32 = "tf-graph-fp32"
INC_INT8 = "inc-int8"
TFLITE_FP32 = "tflite-fp32"
TFLITE_FP16 = "tflite-fp16"
TFLITE_DYNAMIC = "tflite-dynamic"
TFLITE_INT8 = "tflite-int8"
ONNX_FP32 = "onnx-fp32"
ONNX_INT8 = "onnx-int8"
OPENVINO_FP32 = "openvino-fp32"
OPENVINO_BF16 = "openvino-bf16"
OPENVINO_INT8 = "openvino-int8"

_BF16_FLAGS = ("avx512_bf16",)
BACKENDS: dict[str, Backend] = {b.name: b for b in (
    Backend(KERAS_FP32, "keras", "fp32", "FP32 (Keras)", "generator.weights.h5", KERAS_FP32),
    Backend(KERAS_BF16, "keras", "bf16", "BF16 (Keras)", "generator.weights.h5", KERAS_FP32, _BF16_FLAGS, onednn=True),
    Backend(TF_GRAPH_FP32, "tf", "fp32", "FP32 (TF graph)", "model.pb", TF_GRAPH_FP32),
    Backend(INC_INT8, "inc", "int8", "INC INT8, all ops", "model.pb", TF_GRAPH_FP32, ("avx512f", "avx512_vnni"),
            onednn=True, calibration_methods=("minmax", "kl"), asymmetric=True),
    Backend(TFLITE_FP32, "tflite", "fp32", "TFLite FP32", "model.tflite", TFLITE_FP32),
    Backend(TFLITE_FP16, "tflite", "fp16", "TFLite FP16", "model.tflite", TFLITE_FP32),
    Backend(TFLITE_DYNAMIC, "tflite", "dynamic", "TFLite dynamic range", "model.tflite", TFLITE_FP32),
    Backend(TFLITE_INT8, "tflite", "int8", "TFLite INT8", "model.tflite", TFLITE_FP32),
    Backend(ONNX_FP32, "onnx", "fp32", "ONNX Runtime FP32", "model.onnx", ONNX_FP32),
    Backend(ONNX_INT8, "onnx", "int8", "ONNX Runtime INT8, all ops", "model.onnx", ONNX_FP32,
            calibration_methods=("minmax", "entropy", "percentile")),
    Backend(OPENVINO_FP32, "openvino", "fp32", "OpenVINO FP32", "model.xml", OPENVINO_FP32, onednn=True,
            openvino_precision="f32"),
    Backend(OPENVINO_BF16, "openvino", "bf16", "OpenVINO BF16", "model.xml", OPENVINO_FP32, _BF16_FLAGS, onednn=True,
            openvino_precision="bf16"),
    Backend(OPENVINO_INT8, "openvino", "int8", "OpenVINO INT8, all ops", "model.xml", OPENVINO_FP32, onednn=True,
            openvino_precision="f32", calibration_methods=("minmax", "mean_minmax"), asymmetric=True, bf16_rest=True),
)}
BACKEND_NAMES = tuple(BACKENDS)
#: the INT8 backends that take a calibration (and that the INT8 search tunes)
INT8_BACKENDS = tuple(name for name, b in BACKENDS.items() if b.calibration_methods)
#: the artefact NNCF's accuracy control writes (an OpenVINO INT8 model)
OPENVINO_ACCURACY_CONTROL = f"{OPENVINO_INT8}-accuracy-control"


def backend_spec(name: str) -> Backend:
    """The backend called ``name``; an unknown name raises ``ValueError`` listing the known ones."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKEND_NAMES)}") from None


def tuned(name: str) -> str:
    """The folder name of ``name``'s INT8 artefact searched against the physics gate."""
    return f"{name}-tuned"


def backend_of(artefact_name: str) -> Backend | None:
    """The backend an artefact folder name (``<backend>`` or ``<backend>-<suffix>``) is of, or None."""
    for name in sorted(BACKENDS, key=len, reverse=True):
        if artefact_name == name or artefact_name.startswith(name + "-"):
            return BACKENDS[name]
    return None


def fp32_counterpart(name: str) -> str:
    """The FP32 artefact of the same runtime as the artefact ``name`` (a backend, or a backend
    with a suffix): INC's graphs are TensorFlow graphs, so theirs is the TF graph's."""
    b = backend_of(name)
    if b is None:
        raise ValueError(f"{name!r} is not an artefact of a known backend; known: {', '.join(BACKEND_NAMES)}")
    return b.fp32
