"""Per-op profiles: the oneDNN verbose parser on synthetic lines, and each runtime's profile
of a tiny generator."""

from __future__ import annotations

import pytest

from gan3d_lib.speed.profiles import kernel_precision_ms, op_profile, parse_onednn_verbose, profile_table

LINES = [
    "onednn_verbose,v1,info,oneDNN v3.7.3 (commit N/A)",
    "onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx512_core,forward_inference,src:f32 dst:f32,"
    "attr-scratchpad:user,alg:convolution_direct,mb4_ic8oc8_ih16oh16kh3,0.5",
    "onednn_verbose,v1,primitive,exec,cpu,convolution,jit_wino_4x3:avx512_core,forward_inference,src:f32 dst:f32,"
    ",alg:convolution_winograd,mb4_ic8oc8_ih16oh16kh3,0.25",
    "onednn_verbose,v1,primitive,exec,cpu,reorder,jit:uni,undef,src:f32 dst:f32,,,8x8x3x3,0.125",
    "not a verbose line",
]


def test_parse_onednn_verbose_sums_time_by_kind_implementation_and_algorithm():
    out = parse_onednn_verbose(LINES)
    assert set(out) == {"convolution", "reorder"}
    conv = out["convolution"]
    assert conv["ms"] == pytest.approx(0.75) and conv["count"] == 2
    assert conv["impls"] == {"brg_conv_fwd:avx512_core": 0.5, "jit_wino_4x3:avx512_core": 0.25}
    assert conv["algorithms"] == {"convolution_direct": 1, "convolution_winograd": 1}


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory):
    pytest.importorskip("keras")
    from gan3d_lib.models.models import build_generator
    from gan3d_lib.precision.quantization import make_artefact

    root = tmp_path_factory.mktemp("prof")
    gen = build_generator("conv2d", size=0.125, seed=3)
    return {b: make_artefact(b, gen, root / b, model="conv2d", size=0.125, source="test").path
            for b in ("tf-graph-fp32", "onnx-fp32", "tflite-fp32", "openvino-fp32", "openvino-int8")}


def test_each_runtime_profiles_or_says_why_not(artefacts):
    tf = op_profile(artefacts["tf-graph-fp32"], 4, runs=2, warmup=1, threads=1)
    kinds = {o["op"] for o in tf["ops"]}
    # oneDNN runs TensorFlow's convolutions as its own 'convolution' primitive on AVX-512 CPUs; on
    # AVX2-only ones (the AMD EPYC of CI) TensorFlow lowers them to matrix products ('gemm_api')
    assert tf["method"] == "onednn-verbose" and "outside oneDNN" in kinds and kinds & {"convolution", "gemm_api"}
    assert sum(o["ms"] for o in tf["ops"]) == pytest.approx(tf["wall_ms"], rel=0.05)
    onnx = op_profile(artefacts["onnx-fp32"], 4, runs=2, warmup=1, threads=1)
    assert onnx["method"] == "onnxruntime-profiler" and "Conv" in {o["op"] for o in onnx["ops"]}
    assert 0 < sum(o["ms"] for o in onnx["ops"]) <= 1.2 * onnx["wall_ms"]
    ov = op_profile(artefacts["openvino-fp32"], 4, runs=2, warmup=1, threads=1)
    assert ov["method"] == "openvino-perf-counters" and "Convolution" in {o["op"] for o in ov["ops"]}
    assert any(o["detail"]["kernels"] for o in ov["ops"])
    fp32 = kernel_precision_ms(ov)
    assert fp32.get("FP32", 0) > 0 and "I8" not in fp32
    assert sum(fp32.values()) == pytest.approx(sum(o["ms"] for o in ov["ops"]), rel=1e-6)
    int8 = kernel_precision_ms(op_profile(artefacts["openvino-int8"], 4, runs=2, warmup=1, threads=1))
    assert int8.get("I8", 0) > 0
    with pytest.raises(ValueError, match="OpenVINO profiles"):
        kernel_precision_ms(onnx)
    lite = op_profile(artefacts["tflite-fp32"], 4)
    assert "no per-op profile" in lite["skipped"]
    rows = profile_table([tf, onnx, lite], top=2)
    assert rows[-1]["op"].startswith("skipped") and any(r["op"] == "other ops" for r in rows)


def test_cli_bench_profile_prints_the_table(artefacts, capsys, tmp_path):
    from gan3d_lib.cli.parser import main
    from gan3d_lib.core.results import read_results

    out = tmp_path / "profile.json"
    assert main(["bench", "--profile", "--artefacts", str(artefacts["onnx-fp32"]), "--batch", "2", "--threads", "1",
                 "--profile-runs", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    cells = [[c.strip() for c in line.split("|")[1:-1]] for line in text.splitlines() if line.startswith("|")]
    assert cells[0] == ["artefact", "op type", "ms per batch", "share of the time"]
    assert any(row[1] == "Conv" for row in cells[2:])
    assert read_results(out)["numbers"]["profiles"][0]["method"] == "onnxruntime-profiler"
