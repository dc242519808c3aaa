"""Per-energy shower facts of any sample against any reference: the Geant4 table of
``shared/reference/geant4_shower_facts.md`` computed for Monte Carlo or generated showers.

Definitions (per shower, then averaged): SF = E_cal / E_p and its relative spread (rms /
mean); x (y) width: energy-weighted standard deviation of the cell index, cells; 3x3 (5x5)
core fraction: energy in cells 11..13 (10..14) of x and y, all layers, over the total;
layer-0 and last-layer fractions (%); hits: cells above
:data:`~gan3d_lib.validation.HITS_THRESHOLD_GEV`; hottest cell over the total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import observables as obs

__all__ = ["FACTS", "GENERATOR_GOALS", "shower_facts", "facts_table", "facts_at_energies", "facts_by_energy_bin",
           "goal_rows", "goal_display_rows", "goal_summary", "latent_conditioning_rows", "resolution_rows",
           "sampling_fraction_by_bin", "CLASSIFIER_AUC_GOAL", "classifier_goal_text",
           "barycentre_spread_rows", "spread_ratio_text", "single_feature_text"]

#: (key, label with unit) of each fact, in table order.
FACTS = (
    ("sf_mean_pct", "SF mean [%]"), ("sf_rms_over_mean", "SF rms / mean"), ("x_width_cells", "x width [cells]"),
    ("y_width_cells", "y width [cells]"), ("core_3x3", "3x3 core fraction"), ("core_5x5", "5x5 fraction"),
    ("layer0_pct", "layer-0 fraction [%]"), ("last_layer_pct", "last-layer fraction [%]"),
    ("hits", "hits > 0.097 MeV"), ("hottest_cell", "hottest cell / total"),
)


#: fact -> (kind, tolerance) the shipped generator is held to against the Monte Carlo it
#: learned from, per energy bin of chapter 5 (issue 14): 'relative' |a / b - 1| <= tol,
#: 'absolute' |a - b| <= tol, 'factor' max(a / b, b / a) <= tol.
GENERATOR_GOALS: dict[str, tuple[str, float]] = {
    "hits": ("relative", 0.15), "sf_rms_over_mean": ("relative", 0.25), "x_width_cells": ("relative", 0.10),
    "layer0_pct": ("factor", 2.0),
}

#: The shipped generator's high-level classifier AUC against the Monte Carlo must stay below this (issue 14).
CLASSIFIER_AUC_GOAL = 0.95


def shower_facts(showers: np.ndarray, energies_gev: np.ndarray, *, hits_threshold_gev: float | None = None) -> dict:
    """The facts of :data:`FACTS` for showers (N, 25, 25, 25) GeV at primary energies (N,) GeV,
    averaged over the showers (empty showers left out of the ratios)."""
    from .validation import HITS_THRESHOLD_GEV

    s = np.asarray(showers, dtype=np.float64)
    thr = HITS_THRESHOLD_GEV if hits_threshold_gev is None else hits_threshold_gev
    total = s.sum(axis=(1, 2, 3))
    ok = total > 0
    s, total = s[ok], total[ok]
    sf = total / np.asarray(energies_gev, dtype=np.float64).reshape(-1)[ok]
    centre = s.shape[1] // 2
    widths = {}
    for axis in ("x", "y"):
        _, var = obs.moments(obs.profile(s, axis))
        widths[axis] = float(np.mean(np.sqrt(var)))
    z = obs.longitudinal_profile(s)
    return {
        "n_showers": int(ok.sum()),
        "sf_mean_pct": 100 * float(sf.mean()),
        "sf_rms_over_mean": float(sf.std(ddof=1) / sf.mean()) if len(sf) > 1 else float("nan"),
        "x_width_cells": widths["x"], "y_width_cells": widths["y"],
        "core_3x3": float(np.mean(s[:, centre - 1:centre + 2, centre - 1:centre + 2].sum(axis=(1, 2, 3)) / total)),
        "core_5x5": float(np.mean(s[:, centre - 2:centre + 3, centre - 2:centre + 3].sum(axis=(1, 2, 3)) / total)),
        "layer0_pct": 100 * float(np.mean(z[:, 0] / total)),
        "last_layer_pct": 100 * float(np.mean(z[:, -1] / total)),
        "hits": float(np.mean((s > thr).sum(axis=(1, 2, 3)))),
        "hottest_cell": float(np.mean(s.reshape(len(s), -1).max(axis=1) / total)),
    }


def facts_table(samples: Mapping[str, Mapping[float, dict]], *, reference: str,
                facts: Sequence[str] | None = None) -> list[dict]:
    """One row per (energy, fact): each sample's value and its ratio to ``reference``'s.

    ``samples``: {name: {energy_gev: shower_facts(...)}}; energies missing from a sample are
    left out of its columns. Row keys: 'energy_gev', 'fact', then '<name>' and, for every
    other sample, '<name>/<reference>'."""
    keys = [k for k, _ in FACTS] if facts is None else list(facts)
    ref = samples[reference]
    rows = []
    for e in sorted(ref):
        for k in keys:
            row: dict = {"energy_gev": e, "fact": k, reference: ref[e][k]}
            for name, by_e in samples.items():
                if name == reference or e not in by_e:
                    continue
                row[name] = by_e[e][k]
                row[f"{name}/{reference}"] = by_e[e][k] / ref[e][k] if ref[e][k] else float("nan")
            rows.append(row)
    return rows


def facts_at_energies(generate: Any, energies_gev: Sequence[float], *, n_per_energy: int, seed: int) -> dict[float, dict]:
    """{E: :func:`shower_facts`} of ``generate(energies (n,) GeV, seed) -> showers`` at each fixed
    primary energy; energy point i uses seed ``seed + i``."""
    out = {}
    for i, e in enumerate(energies_gev):
        energies = np.full(n_per_energy, e, np.float32)
        out[float(e)] = shower_facts(np.asarray(generate(energies, seed + i)), energies)
    return out


def facts_by_energy_bin(showers: np.ndarray, energies_gev: np.ndarray, bins_gev: Sequence[float] | None = None) -> dict:
    """{bin label: :func:`shower_facts`} of the showers in each primary-energy bin
    (default: ``observables.DEFAULT_ENERGY_BINS_GEV``); empty bins left out."""
    bins = obs.DEFAULT_ENERGY_BINS_GEV if bins_gev is None else bins_gev
    which = obs.energy_bin_index(np.asarray(energies_gev), bins)
    return {label: shower_facts(showers[which == b], np.asarray(energies_gev)[which == b])
            for b, label in enumerate(obs.energy_bin_labels(bins)) if (which == b).sum() > 1}


def goal_rows(sample: Mapping[object, Mapping[str, float]], reference: Mapping[object, Mapping[str, float]],
              goals: Mapping[str, tuple[str, float]]) -> list[dict]:
    """One row per (key of ``reference`` present in ``sample``, fact of ``goals``): both values,
    the deviation as the goal states it (relative: a / b - 1; absolute: a - b; factor:
    max(a / b, b / a)), the goal and whether it is met."""
    rows = []
    for key in reference:
        if key not in sample:
            continue
        for fact, (kind, tol) in goals.items():
            a, b = sample[key][fact], reference[key][fact]
            if kind == "relative":
                dev = a / b - 1.0 if b else float("inf")
                met = abs(dev) <= tol
            elif kind == "absolute":
                dev = a - b
                met = abs(dev) <= tol
            elif kind == "factor":
                dev = max(a / b, b / a) if a > 0 and b > 0 else float("inf")
                met = dev <= tol
            else:
                raise ValueError(f"unknown goal kind {kind!r} for {fact}")
            rows.append({"key": key, "fact": fact, "sample": a, "reference": b, "deviation": dev, "kind": kind,
                         "goal": tol, "met": bool(met)})
    return rows


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
    from .models import latent_energy_gev, latent_vectors

    energies = np.asarray(energies_gev, np.float64)
    carried = latent_energy_gev(latent_vectors(energies, seed=seed, norm="normal")) / energies
    which = obs.energy_bin_index(energies, obs.DEFAULT_ENERGY_BINS_GEV)
    spread = {label: float(np.std(carried[which == b]))
              for b, label in enumerate(obs.energy_bin_labels(obs.DEFAULT_ENERGY_BINS_GEV)) if (which == b).any()}
    return [{**row, "latent_energy_spread": spread[row["key"]]}
            for row in resolution_rows(reference, {"sphere": sphere, "normal": normal}, energies)]


def resolution_rows(reference: np.ndarray, samples: Mapping[str, np.ndarray], energies_gev: np.ndarray) -> list[dict]:
    """Per primary-energy bin: the SF rms / mean of the ``reference`` showers ('reference') and of
    each sample's showers for the same energies (N,) GeV (keyed by the sample's name)."""
    facts = {name: facts_by_energy_bin(s, energies_gev) for name, s in {"reference": reference, **samples}.items()}
    return [{"key": label, **{name: f[label]["sf_rms_over_mean"] for name, f in facts.items()}}
            for label in facts["reference"] if all(label in f for f in facts.values())]


def sampling_fraction_by_bin(showers: np.ndarray, energies_gev: np.ndarray) -> dict[str, np.ndarray]:
    """{bin label: E_cal / E_p of each shower in that primary-energy bin} (dimensionless), bins of
    ``observables.DEFAULT_ENERGY_BINS_GEV``; empty bins left out."""
    bins = obs.DEFAULT_ENERGY_BINS_GEV
    which = obs.energy_bin_index(np.asarray(energies_gev), bins)
    sf = obs.sampling_fraction(showers, energies_gev)
    return {label: sf[which == b] for b, label in enumerate(obs.energy_bin_labels(bins)) if (which == b).any()}


def classifier_goal_text(auc_low: float, auc_high: float, goal: float = CLASSIFIER_AUC_GOAL) -> str:
    """A sentence on the high-level classifier AUC against its goal (below ``goal``), with the
    low-level AUC beside it."""
    head = f"The high-level classifier AUC is {auc_high:.3f} (goal: below {goal:g}; low level {auc_low:.3f}): "
    if auc_high < goal:
        return head + "the goal is met."
    return head + f"the goal is missed by {auc_high - goal:.3f}."


def barycentre_spread_rows(reference: np.ndarray, samples: Mapping[str, np.ndarray], energies_gev: np.ndarray) -> list[dict]:
    """Per primary-energy bin: the standard deviation over showers (layers) of the longitudinal
    barycentre of the ``reference`` showers ('reference') and of each sample's showers for the
    same energies (N,) GeV (keyed by the sample's name): how much the depth fluctuates from
    shower to shower, with the drift of the mean depth across the bin included alike in all."""
    which = obs.energy_bin_index(np.asarray(energies_gev), obs.DEFAULT_ENERGY_BINS_GEV)
    centres = {name: obs.moments(obs.longitudinal_profile(s))[0] for name, s in {"reference": reference, **samples}.items()}
    return [{"key": label, **{name: float(np.nanstd(c[which == b])) for name, c in centres.items()}}
            for b, label in enumerate(obs.energy_bin_labels(obs.DEFAULT_ENERGY_BINS_GEV)) if (which == b).sum() > 1]


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
