"""Quantization-aware fine-tuning (QAT) of a generator and its export with quantize/dequantize nodes.

:func:`fake_quantized` copies a generator with every Dense, Conv2D and Conv2DTranspose layer's input
and kernel rounded to 8 bits in the forward pass (``tf.quantization.fake_quant_*``; the gradient passes
straight through), the activation ranges calibrated once (:func:`calibrated_input_ranges`).
:func:`distil` fine-tunes its weights so that its showers follow the FP32 generator's for the same
latents, in the discriminator's view of the cells (E_cell^0.5). :func:`onnx_qdq` exports it through
tf2onnx, which turns each fake quantization into ONNX ``QuantizeLinear``/``DequantizeLinear``: ONNX
Runtime and OpenVINO then run those layers in INT8 with the ranges the fine-tuning saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .export import INPUT_NAME, OUTPUT_NAME, capped_onnx_optimizer, frozen_graph, quiet_converters

__all__ = ["QUANTIZED_LAYER_TYPES", "calibrated_input_ranges", "fake_quantized", "distil", "onnx_qdq",
           "qdq_node_counts"]

QUANTIZED_LAYER_TYPES = ("Dense", "Conv2D", "Conv2DTranspose")


def _quantized_layers(generator: Any) -> list[Any]:
    return [layer for layer in generator.layers if type(layer).__name__ in QUANTIZED_LAYER_TYPES]


def calibrated_input_ranges(generator: Any, latents: np.ndarray, *, batch_size: int = 64) -> dict[str, tuple[float, float]]:
    """{layer name: (min, max)} of the input of each quantized layer over ``latents`` (N, 200),
    widened to contain 0 (an exact zero point), the generator in inference mode."""
    import keras

    layers = _quantized_layers(generator)
    probe = keras.Model(generator.inputs[0], [layer.input for layer in layers])
    lo = {layer.name: 0.0 for layer in layers}
    hi = dict(lo)
    for start in range(0, len(latents), batch_size):
        outs = probe(latents[start:start + batch_size], training=False)
        for layer, x in zip(layers, outs if isinstance(outs, (list, tuple)) else [outs]):
            x = np.asarray(x)
            lo[layer.name], hi[layer.name] = min(lo[layer.name], float(x.min())), max(hi[layer.name], float(x.max()))
    return {name: (lo[name], hi[name]) for name in lo}


def _fake_quant_class():
    import keras
    import tensorflow as tf

    class FakeQuantized(keras.layers.Layer):
        """``source`` (Dense, Conv2D or Conv2DTranspose, weights shared) with its input rounded to 8
        bits over a fixed range (asymmetric, ONNX's uint8 QuantizeLinear) and its kernel to symmetric
        int8 per output channel (-127..127 times the channel's largest |weight| / 127); FP32
        accumulation, bias and activation."""

        def __init__(self, source: Any, input_range: tuple[float, float], **kwargs: Any):
            super().__init__(name=f"{source.name}_qat", **kwargs)
            self.source = source
            self.input_min, self.input_max = (float(v) for v in input_range)

        def call(self, x):
            s = self.source
            x = tf.quantization.fake_quant_with_min_max_args(x, min=self.input_min, max=self.input_max, num_bits=8)
            kind = type(s).__name__
            k = s.kernel if kind != "Conv2DTranspose" else tf.transpose(s.kernel, [0, 1, 3, 2])  # out channels last
            peak = tf.reduce_max(tf.abs(tf.reshape(k, [-1, k.shape[-1]])), axis=0)
            k = tf.quantization.fake_quant_with_min_max_vars_per_channel(k, -peak, peak, num_bits=8, narrow_range=True)
            k = k if kind != "Conv2DTranspose" else tf.transpose(k, [0, 1, 3, 2])
            if kind == "Dense":
                y = tf.matmul(x, k)
            elif kind == "Conv2D":
                y = s.convolution_op(x, k)
            else:
                y = keras.ops.conv_transpose(x, k, strides=s.strides, padding=s.padding, output_padding=s.output_padding,
                                             data_format=s.data_format, dilation_rate=s.dilation_rate)
            if s.use_bias:
                y = y + s.bias
            return s.activation(y)

    return FakeQuantized


def fake_quantized(generator: Any, input_ranges: dict[str, tuple[float, float]]) -> Any:
    """A copy of ``generator`` (its own weights, equal to the generator's) whose quantized layers
    (:data:`QUANTIZED_LAYER_TYPES`) are fake-quantized; ``input_ranges`` from
    :func:`calibrated_input_ranges`."""
    import keras

    wrapper = _fake_quant_class()
    copy = keras.models.clone_model(generator)
    copy.set_weights(generator.get_weights())
    generator = copy
    missing = [layer.name for layer in _quantized_layers(generator) if layer.name not in input_ranges]
    if missing:
        raise ValueError(f"no calibrated input range for layers {missing}")

    def clone(layer):
        return wrapper(layer, input_ranges[layer.name]) if type(layer).__name__ in QUANTIZED_LAYER_TYPES else layer

    return keras.models.clone_model(generator, clone_function=clone)


def distil(student: Any, teacher: Any, latents: np.ndarray, *, steps: int, batch_size: int = 32,
           learning_rate: float = 1e-5, cell_power: float = 0.5, seed: int = 0) -> list[float]:
    """Fine-tune ``student`` (a :func:`fake_quantized` copy of ``teacher``) so that its showers match ``teacher``'s
    for the same latents: mean squared difference of E_cell^``cell_power`` (GeV), both in inference
    mode, Adam, ``steps`` batches drawn from ``latents`` (seeded). Returns the loss of each step."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    optimizer = keras.optimizers.Adam(learning_rate)
    variables = student.trainable_variables

    @tf.function
    def step(z):
        target = tf.pow(tf.maximum(teacher(z, training=False), 0.0) + 1e-12, cell_power)
        with tf.GradientTape() as tape:
            out = tf.pow(tf.maximum(student(z, training=False), 0.0) + 1e-12, cell_power)
            loss = tf.reduce_mean(tf.square(out - target))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    return [float(step(tf.constant(latents[rng.integers(0, len(latents), batch_size)]))) for _ in range(steps)]


def onnx_qdq(model: Any, path: str | Path) -> Path:
    """``model`` (a :func:`fake_quantized` generator) as an ONNX model (opset 17) whose fake
    quantizations are ``QuantizeLinear``/``DequantizeLinear`` pairs; input ``latent``, output
    ``showers``. Written atomically."""
    import tf2onnx
    from tf2onnx import optimizer

    from ..core.atomic import atomic_file

    graph = frozen_graph(model, transposed_as_conv=False)
    original = optimizer.optimize_graph
    optimizer.optimize_graph = capped_onnx_optimizer()  # tf2onnx's own loop never ends on this generator
    try:
        with quiet_converters():
            proto, _ = tf2onnx.convert.from_graph_def(graph, input_names=[f"{INPUT_NAME}:0"],
                                                      output_names=[f"{OUTPUT_NAME}:0"], opset=17)
    finally:
        optimizer.optimize_graph = original
    _weights_as_int8(proto)
    with atomic_file(path) as tmp:
        tmp.write_bytes(proto.SerializeToString())
    return Path(path)


#: the output-channel axis of each quantizable ONNX op's weight (Conv OIHW, ConvTranspose IOHW, MatMul (in, out))
_CHANNEL_AXIS = {"Conv": 0, "ConvTranspose": 1, "MatMul": 1}


def _weights_as_int8(proto: Any) -> None:
    """Give every Conv/ConvTranspose/MatMul weight of ``proto`` (constant-folded by the export, its values
    already on the fake quantization's grid) as int8 per output channel behind a DequantizeLinear, so
    the runtimes fuse INT8 kernels; raises if a weight is not on that grid."""
    from onnx import helper, numpy_helper

    inits = {t.name: t for t in proto.graph.initializer}
    new_nodes = []
    for node in proto.graph.node:
        axis = _CHANNEL_AXIS.get(node.op_type)
        if axis is not None and len(node.input) > 1 and node.input[1] in inits:
            w = numpy_helper.to_array(inits[node.input[1]])
            other = tuple(a for a in range(w.ndim) if a != axis)
            scale = (np.abs(w).max(axis=other) / 127.0).astype(np.float32)
            scale[scale == 0] = 1.0
            shape = [1] * w.ndim
            shape[axis] = -1
            q = np.round(w / scale.reshape(shape))
            if np.abs(q * scale.reshape(shape) - w).max() > 1e-6 * max(float(np.abs(w).max()), 1e-30):
                raise ValueError(f"{node.name}: weight {node.input[1]} is not on an int8 grid (not fake-quantized)")
            name = node.input[1]
            proto.graph.initializer.extend([numpy_helper.from_array(q.astype(np.int8), f"{name}_int8"),
                                            numpy_helper.from_array(scale, f"{name}_scale"),
                                            numpy_helper.from_array(np.zeros_like(scale, np.int8), f"{name}_zero")])
            new_nodes.append(helper.make_node("DequantizeLinear", [f"{name}_int8", f"{name}_scale", f"{name}_zero"],
                                              [f"{name}_dq_{node.name}"], name=f"{node.name}_weight_dq", axis=axis))
            node.input[1] = f"{name}_dq_{node.name}"
    nodes = new_nodes + list(proto.graph.node)  # the weights' DequantizeLinear read initializers only: first
    del proto.graph.node[:]
    proto.graph.node.extend(nodes)
    used = {i for n in nodes for i in n.input}
    kept = [t for t in proto.graph.initializer if t.name in used]
    del proto.graph.initializer[:]
    proto.graph.initializer.extend(kept)


def qdq_node_counts(path: str | Path) -> dict[str, int]:
    """{op type: count} of the QuantizeLinear, DequantizeLinear and quantizable ops of an ONNX file, and
    ``int8_weights``: the quantizable ops whose weight is int8 behind a DequantizeLinear."""
    import onnx

    from .quantization import QUANTIZABLE_ONNX_OPS

    nodes = onnx.load(str(path)).graph.node
    counts = {k: sum(n.op_type == k for n in nodes) for k in ("QuantizeLinear", "DequantizeLinear", *QUANTIZABLE_ONNX_OPS)}
    return {**counts, "int8_weights": sum(n.name.endswith("_weight_dq") for n in nodes)}
