"""Inference benchmark runner, peaks, roofline and the speed-up table (no timing asserts)."""

from __future__ import annotations

import os

import pytest

from gan3d_lib.speed import bench, rooflines
from gan3d_lib.book import speedups
from gan3d_lib.models.models import build_generator
from gan3d_lib.precision.quantization import calibration_latents, make_artefact

CORES = sorted(os.sched_getaffinity(0))


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    gen = build_generator("conv2d", size=0.125, seed=5)
    return {b: make_artefact(b, gen, root / b, model="conv2d", size=0.125, source="test",
                             calibration=calibration_latents(8, seed=1)).path
            for b in ("tf-graph-fp32", "onnx-fp32")}


def test_run_streams_records_every_point_with_pinned_disjoint_cores(artefacts):
    streams = min(2, len(CORES))
    records = bench.run_streams(list(artefacts.values()), [1, 4], streams=streams, threads=1, seconds=0.2, warmup=1)
    assert [(r["backend"], r["batch_size"]) for r in records] == [
        ("tf-graph-fp32", 1), ("tf-graph-fp32", 4), ("onnx-fp32", 1), ("onnx-fp32", 4)]
    for r in records:
        assert r["status"] == "ok" and r["streams"] == streams and r["threads_per_stream"] == 1
        assert len(r["per_stream"]) == streams and all(s["batches"] >= 2 for s in r["per_stream"])
        assert r["showers_per_s"] == pytest.approx(sum(s["showers_per_s"] for s in r["per_stream"]))
        assert 0 < r["latency_ms_p50"] <= r["latency_ms_p99"]
        cpus = [c for stream in r["cpus"] for c in stream]
        assert len(set(cpus)) == len(cpus) == streams
    assert bench.best_batch(records, artefacts["onnx-fp32"])["backend"] == "onnx-fp32"


def test_rounds_interleave_and_report_the_median_round(artefacts):
    path = artefacts["onnx-fp32"]
    (r,) = bench.run_streams([path], [2], seconds=0.05, warmup=1, rounds=3)
    assert r["rounds"] == 3 and len(r["showers_per_s_rounds"]) == 3
    assert r["showers_per_s"] == sorted(r["showers_per_s_rounds"])[1]
    configs = bench.stream_configs(2)
    assert configs == [(1, 1), (1, 2), (2, 1)] and bench.stream_configs(2, single_thread=False) == [(1, 2), (2, 1)]
    if len(CORES) >= 2:
        runs = bench.run_stream_configs(path, [1], [(1, 2), (2, 1)], rounds=2, seconds=0.05, warmup=1)
        assert [(x["streams"], x["threads_per_stream"]) for x in runs] == [(1, 2), (2, 1)]
        assert all(len(x["showers_per_s_rounds"]) == 2 for x in runs)
        # the processes of each config are started once and kept across rounds and batch sizes
        runs = bench.run_stream_configs(path, [1, 2], [(1, 2), (2, 1)], rounds=2, seconds=0.05, warmup=1)
        assert [(x["streams"], x["batch_size"]) for x in runs] == [(1, 1), (1, 2), (2, 1), (2, 2)]
        pids = {x["streams"]: {s["pid"] for s in x["per_stream"]} for x in runs}
        assert len(pids[1]) == 1 and len(pids[2]) == 2 and not pids[1] & pids[2]


def test_paired_ratio_takes_the_median_of_round_by_round_ratios():
    a = {"showers_per_s": 10.0, "showers_per_s_rounds": [10.0, 4.0, 12.0]}
    b = {"showers_per_s": 5.0, "showers_per_s_rounds": [5.0, 2.0, 6.0]}  # every round 2x, medians 10/5 too
    assert bench.paired_ratio(a, b) == 2.0
    c = {"showers_per_s": 6.0, "showers_per_s_rounds": [2.0, 6.0, 12.0]}  # slow phase in round 1 of c only
    assert bench.paired_ratio(a, c) == pytest.approx(1.0)  # rounds 10/2, 4/6, 12/12
    assert bench.paired_ratio(a, {"showers_per_s": 4.0}) == 2.5  # unpaired: ratio of the medians
    assert bench.paired_ratio(a, {"showers_per_s": None}) is None


def test_run_streams_rejects_bad_requests(artefacts, tmp_path):
    with pytest.raises(ValueError, match="need 3 cores"):
        bench.run_streams([artefacts["onnx-fp32"]], [1], streams=3, threads=1, cpus=[0, 1])
    with pytest.raises(FileNotFoundError, match="no manifest.json"):
        bench.run_streams([tmp_path], [1])
    with pytest.raises(ValueError, match="integers >= 1"):
        bench.run_streams([artefacts["onnx-fp32"]], "1,0")


def test_parse_int_list():
    assert bench.parse_int_list("1, 16,128") == [1, 16, 128]
    assert bench.parse_int_list([4]) == [4]
    with pytest.raises(ValueError):
        bench.parse_int_list("")


def test_peaks_from_vector_width_vnni_and_clock():
    avx512 = {"usable_cores": 2, "avx512f": True, "avx512_vnni": True}
    p = rooflines.peak_macs_per_s(avx512, clock_ghz=2.0)
    assert p["fp32"] == 2 * 2e9 * 2 * 16 and p["int8_over_fp32"] == 4
    avx2 = rooflines.peak_macs_per_s({"usable_cores": 4, "avx2": True}, clock_ghz=3.0)
    assert avx2["fp32"] == 4 * 3e9 * 2 * 8 and avx2["int8_over_fp32"] == 2
    # a measured rate above the nominal peak raises the clock to the lowest that explains it
    raised = rooflines.peak_macs_per_s(avx512, clock_ghz=2.0, at_least_macs_per_s=256e9)
    assert raised["clock_ghz"] == pytest.approx(4.0) and raised["nominal_clock_ghz"] == 2.0


def _record(artefact, backend, size, batch, rate, model="conv2d", streams=1, threads=2):
    return {"artefact": artefact, "backend": backend, "model": model, "size": size, "batch_size": batch,
            "status": "ok" if rate else "skipped", "showers_per_s": rate, "streams": streams,
            "threads_per_stream": threads}


def test_speedup_table_ratios_and_skipped_rows():
    sweep = [_record("a/lite/tf-graph-fp32", "tf-graph-fp32", "lite", 128, 100.0),
             _record("a/lite/inc-int8", "inc-int8", "lite", 128, None),
             _record("a/lite/onnx-fp32", "onnx-fp32", "lite", 128, 50.0),
             _record("a/lite/onnx-int8", "onnx-int8", "lite", 128, 75.0),
             _record("a/lite/onnx-int8-tuned", "onnx-int8", "lite", 128, 60.0),
             _record("a/paper/tf-graph-fp32", "tf-graph-fp32", "paper", 16, 30.0),
             _record("a/c3/tf-graph-fp32", "tf-graph-fp32", "paper", 16, 10.0, model="conv3d")]
    streams = [_record("a/lite/tf-graph-fp32", "tf-graph-fp32", "lite", b, r, streams=n, threads=m)
               for b, r, n, m in [(1, 100.0, 1, 2), (1, 190.0, 2, 1), (128, 400.0, 1, 2), (128, 440.0, 2, 1)]]
    rows = {(r["claim"], r["setting"]): r for r in
            speedups.speedup_table(sweep, streams, mc_rate=220.0, geant4_rate=2.0, conv3d="a/c3/tf-graph-fp32", cores=2)}
    assert rows[("Conv2D vs Conv3D generator, FP32", "paper size, batch 16")]["ours"] == pytest.approx(3.0)
    assert rows[("INC INT8, all ops vs FP32 graph", "lite, batch 128")]["ours"] is None
    assert ("INC INT8 searched against the gate vs FP32 graph", "lite, batch 128") not in rows  # no such artefact
    assert rows[("ONNX Runtime INT8 searched against the gate vs FP32", "lite, batch 128")]["ours"] == pytest.approx(1.2)
    assert rows[("ONNX Runtime INT8 vs FP32", "lite, batch 128")]["ours"] == pytest.approx(1.5)
    assert rows[("2 streams vs 1 stream", "lite FP32, batch 1")]["ours"] == pytest.approx(1.9)
    assert rows[("2 streams vs 1 stream", "lite FP32, batch 128")]["ours"] == pytest.approx(1.1)
    assert rows[("GAN vs our Monte Carlo", "best GAN run, 2 cores")]["ours"] == pytest.approx(2.0)


def test_speedup_rows_say_when_the_layers_outside_int8_run_in_bf16(tmp_path):
    import json

    for name, settings in (("openvino-fp32", {}), ("openvino-int8-tuned", {"float_precision": "bf16"}),
                           ("tf-graph-fp32", {})):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps({"settings": settings}))
    sweep = [_record(str(tmp_path / b), b, "lite", 128, r) for b, r in
             (("tf-graph-fp32", 100.0), ("openvino-fp32", 120.0), ("openvino-int8-tuned", 300.0))]
    streams = [_record(str(tmp_path / "tf-graph-fp32"), "tf-graph-fp32", "lite", 128, 100.0)]
    table = [r for r in speedups.speedup_table(sweep, streams, mc_rate=1.0, geant4_rate=1.0, conv3d="none", cores=1)
             if r.get("numerator")]
    tuned = next(r for r in table if r["numerator"] == "openvino-int8-tuned")
    assert tuned["claim"] == "OpenVINO INT8 searched against the gate (layers outside INT8 in BF16) vs TF FP32 graph"
    assert tuned["ours"] == pytest.approx(3.0)
    assert "BF16" not in next(r for r in table if r["numerator"] == "openvino-fp32")["claim"]


def test_speedup_rows_carry_the_search_gate_verdict_of_the_numerator(tmp_path):
    import json

    manifests = {"tf-graph-fp32": {}, "inc-int8-tuned": {"gate": {"passed": True}},
                 "openvino-int8-tuned": {"gate": {"passed": False, "first_failure": "hits failed in 2-20 GeV"}}}
    for name, manifest in manifests.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps(manifest))
    sweep = [_record(str(tmp_path / b), b, "lite", 64, 100.0) for b in manifests]
    streams = [_record(str(tmp_path / "tf-graph-fp32"), "tf-graph-fp32", "lite", 64, 100.0)]
    gates = {r["numerator"]: r["gate"] for r in
             speedups.speedup_table(sweep, streams, mc_rate=1.0, geant4_rate=1.0, conv3d="none", cores=1) if r.get("numerator")}
    assert gates == {"inc-int8-tuned": "passed", "openvino-int8-tuned": "failed: hits failed in 2-20 GeV"}
    assert speedups.search_gate(tmp_path / "tf-graph-fp32") == ""
