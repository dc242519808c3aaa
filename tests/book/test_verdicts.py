"""Chapter 5's verdict text and the oneDNN ISA sentences: built from the numbers only, one
branch per outcome."""

from __future__ import annotations

from dataclasses import dataclass

from gan3d_lib.precision import isa_check
from gan3d_lib.book.verdicts import conclusion_text, gate_verdicts


@dataclass
class Result:
    passed: bool
    first_failure: str | None
    worst: tuple[str, str]
    worst_ratio: float


def _cmp(fpd):
    return {"bins": {"all": {"fpd": fpd, "fpd_err": 0.01, "auc_low": 0.9, "auc_low_err": 0.01, "auc_high": 0.8,
                             "auc_high_err": 0.01}}}


def test_verdicts_follow_the_gate_and_compare_with_chapter_3():
    gates = {"bad": Result(False, "sampling_fraction failed in 2-20 GeV: mean sampling fraction +5.0 % from FP32",
                           ("sampling_fraction", "2-20 GeV"), 5.0),
             "good": Result(True, None, ("hits", "20-100 GeV"), 0.4)}
    vs_mc = {"keras-fp32": _cmp(1.0), "bad": _cmp(1.5), "good": _cmp(1.0)}
    v = gate_verdicts(gates, vs_mc, _cmp(0.2), chapter3={"bad": {"passed": False}, "good": {"passed": False}})
    assert v["bad"]["loses_physics"] and not v["good"]["loses_physics"]
    assert v["bad"]["fpd_share_of_gap"] == 0.5 / 0.8
    assert v["bad"]["agrees_with_chapter3"] and not v["good"]["agrees_with_chapter3"]
    text = conclusion_text(v, vs_mc["keras-fp32"]["bins"]["all"], _cmp(0.2)["bins"]["all"], skipped={"inc": "x"})
    assert "**bad** fails the physics gate against FP32: sampling_fraction failed" in text
    assert "Pass the physics gate against FP32 in every energy bin: good" in text
    assert "different verdict for good" in text and "Not run on this CPU, so not validated: inc." in text


def test_isa_sentences_have_one_branch_per_outcome():
    def rows(default, capped):
        return [{"artefact": "a/x", "isa": "default", "energy_ratio": default, "showers_per_s": 200.0},
                {"artefact": "a/x", "isa": "AVX512_CORE_FP16", "energy_ratio": capped, "showers_per_s": 100.0}]

    assert "only the capped run agrees" in isa_check.describe(rows(4.5, 1.001))
    assert "both agree" in isa_check.describe(rows(1.002, 0.999))
    assert "neither agrees" in isa_check.describe(rows(1.5, 0.5))
    assert "only the uncapped run agrees" in isa_check.describe(rows(1.0, 0.5))
    assert "2.00x the capped throughput" in isa_check.describe(rows(1.0, 1.0))
