"""The study's claims and their verdicts, computed from synthetic results documents."""

from __future__ import annotations

import pytest

from gan3d_lib.book.claims import STUDY_CLAIMS, claim, claim_verdicts

MACHINE = {"cpu_model": "Test CPU", "usable_cores": 2, "avx2": True, "avx512_vnni": True}


def _docs(*, conv=2.0, inc=1.9, inc_passed=True, inc_skipped=None, inc_searched=True, streams=(1.4, 2.1)):
    speedups = [{"claim": "Conv2D vs Conv3D generator, FP32", "setting": "paper size, batch 128", "ours": conv},
                {"claim": "INC INT8 searched against the gate vs FP32 graph", "setting": "paper, batch 128", "ours": inc,
                 "numerator": "inc-int8-tuned"},
                {"claim": "INC INT8 searched against the gate vs FP32 graph", "setting": "lite, batch 128", "ours": 9.0,
                 "numerator": "inc-int8-tuned"},
                *({"key": "streams", "claim": "2 streams vs 1 stream", "setting": f"lite FP32, batch {b}", "ours": r}
                  for b, r in zip((1, 128), streams)),
                {"claim": "GAN vs Geant4 (external reference CPU time)", "setting": "best GAN run, 2 cores", "ours": 900.0}]
    ch3 = {"machine": MACHINE, "numbers": {
        "gate_tuned": {"inc-int8-tuned": {"passed": inc_passed}},
        "search_skipped": {"inc-int8": inc_skipped} if inc_skipped else {},
        "search": {"inc-int8": {}} if inc_searched and not inc_skipped else {},
        "mse_table": [{"key": "inc-int8-tuned", "ratio": 0.95 if inc_searched else None}],
        "sizes": [{"backend": "keras-fp32", "paper_kb": 8000.0},
                  {"backend": "inc-int8", "paper_kb": 2000.0, "paper_ratio": 4.0}]}}
    ch4 = {"machine": MACHINE, "numbers": {"speedups": speedups}}
    ch5 = {"machine": MACHINE, "numbers": {"verdicts": {"inc-int8-tuned": {"loses_physics": not inc_passed}}}}
    return ch3, ch4, ch5


def _by_key(rows):
    return {r["key"]: r for r in rows}


def test_every_claim_has_a_source_and_a_verdict_naming_the_cpu():
    rows = claim_verdicts(*_docs())
    assert [r["key"] for r in rows] == [c.key for c in STUDY_CLAIMS]
    assert all(r["source"] and r["where"] and r["verdict"] and "Test CPU" in r["cpu"] for r in rows)
    assert claim("int8_speedup").value == 1.8
    with pytest.raises(KeyError):
        claim("nope")


def test_verdict_branches_reproduced_short_and_not_measurable():
    rows = _by_key(claim_verdicts(*_docs()))
    assert rows["conv2d_vs_conv3d"]["verdict"] == "reproduced"  # 2.0 of 2.1 is above 85 %
    assert rows["int8_speedup"]["measured"] == 1.9  # the paper-size row, not the faster lite one
    assert rows["multi_stream"]["measured"] == 2.1  # the single stream's best batch (last row)
    assert rows["memory_reduction"]["verdict"] == "reproduced (exceeded)"
    assert rows["int8_no_physics_loss"]["verdict"].startswith("reproduced by inc-int8-tuned")
    short = _by_key(claim_verdicts(*_docs(conv=0.6)))["conv2d_vs_conv3d"]["verdict"]
    assert short == "not reproduced (0.29 of the claim)"
    failing = _by_key(claim_verdicts(*_docs(inc_passed=False)))
    assert "passed the physics gate" in failing["int8_speedup"]["verdict"]
    assert failing["int8_no_physics_loss"]["verdict"].startswith("not reproduced")
    assert failing["gan_vs_geant4_int8"]["measured"] is None
    skipped = _by_key(claim_verdicts(*_docs(inc_skipped="needs AVX-512")))["int8_speedup"]["verdict"]
    assert skipped == "not measurable on this CPU: needs AVX-512"
    not_searched = _by_key(claim_verdicts(*_docs(inc_searched=False)))
    for key in ("int8_speedup", "int8_mse_ratio"):
        assert not_searched[key]["measured"] is None and "did not search inc-int8" in not_searched[key]["verdict"]


def test_geant4_claims_are_order_of_magnitude_per_core_and_machine():
    rows = _by_key(claim_verdicts(*_docs()))
    fp32, int8 = rows["gan_vs_geant4_fp32"], rows["gan_vs_geant4_int8"]
    assert fp32["measured"] == 900.0 and "per core 450x" in fp32["setting"]
    assert int8["measured"] == pytest.approx(900.0 * 1.9)  # FP32 ratio times the gated INT8 speed-up
    assert fp32["verdict"].startswith("not reproduced (0.024 of the claim")


def test_missing_chapters_say_so():
    rows = claim_verdicts(None, None, None)
    assert all(r["verdict"].startswith("not measured") or "not measurable" in r["verdict"] for r in rows)
