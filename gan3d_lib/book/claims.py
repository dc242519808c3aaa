"""The study's quoted figures, with their source, and verdicts computed from this book's
results files (``results/03_quantization.json``, ``04_inference.json``, ``05_validation.json``).

Sources (``shared/seeds``): the CERN openlab Technical Workshop 2021 slides *Reduced Precision
Strategies for Deep Learning: 3DGAN Use Case* (cited by slide title), the Intel case study
(cited by figure) and the ICPRAM 2021 abstract. All were measured on an Intel Xeon Platinum
8280 (2 x 28 cores) with the CERN Geant4 data set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from ..precision.backends import INC_INT8, KERAS_FP32, tuned

__all__ = ["Claim", "STUDY_CLAIMS", "SPEED_TOLERANCE", "claim", "claim_verdicts"]

#: A ratio claim counts as reproduced when the measured ratio reaches this share of it.
SPEED_TOLERANCE = 0.85
SLIDES = "CERN openlab Technical Workshop 2021 slides"
CASE_STUDY = "Intel case study (HPC, CERN openlab 3DGAN)"
ICPRAM = "ICPRAM 2021 abstract"


@dataclass(frozen=True)
class Claim:
    """One quoted figure: ``value`` in ``unit`` ('x' for ratios), where it is written."""

    key: str
    quantity: str
    value: float
    unit: str
    source: str
    where: str


STUDY_CLAIMS: tuple[Claim, ...] = (
    Claim("conv2d_vs_conv3d", "Conv3D -> Conv2D generator speed-up (FP32)", 2.1, "x", SLIDES,
          "slide 'New Conv2D Generator Architecture'; summary slide"),
    Claim("int8_speedup", "INT8 (Intel tuner) speed-up over FP32", 1.8, "x", SLIDES,
          "slide 'Computational Evaluation'; case study Figure 2 (1.8x); ICPRAM abstract (1.73x)"),
    Claim("int8_no_physics_loss", "tuned INT8 keeps the physics", 1.0, "passes", CASE_STUDY,
          "Figure 2 text: 'slightly improved accuracy' (MSE 0.05324 vs 0.061227)"),
    Claim("int8_mse_ratio", "shower-shape MSE, tuned INT8 / FP32", 0.053 / 0.061, "ratio", SLIDES,
          "slide 'Physics Evaluation: Shower Shapes' (0.053 / 0.061)"),
    Claim("memory_reduction", "model memory FP32 / INT8", 8.08 / 3.57, "x", SLIDES,
          "slide 'Computational Evaluation' (8.08 MB -> 3.57 MB = 2.26x; 2.24x on the summary slide)"),
    Claim("multi_stream", "multi-stream over single-stream inference", 2.2, "x", CASE_STUDY, "Figure 3"),
    Claim("gan_vs_geant4_fp32", "GAN (FP32) speed-up over Geant4", 38000, "x", SLIDES, "slide 'Computational Evaluation'"),
    Claim("gan_vs_geant4_int8", "GAN (INT8) speed-up over Geant4", 68000, "x", SLIDES,
          "slide 'Computational Evaluation'; summary slide"),
)


def claim(key: str) -> Claim:
    """The :class:`Claim` with this key."""
    for c in STUDY_CLAIMS:
        if c.key == key:
            return c
    raise KeyError(f"no study claim {key!r}; known: {[c.key for c in STUDY_CLAIMS]}")


def _speed_row(speedups: list[dict], label: str, size: str | None = None) -> dict | None:
    rows = [r for r in speedups if r["claim"] == label and r.get("ours") is not None
            and (size is None or r["setting"].startswith(size))]
    return max(rows, key=lambda r: r["ours"]) if rows else None


def _ratio_verdict(measured: float, claimed: float, *, higher_is_better: bool = True) -> str:
    share = measured / claimed if higher_is_better else claimed / measured
    if share >= SPEED_TOLERANCE:
        return "reproduced" if share < 1 / SPEED_TOLERANCE else "reproduced (exceeded)"
    return f"not reproduced ({share:.2f} of the claim)"


def claim_verdicts(ch3: Mapping | None, ch4: Mapping | None, ch5: Mapping | None) -> list[dict]:
    """One row per :data:`STUDY_CLAIMS` entry: the claim with its source, the measured value,
    the setting it was measured in, the CPU and a verdict ('reproduced', 'not reproduced (...)'
    or 'not measurable on this CPU: ...'). ``ch3``/``ch4``/``ch5``: the ``results/*.json``
    documents (None where the chapter has not run)."""
    n3 = (ch3 or {}).get("numbers", {})
    n4 = (ch4 or {}).get("numbers", {})
    n5 = (ch5 or {}).get("numbers", {})
    machine = (ch4 or ch3 or ch5 or {}).get("machine", {})
    cpu = machine.get("cpu_model", "unknown CPU")
    flags = ", ".join(f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx") if machine.get(f))
    speedups = n4.get("speedups", [])
    gate_tuned = n3.get("gate_tuned", {})
    rows = []

    NOT_SEARCHED = f"not measured in this run: chapter 3 did not search {INC_INT8} (its search_backends parameter)"

    def add(c: Claim, measured, setting: str, verdict: str) -> None:
        rows.append({**asdict(c), "measured": measured, "setting": setting, "cpu": f"{cpu} ({flags})", "verdict": verdict})

    def missing(chapter: str) -> str:
        return f"not measured: chapter {chapter} has no results on this machine"

    for c in STUDY_CLAIMS:
        if c.key == "conv2d_vs_conv3d":
            r = _speed_row(speedups, "Conv2D vs Conv3D generator, FP32")
            add(c, r and r["ours"], r["setting"] if r else "", _ratio_verdict(r["ours"], c.value) if r else missing("4"))
        elif c.key == "int8_speedup":
            r = _speed_row(speedups, "INC INT8 searched against the gate vs FP32 graph", "paper")
            skipped = n3.get("search_skipped", {}).get(INC_INT8) or n3.get("gate_skipped", {}).get(INC_INT8)
            if skipped:
                add(c, None, "", f"not measurable on this CPU: {skipped}")
            elif n3 and INC_INT8 not in n3.get("search", {}):
                add(c, None, "", NOT_SEARCHED)
            elif r is None:
                add(c, None, "", missing("4"))
            elif not gate_tuned.get(tuned(INC_INT8), {}).get("passed", False):
                add(c, r["ours"], r["setting"], "not reproduced: no INC INT8 configuration the search tried passed the "
                    f"physics gate (the fastest, timed here, runs at {r['ours']:.2f}x but fails it)")
            else:
                add(c, r["ours"], r["setting"], _ratio_verdict(r["ours"], c.value))
        elif c.key == "int8_no_physics_loss":
            verdicts = n5.get("verdicts", {})
            searched = {k: v for k, v in verdicts.items() if k.endswith("-tuned")}
            if not searched:
                add(c, None, "", missing("5") if not n5 else "not measured: no tuned INT8 artefact was made")
            else:
                passing = sorted(k for k, v in searched.items() if not v["loses_physics"])
                add(c, len(passing), f"{len(passing)} of {len(searched)} tuned INT8 artefacts pass the gate",
                    "reproduced by " + ", ".join(passing) if passing else
                    "not reproduced: every tuned INT8 artefact fails the physics gate")
        elif c.key == "int8_mse_ratio":
            mse = {r["key"]: r for r in n3.get("mse_table", [])}
            row = mse.get(tuned(INC_INT8))
            if row is None:
                add(c, None, "", missing("3"))
            elif row["ratio"] is None:
                add(c, None, "", NOT_SEARCHED if INC_INT8 not in n3.get("search", {}) else f"not measured: {row['note']}")
            else:
                measured = row["ratio"]
                add(c, measured, "lite generator, INC INT8 searched / Keras FP32",
                    "reproduced (INT8 MSE not above FP32's)" if measured <= 1.0
                    else f"not reproduced (INT8 MSE {measured:.3g}x FP32's)")
        elif c.key == "memory_reduction":
            sizes = {r["backend"]: r for r in n3.get("sizes", [])}
            if INC_INT8 not in sizes:
                add(c, None, "", missing("3"))
            else:
                measured = sizes[INC_INT8]["paper_ratio"]
                add(c, measured, f"paper size, Keras FP32 {sizes[KERAS_FP32]['paper_kb'] / 1e3:.2f} MB / INC INT8 "
                    f"{sizes[INC_INT8]['paper_kb'] / 1e3:.2f} MB", _ratio_verdict(measured, c.value))
        elif c.key == "multi_stream":
            stream_rows = [s for s in speedups if s.get("key") == "streams" and s.get("ours") is not None]
            r = stream_rows[-1] if stream_rows else None  # the last row is at the single stream's best batch
            if r is not None:
                add(c, r["ours"], r["setting"], _ratio_verdict(r["ours"], c.value))
            elif (machine.get("usable_cores") or 1) < 2:
                add(c, None, "", "not measurable on this CPU: several streams need at least 2 cores")
            else:
                add(c, None, "", missing("4"))
        elif c.key.startswith("gan_vs_geant4"):
            r = _speed_row(speedups, "GAN vs Geant4 (external reference CPU time)")
            if r is None:
                add(c, None, "", missing("4"))
                continue
            cores = machine.get("usable_cores") or 1
            measured, how = r["ours"], f"{r['setting']} (FP32)"
            if c.key.endswith("int8"):
                gated = [g for g in speedups if "searched against the gate" in g["claim"] and g.get("ours") is not None
                         and gate_tuned.get(g.get("numerator", ""), {}).get("passed")]
                if not gated:
                    add(c, None, "", "not reproduced: no INT8 artefact passes the physics gate on this machine")
                    continue
                paper = [g for g in gated if g["setting"].startswith("paper")]  # the study's model size
                best = max(paper or gated, key=lambda g: g["ours"])
                measured, how = measured * best["ours"], f"{how} x {best['claim']} ({best['setting']}: {best['ours']:.2f}x)"
            add(c, measured, f"{how}; per core {measured / cores:.0f}x; Geant4 CPU time from an external run on "
                "another CPU, so only the order of magnitude compares",
                "same order of magnitude" if 0.1 <= measured / c.value <= 10 else
                f"not reproduced ({measured / c.value:.2g} of the claim; an order-of-magnitude comparison)")
    return rows
