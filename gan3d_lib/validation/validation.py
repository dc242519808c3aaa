"""Physics validation of generated showers against a reference, to the CaloChallenge standard.

Per shower: high-level features (:func:`high_level_features`). Per pair of samples, model
against reference (Monte Carlo), overall and per primary-energy bin (:func:`validate`):

* separation power (triangular discrimination) of every feature's histogram and of the
  pooled cell-energy spectrum: 0 for identical histograms, 1 for disjoint ones;
* a classifier two-sample test on low-level (cells / E_p) and high-level inputs: ROC AUC
  (0.5: indistinguishable, 1: separable) and the JSD estimate (ln 2 - BCE) / ln 2 of
  CaloChallenge's ``evaluate.py``, with bootstrap errors;
* Fréchet and kernel physics distances (FPD, KPD) of the high-level features, as
  jetnet's ``jetnet.evaluation.fpd`` / ``kpd`` (arXiv:2211.10295), re-implemented here in
  NumPy/SciPy rather than adding jetnet, which depends on PyTorch;
* the shower-shape MSE and the mean sampling fraction of both samples.

:func:`monte_carlo_floor` runs the same comparison on two independent reference samples:
the value each metric takes from sample statistics alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ..physics import observables as obs
from .distances import KPD_DEGREE, fpd, kpd
from ..physics.geometry import HITS_THRESHOLD_GEV

__all__ = [
    "LOW_LEVEL_XY_EDGES",
    "CLASSIFIER_SPLIT",
    "feature_names",
    "high_level_features",
    "feature_matrix",
    "low_level_inputs",
    "histogram_edges",
    "triangular_discrimination",
    "separation_power",
    "classifier_predictions",
    "roc_auc",
    "auc_jsd",
    "PreparedSample",
    "prepare",
    "compare",
    "validate",
    "monte_carlo_floor",
]
# Transverse cell edges of the low-level classifier input: full resolution around the
# shower axis (cell 12), wider cells outside; 7 x 7 cells x 25 layers.
LOW_LEVEL_XY_EDGES = (0, 6, 10, 12, 13, 15, 19, 25)
CLASSIFIER_SPLIT = (0.6, 0.2, 0.2)  # train, calibration, test, as CaloChallenge
_MODEL, _REFERENCE = 1, 0  # classifier labels


def feature_names(n_layers: int = 25) -> list[str]:
    """Names of the scalar features of :func:`high_level_features`, in order."""
    return (["etot_over_ep"] + [f"layer_{i:02d}" for i in range(n_layers)]
            + [f"{a}_{m}" for a in obs.AXES for m in ("centre", "width")] + ["hits"])


def high_level_features(showers: np.ndarray, energies_gev: np.ndarray, *,
                        hits_threshold_gev: float = HITS_THRESHOLD_GEV) -> dict[str, np.ndarray]:
    """Scalar features of each shower, as {name: (N,) float64 array}.

    ``etot_over_ep``: E_cal / E_p; ``layer_ii``: fraction of E_cal in layer ii (0 for empty
    showers); ``x|y_centre``, ``x|y_width``: energy-weighted mean and standard deviation of
    the transverse position in cell index units, ``z_centre``, ``z_width`` the same in depth
    in layer index units (NaN for empty showers); ``hits``: cells above ``hits_threshold_gev``.
    """
    prof = obs.profiles(showers)
    out = {"etot_over_ep": obs.sampling_fraction(showers, energies_gev)}
    etot = prof["z"].sum(axis=1)
    frac = np.divide(prof["z"], etot[:, None], out=np.zeros_like(prof["z"]), where=etot[:, None] > 0)
    out.update({f"layer_{i:02d}": frac[:, i] for i in range(frac.shape[1])})
    for a in obs.AXES:
        centre, width2 = obs.moments(prof[a])
        out[f"{a}_centre"] = centre
        out[f"{a}_width"] = np.sqrt(np.clip(width2, 0.0, None))
    out["hits"] = obs.hits(showers, hits_threshold_gev).astype(np.float64)
    return out


def feature_matrix(features: Mapping[str, np.ndarray], names: Sequence[str] | None = None) -> np.ndarray:
    """(N, n_features) float64 matrix of the named features (default: all, in order)."""
    names = list(features) if names is None else list(names)
    return np.stack([np.asarray(features[n], dtype=np.float64) for n in names], axis=1)


def low_level_inputs(showers: np.ndarray, energies_gev: np.ndarray, *,
                     xy_edges: Sequence[int] = LOW_LEVEL_XY_EDGES) -> np.ndarray:
    """(N, 1 + nx * ny * depth) float32 classifier input: log10(E_p / GeV), then the cell
    energies divided by E_p, summed transversely into the cells bounded by ``xy_edges``."""
    s = np.asarray(showers)
    if s.ndim != 4:
        raise ValueError(f"showers must be (N, x, y, depth), got shape {s.shape}")
    e = np.asarray(energies_gev, dtype=np.float64).reshape(-1)
    if e.shape[0] != s.shape[0]:
        raise ValueError(f"{e.shape[0]} energies for showers of shape {s.shape}")
    edges = np.asarray(xy_edges)
    if edges[0] != 0 or edges[-1] != s.shape[1] or edges[-1] != s.shape[2] or np.any(np.diff(edges) <= 0):
        raise ValueError(f"xy_edges {tuple(xy_edges)} must rise from 0 to the grid size {s.shape[1:3]}")
    pooled = np.add.reduceat(np.add.reduceat(s, edges[:-1], axis=1, dtype=np.float64), edges[:-1], axis=2)
    cells = pooled.reshape(len(s), -1) / e[:, None]
    return np.concatenate([np.log10(e)[:, None], cells], axis=1).astype(np.float32)


# --- separation power ------------------------------------------------------------------------
def histogram_edges(reference: np.ndarray, n_bins: int) -> np.ndarray:
    """``n_bins`` equal bins from the reference's minimum to its maximum (finite values),
    plus an underflow and an overflow bin: (n_bins + 3,) edges, the outer ones infinite."""
    r = np.asarray(reference, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size == 0:
        raise ValueError("reference has no finite values to bin")
    lo, hi = float(r.min()), float(r.max())
    hi = np.nextafter(hi, np.inf) if hi > lo else lo + max(abs(lo), 1.0) * 1e-9
    return np.concatenate([[-np.inf], np.linspace(lo, hi, n_bins + 1), [np.inf]])


def triangular_discrimination(h1: np.ndarray, h2: np.ndarray) -> float:
    """Separation power 0.5 * sum_i (p_i - q_i)^2 / (p_i + q_i) of two histograms, each first
    normalised to unit sum (CaloChallenge, eq. 15 of arXiv:2009.03796); 0 to 1."""
    p, q = np.asarray(h1, dtype=np.float64), np.asarray(h2, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"histograms differ in shape: {p.shape} vs {q.shape}")
    if p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("both histograms need a positive total")
    p, q = p / p.sum(), q / q.sum()
    s = p + q
    return float(0.5 * np.sum(np.divide((p - q) ** 2, s, out=np.zeros_like(s), where=s > 0)))


def separation_power(model: np.ndarray, reference: np.ndarray, *, n_bins: int | None = None) -> float:
    """Separation power of two 1-D samples histogrammed with :func:`histogram_edges` of the
    reference (default ``n_bins``: sqrt of the reference size, within 5-50); non-finite values
    are left out, and a sample without finite values gives NaN."""
    m, r = np.asarray(model, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if not np.isfinite(m).any() or not np.isfinite(r).any():
        return float("nan")
    if n_bins is None:
        n_bins = int(np.clip(np.sqrt(np.isfinite(r).sum()), 5, 50))
    edges = histogram_edges(r, n_bins)
    return triangular_discrimination(np.histogram(m[np.isfinite(m)], edges)[0],
                                     np.histogram(r[np.isfinite(r)], edges)[0])


# --- classifier two-sample test -------------------------------------------------------------
def _split(n: int, perm: np.ndarray, fractions: Sequence[float]) -> list[np.ndarray]:
    idx = perm[perm < n]
    return np.split(idx, (np.cumsum(fractions)[:-1] * n).astype(int))


def classifier_predictions(x_model: np.ndarray, x_reference: np.ndarray, *, seed: int,
                           split: Sequence[float] = CLASSIFIER_SPLIT, max_iter: int = 200,
                           max_bins: int = 32, threads: int | None = 1) -> dict[str, np.ndarray]:
    """Train a classifier to tell model (label 1) from reference (label 0) rows.

    Each sample is split ``split`` = (train, calibration, test), row i of both into the same
    part, so samples paired row by row (same latent vectors) cannot leak a twin into the
    test. A seeded histogram gradient-boosted classifier (scikit-learn, ``max_bins`` bins
    per input, early stopping) learns on the train rows; Platt scaling on the calibration
    rows calibrates it, clipped to [1e-6, 1 - 1e-6] (CaloChallenge's isotonic calibration
    biases the JSD of identical samples below 0 with a few hundred showers). ``threads``:
    OpenMP threads (None: all; small fits stall on shared cores).

    Returns:
        held-out test rows: ``label`` (n,), ``score`` (classifier output), ``probability``
        (calibrated), ``source_index`` (row of the test shower in its own input).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    xm, xr = np.asarray(x_model), np.asarray(x_reference)
    if xm.ndim != 2 or xr.ndim != 2 or xm.shape[1] != xr.shape[1]:
        raise ValueError(f"inputs must be (N, n_features) with the same n_features, got {xm.shape} and {xr.shape}")
    if len(split) != 3 or not np.isclose(sum(split), 1.0) or min(split) <= 0:
        raise ValueError(f"split must be three positive fractions summing to 1, got {tuple(split)}")
    perm = np.random.default_rng(seed).permutation(max(len(xm), len(xr)))
    parts = {lab: _split(len(x), perm, split) for lab, x in ((_MODEL, xm), (_REFERENCE, xr))}
    if min(len(p) for ps in parts.values() for p in ps) < 2:
        raise ValueError(f"too few rows to split {tuple(split)}: {len(xm)} model, {len(xr)} reference")

    def rows(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = np.concatenate([xm[parts[_MODEL][k]], xr[parts[_REFERENCE][k]]])
        y = np.r_[np.full(len(parts[_MODEL][k]), _MODEL), np.full(len(parts[_REFERENCE][k]), _REFERENCE)]
        return x, y, np.concatenate([parts[_MODEL][k], parts[_REFERENCE][k]])

    def logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 1e-9, 1 - 1e-9)
        return np.log(p / (1 - p))[:, None]

    (x_tr, y_tr, _), (x_ca, y_ca, _), (x_te, y_te, i_te) = rows(0), rows(1), rows(2)
    clf = HistGradientBoostingClassifier(max_iter=max_iter, max_bins=max_bins, early_stopping=True, random_state=seed)
    with threadpool_limits(limits=threads, user_api="openmp"):
        clf.fit(x_tr, y_tr)
        platt = LogisticRegression(C=1e4).fit(logit(clf.predict_proba(x_ca)[:, 1]), y_ca)
        score = clf.predict_proba(x_te)[:, 1]
        probability = np.clip(platt.predict_proba(logit(score))[:, 1], 1e-6, 1 - 1e-6)
    return {"label": y_te, "score": score, "probability": probability, "source_index": i_te}


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC (Mann-Whitney, ties counted half) along the last axis; NaN without both classes."""
    ranks = stats.rankdata(scores, axis=-1)
    pos = labels == _MODEL
    n1, n0 = pos.sum(axis=-1), (~pos).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * pos).sum(axis=-1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def _jsd(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """(ln 2 - BCE) / ln 2 with both classes weighted 1/2, along the last axis."""
    pos = labels == _MODEL
    n1, n0 = pos.sum(axis=-1), (~pos).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        l1 = np.where(pos, np.log2(probs), 0.0).sum(axis=-1) / n1
        l0 = np.where(~pos, np.log2(1.0 - probs), 0.0).sum(axis=-1) / n0
    return 1.0 + 0.5 * (l1 + l0)


def auc_jsd(labels: np.ndarray, scores: np.ndarray, probabilities: np.ndarray, *, n_bootstrap: int = 100,
            seed: int = 0) -> dict[str, float]:
    """AUC of ``scores`` and JSD of calibrated ``probabilities`` on held-out rows, with errors:
    the standard deviations over ``n_bootstrap`` resamplings (with replacement, seeded) of
    the rows. NaN where a class is missing."""
    y, s, p = (np.asarray(a).reshape(-1) for a in (labels, scores, probabilities))
    if not (y.shape == s.shape == p.shape):
        raise ValueError(f"labels, scores and probabilities differ in shape: {y.shape}, {s.shape}, {p.shape}")
    out = {"auc": float(roc_auc(y, s)), "jsd": float(_jsd(y, p)), "n_test": int(y.size),
           "auc_err": float("nan"), "jsd_err": float("nan")}
    if n_bootstrap > 1 and y.size > 1:
        idx = np.random.default_rng(seed).integers(0, y.size, size=(n_bootstrap, y.size))
        aucs, jsds = roc_auc(y[idx], s[idx]), _jsd(y[idx], p[idx])
        ok = np.isfinite(aucs) & np.isfinite(jsds)
        if ok.sum() > 1:
            out["auc_err"], out["jsd_err"] = float(np.std(aucs[ok], ddof=1)), float(np.std(jsds[ok], ddof=1))
    return out


# --- the comparison --------------------------------------------------------------------------
@dataclass(frozen=True)
class PreparedSample:
    """Showers (N, 25, 25, 25) GeV with their primary energies (N,) GeV, high-level features
    and low-level classifier inputs, computed once and reused for every comparison."""

    showers: np.ndarray
    energies_gev: np.ndarray
    features: dict[str, np.ndarray]
    low_level: np.ndarray
    hits_threshold_gev: float
    xy_edges: tuple[int, ...]

    @property
    def high_level(self) -> np.ndarray:
        """(N, 1 + n_features) classifier input: log10(E_p / GeV), then the features."""
        return np.concatenate([np.log10(self.energies_gev)[:, None], feature_matrix(self.features)], axis=1)


def prepare(showers: np.ndarray, energies_gev: np.ndarray, *, hits_threshold_gev: float = HITS_THRESHOLD_GEV,
            xy_edges: Sequence[int] = LOW_LEVEL_XY_EDGES) -> PreparedSample:
    """A :class:`PreparedSample` of ``showers`` (N, x, y, depth) GeV and ``energies_gev`` (N,)."""
    e = np.asarray(energies_gev, dtype=np.float64).reshape(-1)
    return PreparedSample(np.asarray(showers), e, high_level_features(showers, e, hits_threshold_gev=hits_threshold_gev),
                          low_level_inputs(showers, e, xy_edges=xy_edges), float(hits_threshold_gev),
                          tuple(int(v) for v in xy_edges))


def _none_if_nan(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def compare(model: PreparedSample, reference: PreparedSample, *, seed: int,
            bins_gev: Sequence[float] = obs.DEFAULT_ENERGY_BINS_GEV, n_bootstrap: int = 100, n_bins: int | None = None,
            min_showers: int = 10) -> dict:
    """Every metric of the module docstring, model against reference, overall and per energy bin.

    The classifiers are trained once on all energies (E_p is an input) and scored on the
    held-out showers of each bin. A bin with fewer than ``min_showers`` showers in either
    sample gets None for every metric.

    Returns:
        {'settings', 'features': names, 'bins': {'all' | '2-20 GeV' | ...: {n_model,
        n_reference, separation_power {feature: S, 'cell_energy': S}, separation_power_mean,
        auc_low, auc_low_err, jsd_low, jsd_low_err, auc_high, ..., n_test, fpd, fpd_err, kpd,
        kpd_err, shower_shape_mse [%^2], sampling_fraction_model, sampling_fraction_reference,
        sampling_fraction_ratio}}}; JSON-able, None for undefined values.
    """
    if (model.hits_threshold_gev, model.xy_edges) != (reference.hits_threshold_gev, reference.xy_edges):
        raise ValueError(f"samples prepared differently: hits threshold {model.hits_threshold_gev} vs "
                         f"{reference.hits_threshold_gev} GeV, xy edges {model.xy_edges} vs {reference.xy_edges}")
    names = list(reference.features)
    labels = ["all", *obs.energy_bin_labels(bins_gev)]
    sel_m = {"all": np.ones(len(model.energies_gev), bool)}
    sel_r = {"all": np.ones(len(reference.energies_gev), bool)}
    im, ir = obs.energy_bin_index(model.energies_gev, bins_gev), obs.energy_bin_index(reference.energies_gev, bins_gev)
    for b, label in enumerate(labels[1:]):
        sel_m[label], sel_r[label] = im == b, ir == b

    preds = {kind: classifier_predictions(xm, xr, seed=seed)
             for kind, xm, xr in (("low", model.low_level, reference.low_level),
                                  ("high", model.high_level, reference.high_level))}
    mse = obs.shower_shape_mse(model.showers, reference.showers, energies_a_gev=model.energies_gev,
                               energies_b_gev=reference.energies_gev, bins_gev=bins_gev)
    xm_all, xr_all = feature_matrix(model.features, names), feature_matrix(reference.features, names)
    bins: dict[str, dict] = {}
    for k, label in enumerate(labels):
        sm, sr = sel_m[label], sel_r[label]
        row: dict = {"n_model": int(sm.sum()), "n_reference": int(sr.sum())}
        if min(row.values()) < min_showers:
            row.update({key: None for key in ("separation_power", "separation_power_mean", "fpd", "fpd_err", "kpd",
                                              "kpd_err", "shower_shape_mse", "sampling_fraction_model",
                                              "sampling_fraction_reference", "sampling_fraction_ratio")})
            row.update({f"{m}_{kind}{e}": None for m in ("auc", "jsd") for kind in ("low", "high") for e in ("", "_err")})
            row.update({f"n_test_{kind}": 0 for kind in ("low", "high")})
            bins[label] = row
            continue
        sep = {n: separation_power(model.features[n][sm], reference.features[n][sr], n_bins=n_bins) for n in names}
        row["separation_power_mean"] = float(np.nanmean(list(sep.values())))
        sep["cell_energy"] = triangular_discrimination(obs.cell_energy_spectrum(model.showers[sm])[0],
                                                       obs.cell_energy_spectrum(reference.showers[sr])[0])
        row["separation_power"] = sep
        for kind, p in preds.items():
            is_m, i = p["label"] == _MODEL, p["source_index"]
            src = np.zeros(len(i), bool)
            src[is_m], src[~is_m] = sm[i[is_m]], sr[i[~is_m]]
            r = auc_jsd(p["label"][src], p["score"][src], p["probability"][src], n_bootstrap=n_bootstrap,
                        seed=seed + 7919 * k)
            row.update({f"auc_{kind}": r["auc"], f"auc_{kind}_err": r["auc_err"], f"jsd_{kind}": r["jsd"],
                        f"jsd_{kind}_err": r["jsd_err"], f"n_test_{kind}": r["n_test"]})
        row["fpd"], row["fpd_err"] = fpd(xr_all[sr], xm_all[sm], seed=seed)
        row["kpd"], row["kpd_err"] = kpd(xr_all[sr], xm_all[sm], seed=seed)
        row["shower_shape_mse"] = mse[label]
        sf_m, sf_r = (float(np.mean(f["etot_over_ep"][s])) for f, s in ((model.features, sm), (reference.features, sr)))
        row.update({"sampling_fraction_model": sf_m, "sampling_fraction_reference": sf_r,
                    "sampling_fraction_ratio": sf_m / sf_r})
        bins[label] = {key: ({n: _none_if_nan(v) for n, v in val.items()} if isinstance(val, dict) else
                             val if isinstance(val, int) else _none_if_nan(val)) for key, val in row.items()}
    settings = {"seed": seed, "bins_gev": [float(b) for b in bins_gev], "n_bootstrap": n_bootstrap,
                "n_bins": n_bins, "min_showers": min_showers, "n_model": len(model.energies_gev),
                "n_reference": len(reference.energies_gev), "classifier_split": list(CLASSIFIER_SPLIT),
                "hits_threshold_gev": reference.hits_threshold_gev, "low_level_xy_edges": list(reference.xy_edges),
                "kpd_degree": KPD_DEGREE}
    return {"settings": settings, "features": names, "bins": bins}


def validate(model_showers: np.ndarray, model_energies_gev: np.ndarray, reference_showers: np.ndarray,
             reference_energies_gev: np.ndarray, *, seed: int, bins_gev: Sequence[float] = obs.DEFAULT_ENERGY_BINS_GEV,
             n_bootstrap: int = 100, hits_threshold_gev: float = HITS_THRESHOLD_GEV) -> dict:
    """Model showers (N, 25, 25, 25) GeV for primary energies (N,) GeV against reference
    showers: :func:`compare` of the two :func:`prepare` d samples."""
    kw = {"hits_threshold_gev": hits_threshold_gev}
    return compare(prepare(model_showers, model_energies_gev, **kw), prepare(reference_showers, reference_energies_gev, **kw),
                   seed=seed, bins_gev=bins_gev, n_bootstrap=n_bootstrap)


def monte_carlo_floor(reference: PreparedSample, independent: PreparedSample, *, seed: int, **kwargs: Any) -> dict:
    """:func:`compare` of an independent reference sample (as the model) with the reference:
    what each metric reads for two samples of the same distribution and size."""
    return compare(independent, reference, seed=seed, **kwargs)
