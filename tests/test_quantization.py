"""Reduced-precision artefacts: every backend reloads in a fresh process and reproduces the
outputs it recorded; INT8 shrinks the paper-size generator; tuning stops at the first
candidate within tolerance and records every trial."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from gan3d_lib import artefacts, quantization
from gan3d_lib.artefacts import BACKENDS, HardwareUnsupported, load_artefact
from gan3d_lib.models import build_generator
from gan3d_lib.results import machine_info

pytestmark = pytest.mark.slow
TF_INT8_RUNS = machine_info()["avx512f"]  # oneDNN INT8 kernels in stock TensorFlow need AVX-512
CALIBRATION = quantization.calibration_latents(32, seed=3)

_RELOAD = """
import json, sys, numpy as np
from gan3d_lib.artefacts import load_artefact
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
                                          calibration=CALIBRATION) for b in BACKENDS}


@pytest.mark.parametrize("backend", BACKENDS)
def test_artefact_reloads_in_a_fresh_process_and_reproduces_its_outputs(written, backend):
    art = written[backend]
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


@pytest.mark.parametrize("backend", ["keras-bf16", "tflite-fp16", "tflite-dynamic", "tflite-int8", "onnx-int8"])
def test_reduced_precision_stays_close_to_fp32(written, backend):
    ref = written["keras-fp32"].reference()
    other = written[backend].reference()
    np.testing.assert_array_equal(ref["latent"], other["latent"])
    scale = float(np.abs(ref["showers"]).max())
    assert scale > 0
    # relative to the largest cell: a loose bound that still catches a broken conversion
    assert float(np.abs(other["showers"] - ref["showers"]).max()) < 0.25 * scale


def test_int8_ops_and_fp32_fallback(written):
    table = quantization.op_precision_table(written["onnx-int8"])
    assert table["Conv"]["int8"] > 0 and table["ConvTranspose"]["int8"] > 0
    inc = quantization.op_precision_table(written["inc-int8"])
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


def test_fallback_ladder_walks_back_from_the_output():
    #   a(conv) -> b(relu) -> c(conv) -> out(conv);  d(conv) -> out
    ops = {"a": "Conv", "b": "Relu", "c": "Conv", "d": "Conv", "out": "Conv"}
    inputs = {"a": [], "b": ["a"], "c": ["b"], "d": [], "out": ["c", "d"]}
    depths = quantization.quantizable_ops(ops, inputs, ("Conv",))
    assert depths == {"a": 2, "c": 1, "d": 1, "out": 0}
    assert quantization.fallback_ladder(depths) == [[], ["out"], ["c", "d", "out"], ["a", "c", "d", "out"]]
    assert quantization.fallback_ladder(depths, max_trials=2) == [[], ["out"]]


def test_tuning_stops_at_the_first_candidate_within_tolerance(tiny_generator, tmp_path):
    fp32 = quantization.make_artefact("onnx-fp32", tiny_generator, tmp_path / "fp32", model="conv2d", size=0.125,
                                      source="test")
    z = quantization.calibration_latents(16, seed=5)
    target = fp32.generate_from_latent(z)

    def metric(art):  # distance to FP32 plus a floor, so FP32 scores the floor
        return 1e-3 + float(np.mean((art.generate_from_latent(z) - target) ** 2))

    easy = quantization.tune("onnx-int8", tiny_generator, tmp_path / "easy", metric, model="conv2d", size=0.125,
                             source="test", tolerance=1e6, calibration=CALIBRATION, progress=False)
    assert easy["chosen"] == 0 and len(easy["trials"]) == 1 and easy["trials"][0]["n_fp32_ops"] == 0
    hard = quantization.tune("onnx-int8", tiny_generator, tmp_path / "hard", metric, model="conv2d", size=0.125,
                             source="test", tolerance=-0.5, max_trials=3, calibration=CALIBRATION, progress=False)
    assert hard["chosen"] is None and [t["trial"] for t in hard["trials"]] == [0, 1, 2]
    assert [t["n_fp32_ops"] for t in hard["trials"]] == sorted(t["n_fp32_ops"] for t in hard["trials"])
    assert hard["artefact"].manifest["tuning"]["trials"] == hard["trials"]
