"""What the high-level classifier of :mod:`.validation` sees, taken apart.

* :func:`group_aucs`: the classifier's held-out ROC AUC given E_p and one group of features
  (:data:`FEATURE_GROUPS`) at a time, :func:`single_feature_aucs` one feature at a time;
* :func:`layer_moment_matched`: model showers whose per-layer energies are given a reference
  sample's means, spreads (smooth in ln E_p) and layer-to-layer correlations, each layer's
  cells scaled by one factor and the shower's total energy kept. Judged again, they show
  what the classifier would still read if the longitudinal fluctuations were right.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import special

from .validation import PreparedSample, classifier_predictions, roc_auc

__all__ = ["FEATURE_GROUPS", "LAYER_ENERGY_FLOOR_GEV", "feature_groups", "group_aucs", "single_feature_aucs",
           "layer_moment_matched"]

#: groups of :func:`validation.feature_names`, by what they describe (layer_* expands to every layer)
FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "every feature": ("*",),
    "layer energy fractions": ("layer_*",),
    "every feature but the layer fractions": ("etot_over_ep", "x_centre", "x_width", "y_centre", "y_width",
                                              "z_centre", "z_width", "hits"),
    "E_cal / E_p": ("etot_over_ep",),
    "x, y centres": ("x_centre", "y_centre"),
    "x, y widths": ("x_width", "y_width"),
    "longitudinal barycentre, width": ("z_centre", "z_width"),
    "hits": ("hits",),
}
#: added to each layer's energy before its logarithm is taken (an empty layer stays empty)
LAYER_ENERGY_FLOOR_GEV = 1e-6
_ENERGY_POWERS = 3  # mean and ln variance of ln(layer energy): quadratic in ln(E_p / 100 GeV)
_LN_CHI2_OFFSET = 1.2704  # -E[ln Z^2] for a standard normal Z


def feature_groups(names: Sequence[str], groups: Mapping[str, Sequence[str]] = FEATURE_GROUPS) -> dict[str, list[str]]:
    """{group: the feature names of ``names`` in it}: '*' takes every name, 'prefix*' every name
    starting with prefix; a name not in ``names`` is an error."""
    out = {}
    for group, members in groups.items():
        chosen = []
        for m in members:
            found = [n for n in names if m == "*" or (m.endswith("*") and n.startswith(m[:-1])) or n == m]
            if not found:
                raise ValueError(f"feature group {group!r}: no feature {m!r} among {list(names)}")
            chosen += [n for n in found if n not in chosen]
        out[group] = chosen
    return out


def group_aucs(model: PreparedSample, reference: PreparedSample, *, seed: int,
               groups: Mapping[str, Sequence[str]] = FEATURE_GROUPS) -> dict[str, float]:
    """{group: held-out ROC AUC} of :func:`validation.classifier_predictions` given log10(E_p / GeV)
    and that group's features, all primary energies together (0.5: indistinguishable, 1: apart)."""
    names = list(model.features)
    if names != list(reference.features):
        raise ValueError(f"samples have different features: {names} vs {list(reference.features)}")
    xm, xr = model.high_level, reference.high_level
    out = {}
    for group, members in feature_groups(names, groups).items():
        cols = [0] + [1 + names.index(n) for n in members]
        p = classifier_predictions(xm[:, cols], xr[:, cols], seed=seed)
        out[group] = float(roc_auc(p["label"], p["score"]))
    return out


def single_feature_aucs(model: PreparedSample, reference: PreparedSample, *, seed: int) -> dict[str, float]:
    """{feature: held-out ROC AUC} of :func:`group_aucs` with one feature per group: which features
    alone tell the model's showers from the reference's (0.5: none, 1: fully)."""
    return group_aucs(model, reference, seed=seed, groups={n: (n,) for n in model.features})


def _design(energies_gev: np.ndarray) -> np.ndarray:
    return np.log(np.asarray(energies_gev, np.float64) / 100.0)[:, None] ** np.arange(_ENERGY_POWERS)


def _standardised(log_layers: np.ndarray, energies_gev: np.ndarray):
    """(residuals over the fitted spread, mean fit coefficients, ln-variance fit coefficients)."""
    x = _design(energies_gev)
    mean_coef, *_ = np.linalg.lstsq(x, log_layers, rcond=None)
    resid = log_layers - x @ mean_coef
    # ln r^2 of a normal residual averages ln(variance) - 1.27: a fit that stays positive and that
    # the few empty layers (ln of the floor) do not dominate
    ln_var_coef, *_ = np.linalg.lstsq(x, np.log(resid**2 + 1e-12) + _LN_CHI2_OFFSET, rcond=None)
    return resid / np.exp(0.5 * x @ ln_var_coef), mean_coef, ln_var_coef


def _normal_scores(r: np.ndarray) -> np.ndarray:
    """Each column's ranks as standard normal quantiles (ties by order)."""
    ranks = np.argsort(np.argsort(r, axis=0, kind="stable"), axis=0)
    return special.ndtri((ranks + 0.5) / len(r))


def _cholesky(u: np.ndarray) -> np.ndarray:
    corr = np.nan_to_num(np.corrcoef(u, rowvar=False))
    return np.linalg.cholesky(corr + 1e-6 * np.eye(len(corr)))


def layer_moment_matched(showers: np.ndarray, energies_gev: np.ndarray, reference_showers: np.ndarray,
                         reference_energies_gev: np.ndarray) -> np.ndarray:
    """Showers (N, 25, 25, 25) GeV whose y = ln(layer energy + :data:`LAYER_ENERGY_FLOOR_GEV`) take the
    reference's distribution: per layer, y's mean and standard deviation are fitted as quadratics in
    ln(E_p / 100 GeV) in both samples; the model's standardised residuals, as normal scores u, become
    L_ref L_model^-1 u (L: Cholesky factors of the score correlations between layers), then the reference's
    residual quantiles at those scores (a Gaussian copula: the reference's marginals and correlations).
    Each layer's cells are scaled by one factor, then the shower by one so that its total energy is kept.
    ``reference_*``: a sample other than the one the result is judged against (the reference's
    moments must not come from the thing they help judge)."""
    showers = np.asarray(showers)
    if showers.ndim != 4 or np.asarray(reference_showers).ndim != 4:
        raise ValueError(f"showers must be (N, x, y, layer), got {showers.shape} and {np.shape(reference_showers)}")
    if len(energies_gev) != len(showers) or len(reference_energies_gev) != len(reference_showers):
        raise ValueError("one primary energy per shower expected")
    n_layers = showers.shape[-1]
    if len(showers) <= n_layers or len(reference_showers) <= n_layers:
        raise ValueError(f"need more showers than layers ({n_layers}): {len(showers)} model, "
                         f"{len(reference_showers)} reference")

    def log_layers(s):
        return np.log(np.asarray(s, np.float64).sum(axis=(1, 2)) + LAYER_ENERGY_FLOOR_GEV)

    own = log_layers(showers)
    u = _normal_scores(_standardised(own, energies_gev)[0])
    r_ref, mean_ref, ln_var_ref = _standardised(log_layers(reference_showers), reference_energies_gev)
    u_new = u @ np.linalg.inv(_cholesky(u)).T @ _cholesky(_normal_scores(r_ref)).T
    levels = special.ndtr(u_new)
    r_new = np.stack([np.quantile(r_ref[:, k], levels[:, k]) for k in range(n_layers)], axis=1)
    x = _design(energies_gev)
    target = x @ mean_ref + np.exp(0.5 * x @ ln_var_ref) * r_new
    layer_energy = np.exp(own) - LAYER_ENERGY_FLOOR_GEV
    factor = np.divide(np.clip(np.exp(target) - LAYER_ENERGY_FLOOR_GEV, 0.0, None), layer_energy,
                       out=np.zeros_like(layer_energy), where=layer_energy > 0)
    out = showers * factor[:, None, None, :]
    total, new_total = showers.sum(axis=(1, 2, 3), dtype=np.float64), out.sum(axis=(1, 2, 3), dtype=np.float64)
    keep = np.divide(total, new_total, out=np.zeros_like(total), where=new_total > 0)
    return (out * keep[:, None, None, None]).astype(showers.dtype)
