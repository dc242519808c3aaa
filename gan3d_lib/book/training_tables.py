"""Chapter 2's tables from training records: the recipe's components, the ablation (``gan3d ablate``'s
evaluation.json files) and the history of runs (their config.json and history.json)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..core.tables import markdown_table, plus_minus

__all__ = ["ablation_rows", "ablation_table", "ablation_text", "generator_comparison_rows", "generator_comparison_table",
           "generator_comparison_text", "recipe_rows", "run_history_rows", "run_history_table"]

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
    reference's change under another seed); a change in goals met when by more than one goal
    (a goal near its limit flips by chance) and more than the replica's."""
    if reference not in records:
        raise KeyError(f"no record of the reference arm {reference!r} (have {', '.join(records)})")
    ref = records[reference]
    noise = {key: abs(records[replica][key] - ref[key]) if replica in records else 0.0
             for key in ("goals_met", *(m for m, _, _ in _MEASURES))}
    rows = []
    for arm, rec in records.items():
        change = rec["goals_met"] - ref["goals_met"]
        row = {"arm": arm, "what": rec["what"], "goals": f"{rec['goals_met']}/{rec['goals_total']}",
               "goals_change": change, "goals_significant": abs(change) > max(1, noise["goals_met"])}
        for key, err, _ in _MEASURES:
            row[key] = plus_minus(rec[key], rec[err])
            row[f"{key}_shift"] = _shift(rec, ref, key, err, 0.0 if arm in (reference, replica) else noise[key])
        rows.append(row)
    return rows


def ablation_table(rows: list[dict]) -> str:
    """The Markdown table of :func:`ablation_rows` (a * marks a significant change)."""
    shown = []
    for r in rows:
        cells = {"arm": r["arm"], "what": r["what"], "goals": r["goals"] + ("*" if r["goals_significant"] else "")}
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
        n = abs(r["goals_change"])
        if r["goals_significant"] and r["goals_change"] < 0:
            up.insert(0, f"{n} goals fewer met")
        elif r["goals_significant"]:
            down.insert(0, f"{n} goals more met")
        if up:
            worse.append(f"{r['what']} ({', '.join(up)})")
        if down:
            better.append(f"{r['what']} ({', '.join(down)})")
        if not up and not down:
            flat.append(r["what"])
    out = []
    if worse:
        out.append("Without " + "; without ".join(worse) + ", the generator got worse (more than one goal, or a "
                   "measure beyond twice its error).")
    if better:
        out.append("Without " + "; without ".join(better) + ", it got better.")
    if flat:
        out.append("Without " + ", ".join(flat) + ", nothing changed beyond the noise: at this budget these runs do "
                   "not show what the component buys.")
    return " ".join(out)


#: settings a run's row does not list as changes: where it started and its seed are in other columns
_NOT_CHANGES = ("init_generator", "init_discriminator", "seed", "epochs")


def _settings(folder: Path) -> dict[str, Any] | None:
    from ..training.train_config import RETIRED_SETTINGS, config_defaults

    path = folder / "config.json"
    return {**config_defaults(), **RETIRED_SETTINGS, **json.loads(path.read_text())} if path.exists() else None


def _value(v: Any) -> str:
    return ",".join(map(str, v)) if isinstance(v, list) else f"{v:g}" if isinstance(v, float) else str(v)


def run_history_rows(folders: Sequence[str | Path], shipped: Sequence[str | Path]) -> list[dict]:
    """One row per training folder (its ``config.json`` and ``history.json``): name, the folder it
    started from, the settings it changed from that folder's run ('setting=value', retired ones
    included; '?' where the starting folder's record is gone), epochs, hours trained, and whether
    it is a ``shipped`` stage or an experiment."""
    shipped_names = {Path(p).name for p in shipped}
    rows = []
    for folder in map(Path, folders):
        mine = _settings(folder)
        history = json.loads((folder / "history.json").read_text())["history"]
        init = mine.get("init_generator")
        base = _settings(Path(init)) if init else None
        if not init:
            changes = "(from scratch)"
        elif base is None:
            changes = "?"
        else:
            changes = ", ".join(f"{k}={_value(v)}" for k, v in mine.items()
                                if k not in _NOT_CHANGES and base.get(k) != v) or "(none)"
        rows.append({"run": folder.name, "started_from": Path(init).name if init else "–", "changes": changes,
                     "epochs": len(history), "hours": sum(h["seconds"] for h in history) / 3600,
                     "kind": "shipped stage" if folder.name in shipped_names else "experiment"})
    return rows


def run_history_table(rows: list[dict]) -> str:
    """The Markdown table of :func:`run_history_rows`."""
    return markdown_table(rows, {"run": "run", "kind": "kind", "started_from": "started from",
                                 "changes": "settings changed from it", "epochs": "epochs", "hours": "hours"},
                          {"hours": ".2f"})


def recipe_rows(settings: Mapping[str, Any]) -> list[dict]:
    """The components a run's settings switch on, one row each: the setting, its value and what it
    does (TrainConfig's help): every loss weight above 0, every head, D's view of the cells when
    not linear, the latent convention, training as deployed, the heads trained alone."""
    from dataclasses import fields

    from ..training.train_config import TrainConfig

    helps = {f.name: f.metadata["help"] for f in fields(TrainConfig)}
    on = [k for k, v in settings.items() if (k.startswith("weight_") and v > 0) or (k.endswith("_head") and v is True)
          or (k == "cell_power" and v != 1.0) or k == "latent_norm" or (k == "generator_as_deployed" and v)
          or (k == "train_only_heads" and v)]
    return [{"setting": k, "value": _value(settings[k]), "what": helps[k]} for k in on]


def generator_comparison_rows(evaluations: Mapping[str, Mapping[str, Any]]) -> list[dict]:
    """One row per generator (``{label: training.ablation.evaluate_at_latent_seeds(...)}``): goals met
    at each latent seed ('16 / 15 / 16') of ``goals_total``, FPD and both classifier AUCs, each ± its bootstrap error."""
    rows = []
    for label, e in evaluations.items():
        by_seed = e["goals_by_latent_seed"]
        rows.append({"generator": label, "seeds": " / ".join(by_seed),
                     "goals": " / ".join(str(g["met"]) for g in by_seed.values()), "goals_total": _goals_total(e),
                     "missed": "; ".join(sorted({m for g in by_seed.values() for m in g["missed"]})) or "–",
                     **{k: plus_minus(e[k], e[f"{k}_err"]) for k, _, _ in _MEASURES}})
    return rows


def _goals_total(evaluation: Mapping[str, Any]) -> int:
    """The goals an evaluation judged at each latent seed: those met and those missed."""
    first = next(iter(evaluation["goals_by_latent_seed"].values()))
    return first["met"] + len(first["missed"])


def generator_comparison_table(rows: list[dict]) -> str:
    """The Markdown table of :func:`generator_comparison_rows`."""
    totals = "/".join(sorted({str(r["goals_total"]) for r in rows}))
    return markdown_table(rows, {"generator": "generator", "seeds": "latent seeds", "goals": f"goals met (of {totals})",
                                 "missed": "missed at any seed", "fpd": "FPD", "auc_high": "AUC high",
                                 "auc_low": "AUC low"})


def generator_comparison_text(candidate: Mapping[str, Any], shipped: Mapping[str, Any], *, candidate_label: str,
                              shipped_label: str) -> str:
    """Sentences comparing two evaluations: per measure, lower, higher or within twice the combined
    bootstrap error; the goals met at every latent seed."""
    out = []
    for key, err, _ in _MEASURES:
        s = _shift(candidate, shipped, key, err, 0.0)
        what = (f"{_NAMES[key]} {candidate[key]:.4g} against {shipped[key]:.4g} ({s['delta']:+.3g}, twice the combined "
                f"error {2 * s['sigma']:.2g})")
        if not s["significant"]:
            out.append(f"The {what}: the same within the errors.")
        elif s["delta"] < 0:
            out.append(f"The {what}: lower for {candidate_label}.")
        else:
            out.append(f"The {what}: higher for {candidate_label}.")
    for label, e in ((candidate_label, candidate), (shipped_label, shipped)):
        met = [g["met"] for g in e["goals_by_latent_seed"].values()]
        total = _goals_total(e)
        label = label[:1].upper() + label[1:]  # it opens a sentence
        out.append(f"{label} meets {min(met)} to {max(met)} of {total} goals over the {len(met)} latent seeds."
                   if min(met) != max(met) else
                   f"{label} meets {met[0]} of {total} goals at each of the {len(met)} latent seeds.")
    return " ".join(out)
