"""The physics gate for reduced precision: does a candidate generator keep FP32's physics?

One function decides it for every chapter: the tuner of chapter 3 accepts a candidate only
if it passes, and chapter 5's verdicts are the same function's. A candidate (INT8, BF16...)
generates showers from the **same latent vectors** as the FP32 artefact (paired), and in
each primary-energy bin (2-20, 20-100, 100-250, 250-500 GeV) every condition must hold:

========================  ===========================================================  ==========
condition                 statistic                                                    limit
========================  ===========================================================  ==========
``sampling_fraction``     |mean E_cal/E_p of candidate / that of FP32 - 1|             1 %
``hits``                  |mean hits of candidate / that of FP32 - 1|                  2 %
``cell_energy_spectrum``  separation power of the spectrum of hit cells                2 x floor
``hits_distribution``     separation power of the per-shower hits histogram            2 x floor
``classifier_low``        classifier AUC, cells / E_p (low level)                      floor + 2 SE
``classifier_high``       classifier AUC, the 33 features (high level)                 floor + 2 SE
========================  ===========================================================  ==========

The floor of each distribution statistic is its value between FP32 and FP32 from an
independent latent draw: what sampling alone produces at this size. The AUC limit is the
floor's AUC (0.5 where chance puts it below) plus ``auc_standard_errors`` times the
combined bootstrap standard error of both AUCs. A hit is a cell above
:data:`~gan3d_lib.physics.geometry.HITS_THRESHOLD_GEV`; the spectrum counts hit cells only, so
that values far below what a minimum-ionising particle leaves do not decide it.

Each condition's statistic is also given as a fraction of its limit (``ratio``, <= 1
passes); the largest over conditions and bins, :attr:`GateResult.worst_ratio`, is the
scalar the INT8 searches minimise and :func:`gate_score` hands to NNCF.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..physics import observables as obs
from ..physics.geometry import ENERGY_RANGE_GEV, HITS_THRESHOLD_GEV
from ..validation.validation import (
    PreparedSample,
    auc_jsd,
    classifier_predictions,
    prepare,
    separation_power,
    triangular_discrimination,
)

__all__ = ["CONDITIONS", "SMALL_CELL_RANGE_GEV", "GateThresholds", "GateReference", "GateResult", "gate_reference",
           "precision_gate", "gate_score", "gate_latents", "fp32_gate", "gate_table"]

CONDITIONS = ("sampling_fraction", "hits", "cell_energy_spectrum", "hits_distribution", "classifier_low",
              "classifier_high")
DISTRIBUTION_CONDITIONS = ("cell_energy_spectrum", "hits_distribution")
CLASSIFIER_CONDITIONS = ("classifier_low", "classifier_high")
# Reported beside the gate: the cells that all-ops INT8 generators lose first (0.1-3 MeV).
SMALL_CELL_RANGE_GEV = (HITS_THRESHOLD_GEV, 3e-3)
_SPECTRUM_BINS_GEV = np.logspace(np.log10(HITS_THRESHOLD_GEV), 1, 41)


@dataclass(frozen=True)
class GateThresholds:
    """Limits of the gate (defaults as in the module docstring)."""

    sampling_fraction_tolerance: float = 0.01
    hits_tolerance: float = 0.02
    separation_floor_multiple: float = 2.0
    auc_standard_errors: float = 2.0


@dataclass(frozen=True)
class _BinSample:
    sampling_fraction: float
    hits: float
    small_cells: float
    hits_values: np.ndarray
    spectrum: np.ndarray


@dataclass
class GateReference:
    """FP32's showers (paired latents), the floor (FP32 vs FP32 from other latents) per bin,
    and the thresholds: everything a candidate is judged against, computed once."""

    fp32: PreparedSample
    seed: int
    bins_gev: tuple[float, ...]
    thresholds: GateThresholds
    n_bootstrap: int
    bin_labels: list[str]
    floor: dict[str, dict[str, float]]
    _fp32_bins: dict[str, _BinSample] = field(repr=False)


@dataclass
class GateResult:
    """The verdict, with every number the gate looked at.

    ``bins``: {bin label: {condition: {'value', 'limit', 'ratio', 'passed'}, 'small_cells_per_shower':
    (candidate, FP32)}}; ``failures``: the failed (condition, bin) pairs in condition order;
    ``first_failure``: the first of them as one sentence, or None."""

    passed: bool
    worst_ratio: float
    worst: tuple[str, str]
    first_failure: str | None
    failures: list[dict]
    bins: dict[str, dict]
    classifier: bool

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def failed_conditions(self) -> list[str]:
        """Names of the failed conditions, each once, in condition order."""
        return [c for c in CONDITIONS if any(f["condition"] == c for f in self.failures)]


def _bin_masks(energies_gev: np.ndarray, bins_gev: Sequence[float], min_showers: int = 1) -> dict[str, np.ndarray]:
    """{bin label: (N,) bool} of the bins holding at least ``min_showers`` showers."""
    idx = obs.energy_bin_index(energies_gev, bins_gev)
    masks = {label: idx == b for b, label in enumerate(obs.energy_bin_labels(bins_gev))}
    return {label: m for label, m in masks.items() if m.sum() >= min_showers}


def _bin_samples(sample: PreparedSample, bins_gev: Sequence[float]) -> dict[str, _BinSample]:
    out = {}
    lo, hi = SMALL_CELL_RANGE_GEV
    for label, m in _bin_masks(sample.energies_gev, bins_gev).items():
        s = sample.showers[m]
        out[label] = _BinSample(
            sampling_fraction=float(np.mean(sample.features["etot_over_ep"][m])) if m.any() else float("nan"),
            hits=float(np.mean(sample.features["hits"][m])) if m.any() else float("nan"),
            small_cells=float(np.mean(((s > lo) & (s <= hi)).sum(axis=(1, 2, 3)))) if m.any() else float("nan"),
            hits_values=sample.features["hits"][m],
            spectrum=obs.cell_energy_spectrum(s, bins_gev=_SPECTRUM_BINS_GEV)[0] if m.any() else np.zeros(40))
    return out


def _distribution_separations(a: _BinSample, b: _BinSample) -> dict[str, float]:
    if a.spectrum.sum() > 0 and b.spectrum.sum() > 0:
        spectrum = triangular_discrimination(a.spectrum, b.spectrum)
    else:  # one side has no hit cell at all: disjoint unless both are empty
        spectrum = 0.0 if a.spectrum.sum() == b.spectrum.sum() else 1.0
    return {"cell_energy_spectrum": spectrum, "hits_distribution": separation_power(a.hits_values, b.hits_values)}


def _classifier_aucs(model: PreparedSample, reference: PreparedSample, masks_model: dict, masks_ref: dict, *,
                     seed: int, n_bootstrap: int) -> dict[str, dict[str, tuple[float, float]]]:
    """{bin: {'classifier_low' | 'classifier_high': (auc, err)}}, classifiers trained on all energies."""
    out: dict[str, dict[str, tuple[float, float]]] = {label: {} for label in masks_model}
    for cond, xm, xr in (("classifier_low", model.low_level, reference.low_level),
                         ("classifier_high", model.high_level, reference.high_level)):
        p = classifier_predictions(xm, xr, seed=seed)
        is_m, i = p["label"] == 1, p["source_index"]
        for k, label in enumerate(masks_model):
            src = np.zeros(len(i), bool)
            src[is_m], src[~is_m] = masks_model[label][i[is_m]], masks_ref[label][i[~is_m]]
            r = auc_jsd(p["label"][src], p["score"][src], p["probability"][src], n_bootstrap=n_bootstrap,
                        seed=seed + 7919 * (k + 1))
            out[label][cond] = (r["auc"], r["auc_err"])
    return out


def gate_reference(fp32_showers: np.ndarray, fp32_other_showers: np.ndarray, energies_gev: np.ndarray, *, seed: int,
                   bins_gev: Sequence[float] = obs.DEFAULT_ENERGY_BINS_GEV, n_bootstrap: int = 50,
                   thresholds: GateThresholds = GateThresholds(), min_showers: int = 20) -> GateReference:
    """The gate's reference from FP32 showers (N, 25, 25, 25) GeV for ``energies_gev`` (N,),
    made from the latent vectors the candidates will use, and FP32 showers for the same
    energies from an independent latent draw (the floor). Energy bins with fewer than
    ``min_showers`` showers are left out (and named in no verdict)."""
    fp32, other = prepare(fp32_showers, energies_gev), prepare(fp32_other_showers, energies_gev)
    if fp32.showers.shape != other.showers.shape:
        raise ValueError(f"FP32 samples differ in shape: {fp32.showers.shape} vs {other.showers.shape}")
    bins_gev = tuple(float(b) for b in bins_gev)
    masks = _bin_masks(fp32.energies_gev, bins_gev, min_showers)
    if not masks:
        raise ValueError(f"no energy bin of {bins_gev} GeV holds {min_showers} showers ({len(fp32.energies_gev)} in all)")
    a, b = _bin_samples(other, bins_gev), _bin_samples(fp32, bins_gev)
    aucs = _classifier_aucs(other, fp32, masks, masks, seed=seed, n_bootstrap=n_bootstrap)
    floor = {label: {**_distribution_separations(a[label], b[label]),
                     **{c: aucs[label][c][0] for c in CLASSIFIER_CONDITIONS},
                     **{f"{c}_err": aucs[label][c][1] for c in CLASSIFIER_CONDITIONS}} for label in masks}
    return GateReference(fp32, seed, bins_gev, thresholds, n_bootstrap, list(masks), floor, b)


def _check(value: float, limit: float, centre: float = 0.0) -> dict:
    """Statistic ``value`` against ``limit`` (both above ``centre``, the ideal value)."""
    span = limit - centre
    if not np.isfinite(value):
        ratio = float("inf")
    elif span <= 0:
        ratio = 0.0 if value <= centre else float("inf")
    else:
        ratio = max(0.0, (value - centre) / span)
    return {"value": float(value), "limit": float(limit), "ratio": float(ratio), "passed": bool(ratio <= 1.0)}


def precision_gate(candidate_showers: np.ndarray, reference: GateReference, *, classifier: bool = True) -> GateResult:
    """Judge candidate showers (N, 25, 25, 25) GeV, generated from FP32's latent vectors,
    against ``reference`` (:func:`gate_reference`). ``classifier=False`` skips the two
    classifier conditions (a quick screen: the searches rank ops with it)."""
    fp32, t = reference.fp32, reference.thresholds
    cand = prepare(candidate_showers, fp32.energies_gev)
    bins_c = _bin_samples(cand, reference.bins_gev)
    masks = {label: m for label, m in _bin_masks(fp32.energies_gev, reference.bins_gev).items()
             if label in reference.bin_labels}
    aucs = (_classifier_aucs(cand, fp32, masks, masks, seed=reference.seed, n_bootstrap=reference.n_bootstrap)
            if classifier else None)
    out: dict[str, dict] = {}
    failures: list[dict] = []
    for label in reference.bin_labels:
        c, f, floor = bins_c[label], reference._fp32_bins[label], reference.floor[label]  # noqa: SLF001
        row: dict = {}
        row["sampling_fraction"] = _check(abs(c.sampling_fraction / f.sampling_fraction - 1.0),
                                          t.sampling_fraction_tolerance)
        row["hits"] = _check(abs(c.hits / f.hits - 1.0) if f.hits > 0 else abs(c.hits), t.hits_tolerance)
        seps = _distribution_separations(c, f)
        for cond in DISTRIBUTION_CONDITIONS:
            row[cond] = _check(seps[cond], t.separation_floor_multiple * floor[cond])
        if aucs is not None:
            for cond in CLASSIFIER_CONDITIONS:
                auc, err = aucs[label][cond]
                se = float(np.hypot(err if np.isfinite(err) else 0.0, floor[f"{cond}_err"]
                                    if np.isfinite(floor[f"{cond}_err"]) else 0.0))
                row[cond] = {**_check(auc, max(floor[cond], 0.5) + t.auc_standard_errors * se, centre=0.5),
                             "auc_err": err}
        row["small_cells_per_shower"] = (c.small_cells, f.small_cells)
        row["sampling_fraction_ratio"] = c.sampling_fraction / f.sampling_fraction
        row["hits_ratio"] = c.hits / f.hits if f.hits > 0 else float("nan")
        out[label] = row
    for cond in CONDITIONS:
        for label in reference.bin_labels:
            check = out[label].get(cond)
            if check is not None and not check["passed"]:
                failures.append({"condition": cond, "bin": label, **check})
    ratios = [(out[label][cond]["ratio"], cond, label) for label in out for cond in CONDITIONS if cond in out[label]]
    worst_ratio, worst_cond, worst_bin = max(ratios)
    return GateResult(passed=not failures, worst_ratio=float(worst_ratio), worst=(worst_cond, worst_bin),
                      first_failure=_describe(failures[0], out[failures[0]["bin"]]) if failures else None,
                      failures=failures, bins=out, classifier=classifier)


def _describe(failure: dict, row: dict) -> str:
    cond, label = failure["condition"], failure["bin"]
    small_c, small_f = row["small_cells_per_shower"]
    if cond == "sampling_fraction":
        what = f"mean sampling fraction {100 * (row['sampling_fraction_ratio'] - 1):+.1f} % from FP32"
    elif cond == "hits":
        what = f"mean hits {100 * (row['hits_ratio'] - 1):+.1f} % from FP32"
    elif cond in DISTRIBUTION_CONDITIONS:
        what = f"{cond.replace('_', ' ')} separation {failure['value']:.3g} above {failure['limit']:.3g} (2x floor)"
    else:
        what = f"{cond.replace('_', ' ')} AUC {failure['value']:.3f} above {failure['limit']:.3f} (floor + 2 SE)"
    if small_f > 0 and small_c < 0.9 * small_f:
        what += (f"; small cells ({1e3 * SMALL_CELL_RANGE_GEV[0]:.1f}-{1e3 * SMALL_CELL_RANGE_GEV[1]:.0f} MeV) "
                 f"missing: {small_c:.0f} per shower against FP32's {small_f:.0f}")
    return f"{cond} failed in {label}: {what}"


def gate_score(result: GateResult) -> float:
    """1 - worst ratio: 1 for a candidate identical to FP32, >= 0 exactly when the gate passes
    (higher is better, as NNCF's accuracy control expects; the allowed drop from FP32 is 1)."""
    return 1.0 - result.worst_ratio


def gate_table(results: dict[str, GateResult]) -> list[dict]:
    """One row per candidate: verdict, worst condition and bin, worst ratio, the largest
    sampling-fraction and hits deviations from FP32 over the bins (%), and the small cells
    (0.1-3 MeV) per shower relative to FP32 in the bin where they fall most."""
    rows = []
    for name, r in results.items():
        rows_b = r.bins.values()
        small = [row["small_cells_per_shower"][0] / row["small_cells_per_shower"][1] for row in rows_b
                 if row["small_cells_per_shower"][1] > 0]
        rows.append({"candidate": name, "passed": r.passed, "worst_condition": r.worst[0], "worst_bin": r.worst[1],
                     "worst_ratio": r.worst_ratio,
                     "sf_deviation_pct": max((100 * (row["sampling_fraction_ratio"] - 1) for row in rows_b), key=abs),
                     "hits_deviation_pct": max((100 * (row["hits_ratio"] - 1) for row in rows_b), key=abs),
                     "small_cells_ratio_min": min(small) if small else float("nan"),
                     "first_failure": r.first_failure or ""})
    return rows


def gate_latents(n: int, *, seed: int, energy_range_gev: tuple[float, float] = ENERGY_RANGE_GEV,
                 latent_size: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gate's sample: primary energies (n,) GeV log-uniform in ``energy_range_gev`` (every
    bin of chapter 5 well filled), the latent vectors every candidate uses (seed ``seed``)
    and FP32's independent draw for the floor (seed ``seed + 1``), (n, latent_size) each."""
    from ..models.models import latent_vectors

    rng = np.random.default_rng([seed, 17])
    energies = np.exp(rng.uniform(*np.log(energy_range_gev), n)).astype(np.float32)
    return (energies, latent_vectors(energies, seed=seed, latent_size=latent_size),
            latent_vectors(energies, seed=seed + 1, latent_size=latent_size))


def fp32_gate(run_fp32: Any, n: int, *, seed: int, n_bootstrap: int = 50,
              thresholds: GateThresholds = GateThresholds()) -> tuple[GateReference, np.ndarray]:
    """The gate reference of an FP32 generator ``run_fp32(latent) -> showers`` on
    :func:`gate_latents` (``n``, ``seed``), and the latents candidates must use. The same
    (n, seed) gives the same reference, so chapters 3 and 5 reach the same verdicts."""
    energies, latent, latent_floor = gate_latents(n, seed=seed)
    ref = gate_reference(run_fp32(latent), run_fp32(latent_floor), energies, seed=seed, n_bootstrap=n_bootstrap,
                         thresholds=thresholds)
    return ref, latent
