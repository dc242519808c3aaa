"""Chapters 1, 2 and 5's rows and sentences about showers: the facts' goals in words, the
latent-conditioning rows, and sentences on spreads, classifier AUCs and single features. The
numbers come from :mod:`gan3d_lib.physics.shower_facts`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..core.tables import markdown_table
from ..physics import observables as obs
from ..validation.auc_breakdown import FEATURE_GROUPS
from ..physics.shower_facts import CLASSIFIER_AUC_GOAL, FACTS, resolution_rows

__all__ = ["goal_display_rows", "goal_table", "goal_summary", "latent_conditioning_rows", "classifier_goal_text",
           "spread_ratio_text", "single_feature_text",
           "breakdown_text"]


def _deviation_text(row: Mapping) -> str:
    dev = row["deviation"]
    return {"factor": f"{dev:.2f}x", "relative": f"{100 * dev:+.1f} %"}.get(row["kind"], f"{dev:+.3f}")


def _goal_text(row: Mapping) -> str:
    tol = row["goal"]
    return "within " + {"factor": f"{tol:g}x", "relative": f"{100 * tol:.0f} %"}.get(row["kind"], f"{tol:.2f}")


def _where(row: Mapping) -> str:
    return f"at {row['energy_gev']:.0f} GeV" if "energy_gev" in row else f"in {row['key']}"


def goal_display_rows(rows: Sequence[Mapping]) -> list[dict]:
    """Rows of :func:`goal_rows` (or ``mc_tuning.residual_table``) for a table: the fact in
    words (:data:`FACTS`), deviation and goal as the goal states them, 'yes' or '**no**'."""
    labels = dict(FACTS)
    return [{**r, "fact": labels.get(r["fact"], r["fact"]), "deviation": _deviation_text(r), "goal": _goal_text(r),
             "met": "yes" if r["met"] else "**no**"} for r in rows]


def goal_table(rows: Sequence[Mapping], sample: str = "GAN") -> str:
    """The Markdown table of :func:`goal_rows`, the generated sample's column headed ``sample``."""
    return markdown_table(goal_display_rows(rows),
                          {"key": "E_p bin", "fact": "fact", "sample": sample, "reference": "Monte Carlo",
                           "deviation": "GAN vs MC", "goal": "goal", "met": "met"},
                          {"sample": ".4g", "reference": ".4g"})


def goal_summary(rows: Sequence[Mapping]) -> str:
    """'n of m goals are met.' and each missed goal: fact, where, deviation."""
    labels = dict(FACTS)
    missed = [r for r in rows if not r["met"]]
    text = f"{len(rows) - len(missed)} of {len(rows)} goals are met. "
    if not missed:
        return text + "None is missed."
    return text + "Missed: " + "; ".join(f"{labels.get(r['fact'], r['fact'])} {_where(r)} ({_deviation_text(r)})"
                                         for r in missed) + "."


def latent_conditioning_rows(reference: np.ndarray, sphere: np.ndarray, normal: np.ndarray, energies_gev: np.ndarray, *,
                             seed: int) -> list[dict]:
    """Per primary-energy bin: the SF rms / mean of the ``reference`` showers and of one
    generator's showers for the same energies from 'sphere' latents (``sphere``) and from the
    study's 'normal' ones (``normal``), both drawn with latent ``seed``, and the relative spread
    of E_p that the 'normal' latents' length carries (``models.latent_energy_gev``)."""
    from ..models.models import latent_energy_gev, latent_vectors

    energies = np.asarray(energies_gev, np.float64)
    carried = latent_energy_gev(latent_vectors(energies, seed=seed, norm="normal")) / energies
    which = obs.energy_bin_index(energies, obs.DEFAULT_ENERGY_BINS_GEV)
    spread = {label: float(np.std(carried[which == b]))
              for b, label in enumerate(obs.energy_bin_labels(obs.DEFAULT_ENERGY_BINS_GEV)) if (which == b).any()}
    return [{**row, "latent_energy_spread": spread[row["key"]]}
            for row in resolution_rows(reference, {"sphere": sphere, "normal": normal}, energies)]


def classifier_goal_text(auc_low: float, auc_high: float, goal: float = CLASSIFIER_AUC_GOAL) -> str:
    """A sentence on the high-level classifier AUC against its goal (below ``goal``), with the
    low-level AUC beside it."""
    head = f"The high-level classifier AUC is {auc_high:.3f} (goal: below {goal:g}; low level {auc_low:.3f}): "
    if auc_high < goal:
        return head + "the goal is met."
    return head + f"the goal is missed by {auc_high - goal:.3f}."


def spread_ratio_text(rows: Sequence[Mapping], sample: str, *, what: str, reference: str = "the reference",
                      tolerance: float = 0.2) -> str:
    """Sentences on ``sample``'s spread over the ``reference``'s in each row of ``rows`` ({'key',
    'reference', sample}): the ratios, then in which rows it is narrower or wider by more than
    ``tolerance`` and in which it is within it."""
    ratios = {r["key"]: r[sample] / r["reference"] for r in rows}
    text = (f"The {what} of {sample} spreads {' / '.join(f'{v:.2f}' for v in ratios.values())} times as much as "
            f"{reference}'s in {' / '.join(ratios)}.")
    groups = (("narrower by more than", [k for k, v in ratios.items() if v < 1 - tolerance]),
              ("wider by more than", [k for k, v in ratios.items() if v > 1 + tolerance]),
              ("within", [k for k, v in ratios.items() if 1 - tolerance <= v <= 1 + tolerance]))
    for words, keys in groups:
        if keys:
            text += f" It is {words} {100 * tolerance:.0f} % in {', '.join(keys)}."
    return text


def single_feature_text(model: Mapping[str, float], floor: Mapping[str, float], *, top: int = 3) -> str:
    """Sentences on single-feature classifier AUCs ({feature: AUC}) of a model against the reference,
    beside those of an independent reference sample (``floor``): the ``top`` best features and
    how many exceed the floor's highest AUC."""
    best = sorted(model, key=model.get, reverse=True)[:top]
    ceiling = max(floor.values())
    above = sum(v > ceiling for v in model.values())
    named = ", ".join(f"{n} (AUC {model[n]:.3f})" for n in best)
    return (f"Given E_p and one feature, the classifier separates best by {named}. "
            f"Against an independent Monte Carlo sample no feature goes above AUC {ceiling:.3f}; "
            f"{above} of the model's {len(model)} features do.")


def breakdown_text(model: Mapping[str, float], matched: Mapping[str, float], floor: Mapping[str, float], *,
                   goal: float) -> str:
    """Sentences on the :func:`~gan3d_lib.validation.group_aucs` ({group: AUC}) of a model, of the
    same showers after :func:`~gan3d_lib.validation.layer_moment_matched` and of an independent
    reference sample (``floor``), against the AUC ``goal``."""
    every, layers, rest, depth = list(FEATURE_GROUPS)[:3] + ["longitudinal barycentre, width"]
    text = (f"Given every feature the classifier reads AUC {model[every]:.3f}; the layer fractions alone "
            f"{model[layers]:.3f}, the other features alone {model[rest]:.3f}. With the layer energies given an "
            f"independent Monte Carlo sample's distribution, the layer fractions alone read {matched[layers]:.3f}, "
            f"the longitudinal barycentre and width {matched[depth]:.3f} and every feature {matched[every]:.3f}: ")
    if matched[every] < goal:
        text += f"below the goal of {goal}. "
    else:
        text += f"still above the goal of {goal}, so right longitudinal fluctuations alone would not meet it. "
    single = sorted((g for g in matched if g not in (every, layers, rest)), key=matched.get, reverse=True)
    text += ("The matched showers' other groups read, highest first: " + ", ".join(f"{g} {matched[g]:.3f}" for g in single)
             + f"; an independent Monte Carlo sample reads at most {max(floor.values()):.3f} in any group.")
    return text
