"""Inference graphs of a Keras generator: frozen TensorFlow GraphDefs for quantization tools.

* :func:`inference_model` rebuilds a generator for inference, optionally with every
  ``Conv2DTranspose`` rewritten as an exactly equivalent ``Conv2D`` + ``DepthToSpace``
  (:class:`PhaseConv2DTranspose`): stock TensorFlow has no INT8 kernel for transposed
  convolutions (``Conv2DBackpropInput``), so a quantizer would leave them, and their
  weights, in FP32.
* :func:`frozen_graph` freezes it to a constant-folded ``GraphDef`` (input ``latent``,
  output ``showers``), the format Intel Neural Compressor quantizes.
* :func:`write_graph` / :func:`load_graph` store and run GraphDefs; loading parses a
  protocol buffer and executes no Python code from the file.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..core.atomic import atomic_file

__all__ = ["layer_of", "phase_kernels", "PhaseConv2DTranspose", "inference_model", "frozen_graph", "graph_op_counts",
           "write_graph", "load_graph", "INPUT_NAME", "OUTPUT_NAME", "onnx_fp32", "model_fingerprint", "quiet_converters",
           "capped_onnx_optimizer"]

INPUT_NAME, OUTPUT_NAME = "latent", "showers"


def _same_padding_before(size_in: int, stride: int, kernel: int) -> int:
    """Leading padding of TensorFlow's 'SAME' transposed convolution (output size_in * stride)."""
    size_out = size_in * stride
    return max((size_in - 1) * stride + kernel - size_out, 0) // 2


def phase_kernels(kernel: np.ndarray, stride: int) -> list[np.ndarray]:
    """Split a transposed-convolution kernel (k, k, out, in) into its stride^2 output phases.

    Output pixel ``o`` of a stride-s transposed convolution only sees the kernel taps
    ``t = r, r + s, ...`` with ``r = (o + pad) mod s``. Phase (r1, r2), in row-major order, is
    an ordinary stride-1 convolution with kernel (m1, m2, in, out), ``m = ceil((k - r) / s)``,
    its taps flipped: together the phases hold exactly the k x k taps, so the weights, and
    the multiply-accumulates, are those of the transposed convolution.
    """
    k, k2, _, _ = kernel.shape
    if k != k2:
        raise ValueError(f"square kernels only, got {kernel.shape}")
    out = []
    for r1 in range(stride):
        for r2 in range(stride):
            t1 = np.arange(r1, k, stride)[::-1]
            t2 = np.arange(r2, k, stride)[::-1]
            out.append(np.ascontiguousarray(kernel[np.ix_(t1, t2)].transpose(0, 1, 3, 2)))
    return out


def _phase_layer_class():
    import keras
    import tensorflow as tf

    class PhaseConv2DTranspose(keras.layers.Layer):
        """A 'same'-padded, square-stride ``Conv2DTranspose`` computed as stride^2 ordinary
        convolutions (:func:`phase_kernels`) -> concat -> DepthToSpace -> crop: the same numbers
        and weights, built only from ops that have INT8 kernels."""

        def __init__(self, source, **kwargs):
            super().__init__(name=f"{source.name}_phase", **kwargs)
            (s1, s2), (k1, _) = source.strides, source.kernel_size
            if s1 != s2 or source.padding != "same" or tuple(source.dilation_rate) != (1, 1):
                raise ValueError(f"{source.name}: only square strides, 'same' padding and no dilation are supported")
            kernel, *bias = (np.asarray(w) for w in source.get_weights())
            self.stride, self.size_kernel = s1, k1
            self.kernels = [tf.constant(w) for w in phase_kernels(kernel, s1)]
            self.bias = tf.constant(bias[0]) if bias else None
            self.activation = source.activation

        def call(self, x):
            s, k = self.stride, self.size_kernel
            m = -(-k // s)
            size_in = x.shape[1]
            before = _same_padding_before(size_in, s, k)
            n_q = (size_in * s - 1 + before) // s + 1  # phase outputs per axis
            right = max(0, n_q - size_in)
            xp = tf.pad(x, [[0, 0], [m - 1, right], [m - 1, right], [0, 0]])
            phases = []
            for w in self.kernels:
                m1, m2 = int(w.shape[0]), int(w.shape[1])
                window = xp[:, m - m1:m - m1 + n_q + m1 - 1, m - m2:m - m2 + n_q + m2 - 1, :]
                y = tf.nn.conv2d(window, w, 1, "VALID")
                phases.append(tf.nn.bias_add(y, self.bias) if self.bias is not None else y)
            y = tf.nn.depth_to_space(tf.concat(phases, axis=-1), s)
            return self.activation(y[:, before:before + size_in * s, before:before + size_in * s, :])

    return PhaseConv2DTranspose


def __getattr__(name: str):
    if name == "PhaseConv2DTranspose":
        return _phase_layer_class()
    raise AttributeError(name)


def inference_model(generator: Any, *, transposed_as_conv: bool = True) -> Any:
    """A functional copy of ``generator`` sharing its layers (and weights); with
    ``transposed_as_conv`` each ``Conv2DTranspose`` becomes a :class:`PhaseConv2DTranspose`."""
    import keras

    phase = _phase_layer_class()

    def clone(layer):
        if transposed_as_conv and isinstance(layer, keras.layers.Conv2DTranspose):
            return phase(layer)
        return layer

    return keras.models.clone_model(generator, clone_function=clone)


def frozen_graph(generator: Any, *, transposed_as_conv: bool = True) -> Any:
    """A constant-folded ``tf.compat.v1.GraphDef`` of ``generator`` in inference mode:
    input ``latent`` (N, 200) float32, output ``showers`` (N, 25, 25, 25) float32 GeV."""
    import tensorflow as tf
    from tensorflow.core.protobuf import config_pb2, meta_graph_pb2
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    from tensorflow.python.grappler import tf_optimizer

    model = inference_model(generator, transposed_as_conv=transposed_as_conv)
    latent_size = int(generator.inputs[0].shape[-1])

    @tf.function
    def run(latent):
        return model(latent, training=False)

    concrete = run.get_concrete_function(tf.TensorSpec([None, latent_size], tf.float32, name=INPUT_NAME))
    frozen = convert_variables_to_constants_v2(concrete)
    graph_def = frozen.graph.as_graph_def()
    output = frozen.outputs[0].name.split(":")[0]
    meta = tf.compat.v1.train.export_meta_graph(graph_def=graph_def, graph=frozen.graph)
    fetch = meta_graph_pb2.CollectionDef()
    fetch.node_list.value.append(output)
    meta.collection_def["train_op"].CopyFrom(fetch)
    cfg = config_pb2.ConfigProto()
    cfg.graph_options.rewrite_options.optimizers.extend(["constfold", "arithmetic", "dependency"])
    cfg.graph_options.rewrite_options.min_graph_nodes = -1
    folded = tf_optimizer.OptimizeGraph(cfg, meta)
    for node in folded.node:  # a stable output name, whatever the tracing called it
        if node.name == output and output != OUTPUT_NAME:
            node.name = OUTPUT_NAME
    return folded


def graph_op_counts(graph_def: Any) -> dict[str, int]:
    """{op type: count} of a GraphDef, constants and plumbing left out."""
    skip = {"Const", "HostConst", "Identity", "Placeholder", "NoOp"}
    return dict(sorted(Counter(n.op for n in graph_def.node if n.op not in skip).items()))


def write_graph(graph_def: Any, path: str | os.PathLike) -> Path:
    """Write a GraphDef (binary protobuf) atomically."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(graph_def.SerializeToString())
    return Path(path)


def load_graph(path: str | os.PathLike, *, input_name: str = INPUT_NAME, output_name: str = OUTPUT_NAME) -> Any:
    """A callable ``latent (N, 200) float32 -> showers (N, 25, 25, 25)`` from a GraphDef file."""
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(Path(path).read_bytes())
    except Exception as exc:  # protobuf raises its own DecodeError
        raise ValueError(f"{path}: not a TensorFlow GraphDef ({exc})") from exc
    names = {n.name for n in graph_def.node}
    for key in (input_name, output_name):
        if key not in names:
            raise ValueError(f"{path}: the graph has no node {key!r}")

    def _import():
        tf.compat.v1.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(_import, [])
    fn = wrapped.prune(wrapped.graph.get_tensor_by_name(f"{input_name}:0"),
                       wrapped.graph.get_tensor_by_name(f"{output_name}:0"))
    return lambda latent: fn(tf.constant(latent, tf.float32)).numpy()


def capped_onnx_optimizer(max_iterations: int = 8) -> Any:
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


_ONNX_CACHE: dict[str, bytes] = {}  # model fingerprint -> ONNX bytes of the last export


def model_fingerprint(model: Any) -> str:
    """SHA-256 of a Keras model's architecture and weights: equal exactly when the exported
    graph would be (the INT8 searches export one generator dozens of times)."""
    import hashlib

    h = hashlib.sha256(model.to_json().encode())
    for w in model.get_weights():
        h.update(np.ascontiguousarray(w).tobytes())
    return h.hexdigest()


def onnx_fp32(generator: Any, path: Path) -> None:
    """The generator as an FP32 ONNX model (opset 17) at ``path``, via its frozen graph and
    tf2onnx (the last export is kept in memory and reused while the model is unchanged)."""
    import tf2onnx
    from tf2onnx import optimizer

    key = model_fingerprint(generator)
    if key not in _ONNX_CACHE:
        graph = frozen_graph(generator, transposed_as_conv=False)
        original = optimizer.optimize_graph
        optimizer.optimize_graph = capped_onnx_optimizer()
        try:
            proto, _ = tf2onnx.convert.from_graph_def(graph, input_names=[f"{INPUT_NAME}:0"],
                                                      output_names=[f"{OUTPUT_NAME}:0"], opset=17)
        finally:
            optimizer.optimize_graph = original
        _ONNX_CACHE.clear()
        _ONNX_CACHE[key] = proto.SerializeToString()
    Path(path).write_bytes(_ONNX_CACHE[key])


@contextlib.contextmanager
def quiet_converters() -> Any:
    """Silence the converters' progress chatter (Python prints and log records below ERROR);
    their errors still raise."""
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logging.disable(logging.NOTSET)


def layer_of(op_name: str) -> str:
    """The Keras layer an exported op belongs to: the path component after the model's scope
    (``conv2d_generator_1/conv2d_7_1/convolution`` -> ``conv2d_7_1``); the phase convolutions
    of a rewritten transposed convolution share their layer."""
    parts = op_name.split("/")
    return parts[1] if len(parts) > 2 else parts[0]
