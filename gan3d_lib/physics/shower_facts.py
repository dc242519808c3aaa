"""Per-energy shower facts of any sample against any reference: the Geant4 table of
``shared/reference/geant4_shower_facts.md`` computed for Monte Carlo or generated showers.

Definitions (per shower, then averaged): SF = E_cal / E_p and its relative spread (rms /
mean); x (y) width: energy-weighted standard deviation of the cell index, cells; 3x3 (5x5)
core fraction: energy in cells 11..13 (10..14) of x and y, all layers, over the total;
layer-0 and last-layer fractions (%); hits: cells above
:data:`~gan3d_lib.physics.geometry.HITS_THRESHOLD_GEV`; hottest cell over the total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import observables as obs

__all__ = ["FACTS", "GENERATOR_GOALS", "shower_facts", "facts_table", "facts_at_energies", "facts_by_energy_bin",
           "goal_rows", "resolution_rows", "sampling_fraction_by_bin", "CLASSIFIER_AUC_GOAL", "barycentre_spread_rows"]

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
    from .geometry import HITS_THRESHOLD_GEV

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


def barycentre_spread_rows(reference: np.ndarray, samples: Mapping[str, np.ndarray], energies_gev: np.ndarray) -> list[dict]:
    """Per primary-energy bin: the standard deviation over showers (layers) of the longitudinal
    barycentre of the ``reference`` showers ('reference') and of each sample's showers for the
    same energies (N,) GeV (keyed by the sample's name): how much the depth fluctuates from
    shower to shower, with the drift of the mean depth across the bin included alike in all."""
    which = obs.energy_bin_index(np.asarray(energies_gev), obs.DEFAULT_ENERGY_BINS_GEV)
    centres = {name: obs.moments(obs.longitudinal_profile(s))[0] for name, s in {"reference": reference, **samples}.items()}
    return [{"key": label, **{name: float(np.nanstd(c[which == b])) for name, c in centres.items()}}
            for b, label in enumerate(obs.energy_bin_labels(obs.DEFAULT_ENERGY_BINS_GEV)) if (which == b).sum() > 1]


