"""Chapter 5's verdicts on reduced-precision artefacts and the text that states them.

A verdict is the physics gate's (:mod:`gan3d_lib.precision.gate`) against FP32; beside it, how far the
artefact moves the Fréchet physics distance to the Monte Carlo, as a share of the gap
between FP32 and the Monte Carlo floor. Sentences are built only from these numbers.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from ..core.tables import plus_minus
from ..precision.backends import KERAS_FP32

__all__ = ["gate_verdicts", "conclusion_text"]


def _share_of_gap(value: float | None, fp32: float | None, floor: float | None) -> float | None:
    if value is None or fp32 is None or floor is None or fp32 == floor:
        return None
    return (value - fp32) / (fp32 - floor)


def gate_verdicts(gate_results: Mapping, against_mc: Mapping[str, dict], floor_mc: dict, *,
                  chapter3: Mapping[str, dict] | None = None) -> dict[str, dict]:
    """{artefact: {'loses_physics', 'first_failure', 'worst_condition', 'worst_bin', 'worst_ratio',
    'fpd_share_of_gap' (None where undefined), 'chapter3_passed', 'agrees_with_chapter3'}} for
    the gate results ``gate_results`` ({name: GateResult}); ``against_mc``: chapter 5's
    comparisons with the Monte Carlo (``KERAS_FP32`` among them), ``floor_mc`` the MC-vs-MC one;
    ``chapter3``: chapter 3's recorded gate results by artefact name (``GateResult.to_dict``)."""
    fp32_fpd = against_mc[KERAS_FP32]["bins"]["all"]["fpd"]
    floor_fpd = floor_mc["bins"]["all"]["fpd"]
    out = {}
    for name, r in gate_results.items():
        theirs = (chapter3 or {}).get(name)
        mine = against_mc.get(name, {}).get("bins", {}).get("all", {}).get("fpd")
        out[name] = {"loses_physics": not r.passed, "first_failure": r.first_failure, "worst_condition": r.worst[0],
                     "worst_bin": r.worst[1], "worst_ratio": r.worst_ratio,
                     "fpd_share_of_gap": _share_of_gap(mine, fp32_fpd, floor_fpd),
                     "chapter3_passed": None if theirs is None else bool(theirs["passed"]),
                     "agrees_with_chapter3": None if theirs is None else bool(theirs["passed"]) == r.passed}
    return out


def conclusion_text(verdicts: Mapping[str, dict], fp32_vs_mc: dict, mc_floor: dict, *,
                    same_as: Mapping[str, str] | None = None, skipped: Mapping[str, str] | None = None) -> str:
    """Paragraphs stating the verdicts: the FP32-vs-Monte Carlo scale, each failing artefact
    with its first failed condition, the passing ones, agreement with chapter 3, artefacts with
    identical showers and those not run. ``fp32_vs_mc`` and ``mc_floor``: the 'all' bins of
    chapter 5's comparisons."""
    fm, fa = fp32_vs_mc, mc_floor
    lines = [f"The FP32 generator against the Monte Carlo reads AUC {plus_minus(fm['auc_low'], fm['auc_low_err'])} (low "
             f"level) and {plus_minus(fm['auc_high'], fm['auc_high_err'])} (high level) and FPD "
             f"{plus_minus(fm['fpd'], fm['fpd_err'], '.3g')}; two Monte Carlo samples read "
             f"{plus_minus(fa['auc_low'], fa['auc_low_err'])}, {plus_minus(fa['auc_high'], fa['auc_high_err'])} and FPD "
             f"{plus_minus(fa['fpd'], fa['fpd_err'], '.3g')}."]
    lost = {k: v for k, v in verdicts.items() if v["loses_physics"]}
    kept = {k: v for k, v in verdicts.items() if not v["loses_physics"]}

    def share(v: dict) -> str | None:
        s = v["fpd_share_of_gap"]
        return None if s is None or not np.isfinite(s) else \
            f"against the Monte Carlo it moves FPD by {100 * s:+.2g} % of the FP32-to-Monte Carlo gap"

    for k, v in lost.items():
        lines.append(f"**{k}** fails the physics gate against FP32: {v['first_failure']}"
                     + (f"; {share(v)}." if share(v) else "."))
    if kept:
        lines.append("Pass the physics gate against FP32 in every energy bin: "
                     + ", ".join(k + (f" ({share(v)})" if share(v) else "") for k, v in kept.items()) + ".")
    judged = {k: v for k, v in verdicts.items() if v["agrees_with_chapter3"] is not None}
    disagree = [k for k, v in judged.items() if not v["agrees_with_chapter3"]]
    if judged and not disagree:
        lines.append(f"Chapter 3's gate reached the same verdict for all {len(judged)} artefacts it judged.")
    elif disagree:
        lines.append("Chapter 3's gate reached a different verdict for " + ", ".join(disagree) + ".")
    for k, j in (same_as or {}).items():
        if j != k:
            lines.append(f"{k} produces the same showers as {j}, bit for bit, so shares its numbers.")
    if skipped:
        lines.append("Not run on this CPU, so not validated: " + ", ".join(skipped) + ".")
    return "\n\n".join(lines)
