"""Quantization-aware fine-tuning: the fake-quantized generator, its distillation, its QDQ ONNX export."""

import numpy as np
import pytest

from gan3d_lib.models import models
from gan3d_lib.precision import qat, quantization


@pytest.fixture(scope="module")
def tiny():
    """A tiny Conv2D generator with every head, its calibration latents and fake-quantized copy."""
    gen = models.build_generator("conv2d", size=0.125, small_cell_head=True, energy_scale_head=True,
                                 depth_fluctuation_head=True)
    latents = quantization.calibration_latents(32, seed=1)
    return gen, latents, qat.fake_quantized(gen, qat.calibrated_input_ranges(gen, latents))


def test_every_dense_and_convolution_is_fake_quantized_and_changes_the_showers(tiny):
    gen, latents, fq = tiny
    wrapped = [layer.name for layer in fq.layers if layer.name.endswith("_qat")]
    assert len(wrapped) == len(qat.calibrated_input_ranges(gen, latents[:4])) == sum(
        type(layer).__name__ in qat.QUANTIZED_LAYER_TYPES for layer in gen.layers) > 25
    fp32, fake = (np.asarray(m(latents[:4], training=False)) for m in (gen, fq))
    assert not np.allclose(fp32, fake, rtol=1e-4, atol=0)  # INT8 rounding shows


def test_a_missing_range_is_refused_naming_the_layer(tiny):
    gen, latents, _ = tiny
    ranges = qat.calibrated_input_ranges(gen, latents[:4])
    ranges.pop("dense_0")
    with pytest.raises(ValueError, match=r"no calibrated input range for layers \['dense_0'\]"):
        qat.fake_quantized(gen, ranges)


def test_distillation_lowers_the_loss_and_leaves_the_teacher_alone(tiny):
    gen, latents, _ = tiny
    student = qat.fake_quantized(gen, qat.calibrated_input_ranges(gen, latents))
    before = [w.copy() for w in gen.get_weights()]
    losses = qat.distil(student, gen, latents, steps=30, batch_size=8, learning_rate=1e-3, seed=2)
    assert np.mean(losses[-5:]) < losses[0]
    assert all(np.array_equal(a, b) for a, b in zip(before, gen.get_weights()))


def test_the_onnx_export_has_qdq_nodes_and_runs_as_its_keras_twin_in_onnx_runtime_and_openvino(tiny, tmp_path):
    import onnxruntime as ort
    import openvino as ov

    gen, latents, fq = tiny
    path = qat.onnx_qdq(fq, tmp_path / "qat.onnx")
    counts = qat.qdq_node_counts(path)
    n_ops = counts["Conv"] + counts["ConvTranspose"] + counts["MatMul"] + counts["Gemm"]
    n_layers = len(qat.calibrated_input_ranges(gen, latents[:4]))
    # every layer's weight in int8; one more MatMul, the depth head's resampling, multiplies two activations
    assert counts["int8_weights"] == n_layers and n_ops == n_layers + 1 and counts["ConvTranspose"] == 6
    assert counts["DequantizeLinear"] == n_layers + counts["QuantizeLinear"] and counts["QuantizeLinear"] >= 25
    keras_out = np.asarray(fq(latents[:8], training=False))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    for out in (session.run(None, {session.get_inputs()[0].name: latents[:8]})[0], compiled(latents[:8])[0]):
        rel = np.abs(out - keras_out) / np.maximum(np.abs(keras_out), 1e-30)
        # within INT8 rounding: a value at a rounding tie may land one step over and carry that downstream
        assert np.mean(rel < 1e-3) > 0.8, np.mean(rel < 1e-3)
        assert np.allclose(out.sum(axis=(1, 2, 3)), keras_out.sum(axis=(1, 2, 3)), rtol=1e-3)
