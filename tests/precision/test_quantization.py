"""Reduced-precision artefacts: every backend reloads in a fresh process and reproduces the
outputs it recorded; INT8 shrinks the paper-size generator; OpenVINO artefacts
compute in the precision their label claims."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from gan3d_lib.precision import artefacts, quantization
from gan3d_lib.precision.artefacts import HardwareUnsupported, load_artefact
from gan3d_lib.precision.backends import BACKEND_NAMES, BACKENDS
from gan3d_lib.models.models import build_generator, latent_energy_gev, latent_vectors
from gan3d_lib.precision.op_precision import op_precision_table
from gan3d_lib.core.results import machine_info

pytestmark = pytest.mark.slow
TF_INT8_RUNS = machine_info()["avx512f"]  # oneDNN INT8 kernels in stock TensorFlow need AVX-512
CALIBRATION = quantization.calibration_latents(32, seed=3)

_RELOAD = """
import json, sys, numpy as np
from gan3d_lib.precision.artefacts import load_artefact
art = load_artefact(sys.argv[1])
ref = art.reference()
got = art.generate_from_latent(ref["latent"])
scale = float(np.abs(ref["showers"]).max())
print(json.dumps({"max_abs_diff": float(np.abs(got - ref["showers"]).max()), "scale": scale,
                  "shape": list(got.shape), "min": float(got.min())}))
"""


@pytest.fixture(scope="module")
def tiny_generator():
    return build_generator("conv2d", size=0.125, seed=11)


@pytest.fixture(scope="module")
def written(tiny_generator, tmp_path_factory):
    root = tmp_path_factory.mktemp("artefacts")
    return {b: quantization.make_artefact(b, tiny_generator, root / b, model="conv2d", size=0.125, source="test",
                                          calibration=CALIBRATION) for b in BACKEND_NAMES}


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_artefact_reloads_in_a_fresh_process_and_reproduces_its_outputs(written, backend):
    art = written[backend]
    if backend == "openvino-bf16" and not machine_info()["avx512_bf16"]:
        assert art.manifest["reference_outputs_recorded"] is False
        pytest.skip("OpenVINO runs bfloat16 only on CPUs with AVX-512 BF16 or AMX; this CPU has neither: written, "
                    "not run")
    if backend == "inc-int8" and not TF_INT8_RUNS:
        assert art.manifest["reference_outputs_recorded"] is False
        with pytest.raises(HardwareUnsupported, match="AVX-512"):
            load_artefact(art.path).generate(np.array([50.0], np.float32), seed=1)
        pytest.skip("INC INT8 graphs need AVX-512 (oneDNN INT8 kernels); this CPU has none: written, not run")
    assert art.manifest["reference_outputs_recorded"] is True
    res = subprocess.run([sys.executable, "-c", _RELOAD, str(art.path)], capture_output=True, text=True, timeout=300,
                         env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["shape"] == [8, 25, 25, 25] and out["min"] >= 0.0
    assert out["max_abs_diff"] <= 1e-5 * max(out["scale"], 1e-6), out


AMX_BF16 = machine_info()["amx"]
# Measured on an Intel Xeon with AMX: Keras mixed_bfloat16 on oneDNN's AMX BF16 kernels gives the
# tiny untrained generator 0.53-0.59x FP32's energy per shower; on an AMD EPYC with AVX-512 BF16 and
# no AMX, and with emulated BF16 on AVX2 CPUs, it stays within the bound. The physics gate of
# chapter 3 judges the trained generator.
BF16_NATIVE_XFAIL = pytest.mark.xfail(AMX_BF16, strict=True,
                                      reason="AMX BF16 kernels: 0.53-0.59x FP32 energy on the tiny untrained generator")


@pytest.mark.parametrize("backend", [pytest.param("keras-bf16", marks=BF16_NATIVE_XFAIL), "tflite-fp16",
                                     "tflite-dynamic", "tflite-int8", "onnx-int8", "openvino-int8"])
def test_reduced_precision_stays_close_to_fp32(written, backend):
    ref = written["keras-fp32"].reference()
    other = written[backend].reference()
    np.testing.assert_array_equal(ref["latent"], other["latent"])
    scale = float(np.abs(ref["showers"]).max())
    assert scale > 0
    # relative to the largest cell: a loose bound that still catches a broken conversion
    assert float(np.abs(other["showers"] - ref["showers"]).max()) < 0.25 * scale


def test_int8_ops_and_fp32_fallback(written):
    table = op_precision_table(written["onnx-int8"])
    assert table["Conv"]["int8"] > 0 and table["ConvTranspose"]["int8"] > 0
    inc = op_precision_table(written["inc-int8"])
    assert "Conv2DBackpropInput" not in inc  # rewritten as Conv2D + DepthToSpace, so quantizable
    assert inc["Conv2D"]["fp32"] == 0 and inc["Conv2D"]["int8"] >= 28 and inc["LeakyRelu"]["fp32"] == 21


def test_corrupted_or_foreign_folders_give_clear_errors(written, tmp_path):
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        load_artefact(tmp_path)
    src = written["onnx-fp32"].path
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_bytes((src / "manifest.json").read_bytes())
    (broken / "model.onnx").write_bytes((src / "model.onnx").read_bytes()[:1000])
    with pytest.raises(ValueError, match="checksum"):
        load_artefact(broken)
    doc = json.loads((src / "manifest.json").read_text())
    (broken / "manifest.json").write_text(json.dumps({**doc, "backend": "fp64"}))
    with pytest.raises(ValueError, match="unknown backend"):
        load_artefact(broken)


def test_a_failed_write_leaves_nothing_behind(tiny_generator, tmp_path):
    def explode(path):
        path.write_bytes(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        artefacts.write_artefact(tmp_path / "a", "onnx-fp32", explode, model="conv2d", size=0.125, source="test")
    assert list(tmp_path.iterdir()) == []


def test_paper_size_int8_artefacts_are_at_least_3_5x_smaller(tmp_path):
    gen = build_generator("conv2d", size="paper", seed=1)
    sizes = {b: quantization.make_artefact(b, gen, tmp_path / b, model="conv2d", size="paper", source="untrained",
                                           calibration=CALIBRATION[:8]).bytes_on_disk
             for b in ("tf-graph-fp32", "inc-int8", "tflite-fp32", "tflite-int8", "onnx-fp32", "onnx-int8")}
    for fp32, int8 in (("tf-graph-fp32", "inc-int8"), ("tflite-fp32", "tflite-int8"), ("onnx-fp32", "onnx-int8")):
        assert sizes[fp32] / sizes[int8] >= 3.5, (int8, sizes)


def test_openvino_fp32_equals_the_tf_graph_and_reports_f32(written):
    z = written["tf-graph-fp32"].reference()["latent"]
    tf_out = written["tf-graph-fp32"].generate_from_latent(z)
    ov = load_artefact(written["openvino-fp32"].path)
    assert ov.runtime_precision == "f32" and ov.manifest["runtime_precision"] == "f32"
    np.testing.assert_allclose(ov.generate_from_latent(z), tf_out, rtol=1e-4, atol=1e-6 * float(np.abs(tf_out).max()))


def test_openvino_int8_keeps_its_pinned_precision_and_has_int8_weights(written):
    art = written["openvino-int8"]
    assert art.manifest["settings"]["inference_precision_pinned"] == "f32" and art.runtime_precision == "f32"
    assert art.bytes_on_disk < 0.75 * written["openvino-fp32"].bytes_on_disk  # tiny model: the XML weighs


def test_openvino_int8_with_bf16_float_layers_says_so_and_runs_it(tiny_generator, tmp_path):
    from gan3d_lib.precision.openvino_artefacts import bf16_offered

    cfg = quantization.QuantConfig(fp32_ops=tuple(quantization.quantizable_layers("openvino-int8", tiny_generator)[-3:]),
                                   float_precision="bf16")
    with pytest.raises(ValueError, match="openvino-int8 only"):
        cfg.check("onnx-int8")
    if not bf16_offered():
        pytest.skip(f"OpenVINO computes no BF16 on this CPU ({machine_info()['cpu_model']}): no INT8 + BF16 artefact")
    art = quantization.make_artefact("openvino-int8", tiny_generator, tmp_path / "a", model="conv2d", size=0.125,
                                     source="test", calibration=CALIBRATION, config=cfg)
    assert art.manifest["settings"]["inference_precision_pinned"] == "bf16" and art.runtime_precision == "bf16"
    table = op_precision_table(load_artefact(art.path))
    assert table["Convolution"]["int8"] > 0 and table["Convolution"]["bf16"] > 0 and table["Convolution"]["fp32"] == 0


@pytest.mark.parametrize("backend", ["keras-fp32", "tf-graph-fp32", "onnx-fp32", "openvino-fp32", "tflite-fp32"])
def test_a_generator_with_every_head_exports_to_every_fp32_runtime(backend, tmp_path):
    from gan3d_lib.models.models import ENERGY_SCALE_MAX_LN, SMALL_CELL_INIT_LN_MEV, transfer_weights

    headed = build_generator("conv2d", size=0.125, seed=12, small_cell_head=True, energy_scale_head=True,
                             depth_fluctuation_head=True)
    transfer_weights(build_generator("conv2d", size=0.125, seed=11), headed)
    bias = headed.get_layer("small_cells_ln_mev").bias
    bias.assign(bias.numpy() + np.linspace(0.0, 9.0, bias.shape[0], dtype=np.float32))  # up to exp(-1) MeV
    headed.get_layer("energy_scale").kernel.assign(np.array([-0.3, 0.05, 0.02, -0.01], np.float32))
    headed.get_layer("depth_fluctuation").kernel.assign(np.array([0.0, 0.1, -2.0, 0.0], np.float32))
    art = quantization.make_artefact(backend, headed, tmp_path / backend, model="conv2d", size=0.125, source="test")
    assert art.manifest["generator_options"] == {"small_cell_head": True, "energy_scale_head": True,
                                                 "depth_fluctuation_head": True}
    z = latent_vectors(np.array([3.0, 250.0]), seed=4)
    expected = np.asarray(headed(z, training=False))
    got = load_artefact(art.path).generate_from_latent(z)
    assert (got > 0).all() and got.min() >= np.exp(SMALL_CELL_INIT_LN_MEV - ENERGY_SCALE_MAX_LN) * 1e-3 * 0.99
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * float(expected.max()))


@pytest.mark.parametrize("backend", [b for b in BACKEND_NAMES if not b.endswith("fp32")])
def test_a_generator_with_every_head_writes_and_runs_every_reduced_precision_artefact(backend, tmp_path):
    from gan3d_lib.models.models import transfer_weights

    headed = build_generator("conv2d", size=0.125, seed=12, small_cell_head=True, energy_scale_head=True,
                             depth_fluctuation_head=True)
    transfer_weights(build_generator("conv2d", size=0.125, seed=11), headed)
    headed.get_layer("energy_scale").kernel.assign(np.array([-0.3, 0.05, 0.02, -0.01], np.float32))
    headed.get_layer("depth_fluctuation").kernel.assign(np.array([0.0, 0.1, -2.0, 0.0], np.float32))
    if backend in ("inc-int8", "onnx-int8"):  # the per-layer INT8 search leaves the energy-scale head alone
        layers = quantization.quantizable_layers(backend, headed)
        assert "small_cells_ln_mev_1" in layers and not any(name.startswith("energy_scale") for name in layers)
        costs = quantization.quantizable_layer_costs(backend, headed, layers)  # every listed layer has its cost
        assert sum(costs.values()) == pytest.approx(1.0)
    art = quantization.make_artefact(backend, headed, tmp_path / backend, model="conv2d", size=0.125, source="test",
                                     calibration=CALIBRATION)
    if not art.manifest["reference_outputs_recorded"]:
        pytest.skip(f"{backend} does not run on this CPU ({machine_info()['cpu_model']}): written, not run")
    z = latent_vectors(np.array([50.0, 250.0]), seed=4)
    got = load_artefact(art.path).generate_from_latent(z)
    assert got.shape == (2, 25, 25, 25) and np.isfinite(got).all() and got.min() >= 0.0
    ratio = got.sum(axis=(1, 2, 3)) / np.asarray(headed(z, training=False)).sum(axis=(1, 2, 3))
    assert ((ratio > 0.5) & (ratio < 2.0)).all(), ratio  # the untrained net's total energy, not its physics


def test_calibration_method_must_be_offered_by_the_backend(tiny_generator, tmp_path):
    with pytest.raises(ValueError, match="not offered"):
        quantization.make_artefact("onnx-int8", tiny_generator, tmp_path / "x", model="conv2d", size=0.125,
                                   source="test", calibration=CALIBRATION,
                                   config=quantization.QuantConfig(calibration="kl"))
    assert not (tmp_path / "x").exists()


def test_quantizable_layers_name_keras_layers_in_graph_order(tiny_generator):
    onnx_layers = quantization.quantizable_layers("onnx-int8", tiny_generator)
    assert len(onnx_layers) == len(set(onnx_layers)) == 29
    assert quantization.layer_of("conv2d_generator_1/conv2d_7_1/convolution") == "conv2d_7_1"


BUCKETS = (2.0, 20.0, 100.0, 500.0)


@pytest.mark.parametrize("backend", ["onnx-int8", "openvino-int8"])
def test_energy_bucketed_int8_runs_each_latent_through_its_buckets_model(tiny_generator, tmp_path, backend):
    cfg = quantization.QuantConfig(energy_buckets=BUCKETS, asymmetric_activations=backend == "openvino-int8")
    art = quantization.make_artefact(backend, tiny_generator, tmp_path / "b", model="conv2d", size=0.125,
                                     source="test", calibration=CALIBRATION, config=cfg)
    model = art.model_file
    assert sorted(art.manifest["companion_sha256"]) == sorted(
        f.name for f in tmp_path.joinpath("b").iterdir() if f.name not in (model.name, "manifest.json", "reference.npz"))
    assert all(artefacts.bucket_model_path(model, i).exists() for i in range(3))
    assert art.manifest["settings"]["energy_buckets"] == list(BUCKETS)
    # each bucket's own model, run on latents of its energies, gives what the artefact gives
    energies = np.array([3.0, 5.0, 40.0, 300.0, 450.0], np.float32)
    z = latent_vectors(energies, seed=5)
    whole = art.generate_from_latent(z)
    runner = artefacts._RUNNERS[BACKENDS[backend].runtime]  # noqa: SLF001
    for i, rows in enumerate([[0, 1], [2], [3, 4]]):
        alone = runner(artefacts.bucket_model_path(model, i), art.manifest, None)(z[rows])
        np.testing.assert_array_equal(whole[rows], alone)
    # and the models differ: bucket 0 on a 300 GeV latent is not bucket 2
    other = runner(artefacts.bucket_model_path(model, 0), art.manifest, None)(z[[3]])
    assert not np.array_equal(other, whole[[3]])
    out = subprocess.run([sys.executable, "-c", _RELOAD, str(art.path)], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["max_abs_diff"] <= 1e-6 * max(got["scale"], 1.0)


def test_quant_config_round_trips_and_checks_its_settings():
    cfg = quantization.QuantConfig(fp32_ops=("a",), energy_buckets=BUCKETS, asymmetric_activations=True,
                                   float_precision="bf16")
    assert quantization.QuantConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    cfg.check("openvino-int8")
    with pytest.raises(ValueError, match="asymmetric_activations"):
        cfg.check("onnx-int8")
    with pytest.raises(ValueError, match="increasing"):
        quantization.QuantConfig(energy_buckets=(2.0, 1.0, 5.0)).check("onnx-int8")
    with pytest.raises(ValueError, match="'fp32' or 'bf16'"):
        quantization.QuantConfig(float_precision="fp16").check("openvino-int8")


def test_latent_energy_is_exact_for_sphere_latents_and_within_a_few_percent_for_the_studys():
    energies = np.geomspace(2.0, 500.0, 2000).astype(np.float32)
    np.testing.assert_allclose(latent_energy_gev(latent_vectors(energies, seed=9)) / energies, 1.0, atol=1e-5)
    ratio = latent_energy_gev(latent_vectors(energies, seed=9, norm="normal")) / energies
    assert abs(ratio.mean() - 1) < 0.01 and 0.03 < ratio.std() < 0.07


def test_activation_peaks_grow_with_the_primary_energy(tiny_generator):
    peaks = quantization.activation_peaks(tiny_generator, [2.0, 500.0], n=8)
    first = next(iter(peaks))
    assert first.startswith("dense") and len(peaks) == 29
    assert peaks[first][1] > 20 * peaks[first][0]  # the Dense layer is linear in the latent, E_p x N(0, 1)
