"""OpenVINO INT8 runs what its QuantConfig asks for: read from the compiled model, a layer kept out of
INT8 executes in FP32 (transposed convolutions and the heads' ops included), and an artefact with one
INT8 layer is judged like ONNX Runtime's with the same layer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gan3d_lib.precision import quantization
from gan3d_lib.precision.backends import ONNX_INT8, OPENVINO_INT8
from gan3d_lib.precision.gate import fp32_gate, precision_gate
from gan3d_lib.precision.openvino_artefacts import convert, executed_precisions, int8_layers
from gan3d_lib.precision.quant_config import QuantConfig
from gan3d_lib.training.training import load_generator

pytestmark = pytest.mark.slow
SHIPPED_LITE = Path(__file__).resolve().parents[2] / "data" / "weights" / "conv2d_lite_stage14"
CALIBRATION = quantization.calibration_latents(64, seed=5)
#: one convolution and one transposed convolution (which OpenVINO names ConvolutionBackpropData_N), by the
#: exported names of their Keras layers (the generator numbers its layers itself)
CONVOLUTION, TRANSPOSED = "view1_conv2d_3_1", "view1_conv2d_transpose_1_1"


@pytest.fixture(scope="module")
def generator():
    return load_generator(SHIPPED_LITE)


@pytest.fixture(scope="module")
def layers(generator):
    return quantization.quantizable_layers(OPENVINO_INT8, generator)


def _one_layer(backend, generator, layers, layer, out):
    config = QuantConfig(fp32_ops=tuple(name for name in layers if name != layer))
    return quantization.make_artefact(backend, generator, out, model="conv2d", size="lite", source="test",
                                      calibration=CALIBRATION, config=config)


def _int8(artefact):
    return [r["layer"] for r in executed_precisions(artefact.model_file, "f32") if r["precision"] in ("u8", "i8")]


def test_the_converted_model_names_every_quantizable_layer(generator, layers):
    model = convert(generator)
    # the transposed convolutions and the heads' layers too (in the converted model's op order)
    assert sorted(int8_layers(model, QuantConfig())) == sorted(layers)
    assert int8_layers(model, QuantConfig(fp32_ops=tuple(layers[1:]))) == layers[:1]
    with pytest.raises(ValueError, match="does not have: \\['no_such_layer'\\]"):
        int8_layers(model, QuantConfig(fp32_ops=("no_such_layer",)))


@pytest.mark.parametrize("layer", [CONVOLUTION, TRANSPOSED])
def test_all_layers_but_one_kept_out_of_int8_execute_exactly_one_int8_primitive(generator, layers, layer, tmp_path):
    assert _int8(_one_layer(OPENVINO_INT8, generator, layers, layer, tmp_path / "ov")) == [layer]


def test_all_ops_int8_executes_every_convolution_and_the_dense_layer_in_int8(generator, tmp_path):
    """(The depth-fluctuation head's MatMul, 2 x 200 multiply-accumulates on the latent, NNCF leaves in FP32.)"""
    art = quantization.make_artefact(OPENVINO_INT8, generator, tmp_path / "ov", model="conv2d", size="lite",
                                     source="test", calibration=CALIBRATION)
    rows = [r for r in executed_precisions(art.model_file, "f32") if r["type"] != "MatMul"]
    assert len(rows) == 30 and all(r["precision"] in ("u8", "i8") for r in rows), [
        r for r in rows if r["precision"] not in ("u8", "i8")]


def test_one_int8_layer_passes_the_quick_screen_wherever_onnx_runtimes_does(generator, layers, tmp_path):
    import keras

    reference, latent = fp32_gate(lambda z: keras.ops.convert_to_numpy(generator(z, training=False)), 400, seed=61,
                                  n_bootstrap=5)
    screens = {}
    for backend in (OPENVINO_INT8, ONNX_INT8):
        art = _one_layer(backend, generator, layers, CONVOLUTION, tmp_path / backend)
        screens[backend] = precision_gate(art.generate_from_latent(latent), reference, classifier=False)
    assert screens[OPENVINO_INT8].passed or not screens[ONNX_INT8].passed, {
        b: (r.passed, r.worst, round(r.worst_ratio, 3)) for b, r in screens.items()}
    assert np.isfinite(screens[OPENVINO_INT8].worst_ratio)


def test_the_int8_share_of_multiply_accumulates_counts_what_runs(generator, layers, tmp_path):
    from gan3d_lib.precision.op_precision import int8_mac_share

    for backend in (OPENVINO_INT8, ONNX_INT8):
        costs = quantization.quantizable_layer_costs(backend, generator, layers)
        share = int8_mac_share(_one_layer(backend, generator, layers, TRANSPOSED, tmp_path / backend), costs)
        assert share["int8_layers"] == [TRANSPOSED] and share["not_executed"] == []
        assert share["share"] == pytest.approx(costs[TRANSPOSED]) and 0 < share["share"] < 0.2
