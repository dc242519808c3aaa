"""Figures of the physics validation (chapter 5): every artefact against a reference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

__all__ = ["plot_shower_shapes_by_artefact", "plot_sampling_fraction_by_artefact", "plot_feature_distributions",
           "plot_cell_energy_spectra_by_artefact", "plot_separation_power_heatmap", "plot_scores_by_artefact",
           "plot_single_feature_aucs"]


_AXIS_LABELS = {"x": "x [cell]", "y": "y [cell]", "z": "layer"}


def _styles(labels: Sequence[str], reference: str) -> dict[str, dict]:
    """Reference in thick black, the others in distinct tab10 colours."""
    cmap = plt.get_cmap("tab10")
    others = [lab for lab in labels if lab != reference]
    out = {lab: {"color": cmap(i % 10), "lw": 1.3} for i, lab in enumerate(others)}
    out[reference] = {"color": "k", "lw": 2.2, "zorder": 5}
    return out


def plot_shower_shapes_by_artefact(
    shapes: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]], *, reference: str
) -> Figure:
    """Mean normalised shower shapes along x, y and z, one curve per sample, with ratio panels.

    Args:
        shapes: label -> {'x' | 'y' | 'z': (mean fraction per slice (n,), its error (n,))}, e.g.
            from :func:`gan3d_lib.observables.normalised_profile_mean`.
        reference: label of the ratio panels' denominator (the Monte Carlo).
    """
    fig, axes = plt.subplots(2, 3, figsize=(16, 6.5), sharex="col", gridspec_kw={"height_ratios": [3, 1], "hspace": 0.05})
    ref, styles = shapes[reference], _styles(list(shapes), reference)
    for col, axis in enumerate(("x", "y", "z")):
        ax, rax = axes[0, col], axes[1, col]
        den = np.asarray(ref[axis][0], dtype=float)
        for label, s in shapes.items():
            vals, errs = (np.asarray(a, dtype=float) for a in s[axis])
            x = np.arange(vals.shape[0])
            style = styles[label]
            ax.errorbar(x, vals, yerr=errs, drawstyle="steps-mid", label=label, **style)
            with np.errstate(divide="ignore", invalid="ignore"):
                rax.plot(x, vals / den, drawstyle="steps-mid", **style)
        ax.set_yscale("log")
        ax.set_ylabel("fraction of shower energy")
        rax.axhline(1.0, color="grey", lw=0.8)
        rax.set_ylim(0.0, 2.0)
        rax.set_ylabel(f"ratio to\n{reference}", fontsize=10)
        rax.set_xlabel(_AXIS_LABELS[axis])
    axes[0, 2].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def plot_sampling_fraction_by_artefact(binned: Mapping[str, Mapping[str, np.ndarray]], *, reference: str) -> Figure:
    """Mean sampling fraction E_cal/E_p against E_p per sample, with a ratio panel.

    Args:
        binned: label -> output of :func:`gan3d_lib.observables.binned_response`.
        reference: label of the ratio panel's denominator (the Monte Carlo).
    """
    fig, (ax, rax) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.05})
    den = np.asarray(binned[reference]["sampling_fraction"], dtype=float)
    styles = _styles(list(binned), reference)
    for label, b in binned.items():
        style = {**styles[label], "marker": "s" if label == reference else "o"}
        ax.errorbar(b["energy_gev"], 100 * np.asarray(b["sampling_fraction"]), yerr=100 * np.asarray(b["sampling_fraction_err"]),
                    ms=4, label=label, **style)
        rax.plot(b["energy_gev"], np.asarray(b["sampling_fraction"]) / den, ms=3, **style)
    ax.set_ylabel("sampling fraction $E_{cal}/E_p$ [%]")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    rax.axhline(1.0, color="grey", lw=0.8)
    rax.set_ylabel(f"ratio to\n{reference}", fontsize=10)
    rax.set_xlabel("primary energy $E_p$ [GeV]")
    return fig


def plot_feature_distributions(
    samples: Mapping[str, Mapping[str, np.ndarray]], xlabels: Mapping[str, str], *, reference: str, n_bins: int = 40
) -> Figure:
    """Normalised histograms of per-shower features, one panel per feature in ``xlabels``
    (name -> axis label with unit), bins spanning every sample's 0.1-99.9 % range."""
    n = len(xlabels)
    ncol = min(n, 4)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.6 * nrow), squeeze=False)
    styles = _styles(list(samples), reference)
    for ax, (name, xlabel) in zip(axes.flat, xlabels.items()):
        ranges = np.array([np.nanpercentile(np.asarray(f[name], dtype=float), [0.1, 99.9]) for f in samples.values()])
        lo, hi = float(ranges[:, 0].min()), float(ranges[:, 1].max())
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, n_bins + 1)
        for label, feats in samples.items():
            vals = np.asarray(feats[name], dtype=float)
            vals = np.clip(vals[np.isfinite(vals)], edges[0], edges[-1])  # out-of-range values in the edge bins
            ax.hist(vals, bins=edges, density=True, histtype="step", label=label, **styles[label])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("showers (normalised)")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_cell_energy_spectra_by_artefact(spectra: Mapping[str, tuple[np.ndarray, np.ndarray]], *,
                                         reference: str) -> Figure:
    """Cell-energy spectra (label -> (cells per shower per bin, bin edges in GeV)) with a
    ratio panel to ``reference``."""
    fig, (ax, rax) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.05})
    den = np.asarray(spectra[reference][0], dtype=float)
    styles = _styles(list(spectra), reference)
    for label, (counts, edges) in spectra.items():
        ax.stairs(counts, edges, label=label, **styles[label])
        with np.errstate(divide="ignore", invalid="ignore"):
            rax.stairs(np.asarray(counts, dtype=float) / den, edges, **styles[label])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylabel("cells per shower per bin")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    rax.axhline(1.0, color="grey", lw=0.8)
    rax.set_ylim(0.0, 3.0)
    rax.set_ylabel(f"ratio to\n{reference}", fontsize=10)
    rax.set_xlabel("cell energy [GeV]")
    return fig


def plot_separation_power_heatmap(values: np.ndarray, features: Sequence[str], columns: Sequence[str]) -> Figure:
    """Separation power (0 identical, 1 disjoint) of each feature (rows) for each comparison
    (columns), colour on a log scale, numbers written in the cells; NaN cells left blank."""
    v = np.asarray(values, dtype=float)
    if v.shape != (len(features), len(columns)):
        raise ValueError(f"values {v.shape} do not match {len(features)} features x {len(columns)} columns")
    fig, ax = plt.subplots(figsize=(1.05 * len(columns) + 3.5, 0.32 * len(features) + 2.2))
    finite = v[np.isfinite(v) & (v > 0)]
    vmin = max(float(finite.min()), 1e-4) if finite.size else 1e-4
    m = ax.imshow(np.clip(v, vmin, 1.0), aspect="auto", cmap="viridis", norm=LogNorm(vmin, 1.0))
    for (r, c), val in np.ndenumerate(v):
        if np.isfinite(val):
            ax.text(c, r, f"{val:.2f}" if val >= 0.01 else f"{val:.0e}", ha="center", va="center", fontsize=6.5,
                    color="w" if val < np.sqrt(vmin) else "k")
    ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right", fontsize=9)
    ax.set_yticks(range(len(features)), features, fontsize=8)
    ax.tick_params(which="both", length=0)
    fig.colorbar(m, ax=ax, label="separation power [0-1]")
    fig.tight_layout()
    return fig


def plot_scores_by_artefact(
    labels: Sequence[str],
    series: Mapping[str, tuple[Sequence[float | None], Sequence[float | None]]],
    *,
    xlabel: str,
    floors: Mapping[str, tuple[float, float]] | None = None,
    floor_label: str = "MC vs MC",
    logx: bool = False,
) -> Figure:
    """One row per artefact: each series' value with its error (None: not run), and per
    series the floor (by default Monte Carlo versus Monte Carlo) as a line with a +-1 error band.

    Args:
        series: name -> (values, errors), one entry per label.
        floors: name -> (floor value, its error).
    """
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(labels) + 2.0))
    y = np.arange(len(labels), dtype=float)
    k = len(series)
    for i, (name, (vals, errs)) in enumerate(series.items()):
        vals = np.array([np.nan if v is None else v for v in vals], dtype=float)
        errs = np.array([np.nan if e is None else e for e in errs], dtype=float)
        off = (i - (k - 1) / 2) * 0.18
        ax.errorbar(vals, y + off, xerr=np.nan_to_num(errs), fmt="o", color=f"C{i}", ms=5, capsize=2, label=name)
        if floors and name in floors:
            fv, fe = floors[name]
            ax.axvline(fv, color=f"C{i}", ls="--", lw=1, label=f"{name}: {floor_label}")
            ax.axvspan(fv - fe, fv + fe, color=f"C{i}", alpha=0.12, lw=0)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def plot_single_feature_aucs(aucs: Mapping[str, Mapping[str, float]], *, top: int = 12) -> Figure:
    """Horizontal bars of the held-out AUC of a classifier given E_p and one feature, for the
    ``top`` features that separate best in the first sample of ``aucs`` ({sample: {feature:
    AUC}}), every sample's bar beside the others'; 0.5 (no separation) marked."""
    first = next(iter(aucs.values()))
    names = sorted(first, key=first.get, reverse=True)[:top][::-1]
    fig, ax = plt.subplots(figsize=(6.4, 0.3 * len(names) * max(len(aucs), 1) + 1.6))
    height = 0.8 / len(aucs)
    for i, (label, values) in enumerate(aucs.items()):
        ax.barh(np.arange(len(names)) + (i - (len(aucs) - 1) / 2) * height, [values[n] for n in names],
                height=height, label=label)
    ax.axvline(0.5, color="k", lw=1, ls="--", label="indistinguishable")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlim(0.4, 1.0)
    ax.set_xlabel("held-out ROC AUC [0.5-1] given E_p and one feature")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig
