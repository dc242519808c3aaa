"""Chapter 2's tables from training records: the ablation (``gan3d ablate``'s evaluation.json files)."""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..core.tables import markdown_table, plus_minus

__all__ = ["ablation_rows", "ablation_table", "ablation_text"]

#: (measure, its error, better when) of each ablation column
_MEASURES = (("fpd", "fpd_err", "lower"), ("auc_high", "auc_high_err", "lower"), ("auc_low", "auc_low_err", "lower"))
_NAMES = {"fpd": "FPD", "auc_high": "high-level AUC", "auc_low": "low-level AUC"}


def _shift(arm: Mapping[str, Any], reference: Mapping[str, Any], key: str, err: str, noise: float) -> dict:
    """The arm's change from the reference in ``key`` and whether it exceeds twice the combined error:
    the bootstrap errors of both and the reference's run-to-run spread ``noise``."""
    delta = arm[key] - reference[key]
    sigma = math.sqrt((arm[err] or 0.0) ** 2 + (reference[err] or 0.0) ** 2 + noise ** 2)
    return {"delta": delta, "sigma": sigma, "significant": abs(delta) > 2 * sigma}


def ablation_rows(records: Mapping[str, Mapping[str, Any]], *, reference: str = "reference",
                  replica: str | None = "reference_seed42") -> list[dict]:
    """One row per arm: what it goes without, goals met, FPD and both AUCs (each ± its bootstrap
    error) and their changes from the ``reference`` arm, each marked significant when beyond twice
    the combined error (both bootstrap errors and, if the ``replica`` arm is recorded, the
    reference's change under another seed)."""
    if reference not in records:
        raise KeyError(f"no record of the reference arm {reference!r} (have {', '.join(records)})")
    ref = records[reference]
    noise = {key: abs(records[replica][key] - ref[key]) if replica in records else 0.0 for key, _, _ in _MEASURES}
    rows = []
    for arm, rec in records.items():
        row = {"arm": arm, "what": rec["what"], "goals": f"{rec['goals_met']}/{rec['goals_total']}",
               "goals_change": rec["goals_met"] - ref["goals_met"]}
        for key, err, _ in _MEASURES:
            row[key] = plus_minus(rec[key], rec[err])
            row[f"{key}_shift"] = _shift(rec, ref, key, err, 0.0 if arm in (reference, replica) else noise[key])
        rows.append(row)
    return rows


def ablation_table(rows: list[dict]) -> str:
    """The Markdown table of :func:`ablation_rows` (a * marks a change beyond twice its error)."""
    shown = []
    for r in rows:
        cells = {"arm": r["arm"], "what": r["what"], "goals": r["goals"]}
        for key, _, _ in _MEASURES:
            s = r[f"{key}_shift"]
            cells[key] = r[key] + (f" ({s['delta']:+.3f}{'*' if s['significant'] else ''})" if r["arm"] != "reference"
                                   else "")
        shown.append(cells)
    return markdown_table(shown, {"arm": "arm", "what": "without", "goals": "goals met", "fpd": "FPD",
                                  "auc_high": "AUC high", "auc_low": "AUC low"})


def ablation_text(rows: list[dict], *, reference: str = "reference") -> str:
    """Sentences on what each component buys: the arms whose goals or measures got worse without it
    (beyond twice the error), those that got better, and that the rest stayed within the noise."""
    worse, better, flat = [], [], []
    for r in rows:
        if r["arm"] == reference or r["arm"].startswith(reference):
            continue
        up = [_NAMES[k] for k, _, _ in _MEASURES if r[f"{k}_shift"]["significant"] and r[f"{k}_shift"]["delta"] > 0]
        down = [_NAMES[k] for k, _, _ in _MEASURES if r[f"{k}_shift"]["significant"] and r[f"{k}_shift"]["delta"] < 0]
        if r["goals_change"] < 0:
            up.insert(0, f"{-r['goals_change']} goal(s) fewer")
        elif r["goals_change"] > 0:
            down.insert(0, f"{r['goals_change']} goal(s) more")
        if up:
            worse.append(f"{r['what']} ({', '.join(up)})")
        if down:
            better.append(f"{r['what']} ({', '.join(down)})")
        if not up and not down:
            flat.append(r["what"])
    out = []
    if worse:
        out.append("Without " + "; without ".join(worse) + ", the generator got worse (goals met, or a measure beyond "
                   "twice its error).")
    if better:
        out.append("Without " + "; without ".join(better) + ", it got better.")
    if flat:
        out.append("Without " + ", ".join(flat) + ", nothing changed beyond the noise: at this budget these runs do "
                   "not show what the component buys.")
    return " ".join(out)
