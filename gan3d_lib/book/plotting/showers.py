"""Figures of showers, their observables and the Monte Carlo against Geant4 (chapters 1 and 2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

__all__ = ["plot_shower_projections", "plot_profiles_with_ratio", "plot_sampling_fraction", "plot_geant4_comparison",
           "plot_cell_energy_spectrum", "plot_training_history", "plot_facts_ratios", "plot_facts_against_reference"]


def plot_shower_projections(
    showers: Sequence[np.ndarray], titles: Sequence[str], *, vmin_gev: float = 1e-5
) -> Figure:
    """One row per shower: energy summed over depth (x-y), over y (x-z) and over x (y-z).

    Args:
        showers: each (x, y, depth) cell energies in GeV.
        titles: one title per shower (e.g. the primary energy).
    """
    fig, axes = plt.subplots(len(showers), 3, figsize=(13, 3.8 * len(showers)), squeeze=False)
    specs = [((2,), "x [cell]", "y [cell]"), ((1,), "x [cell]", "layer"), ((0,), "y [cell]", "layer")]
    for row, (shower, title) in enumerate(zip(showers, titles)):
        for col, (axis, xl, yl) in enumerate(specs):
            img = np.asarray(shower).sum(axis=axis[0])
            vmax = max(float(img.max()), vmin_gev * 10)
            ax = axes[row, col]
            m = ax.imshow(np.clip(img.T, vmin_gev, None), origin="lower", norm=LogNorm(vmin_gev, vmax), cmap="viridis",
                          aspect="auto")
            ax.set_xlabel(xl)
            ax.set_ylabel(yl)
            ax.set_title(title if col == 0 else "", loc="left", fontsize=12)
            fig.colorbar(m, ax=ax, label="energy [GeV]")
    fig.tight_layout()
    return fig


def plot_profiles_with_ratio(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray | None]],
    *,
    xlabel: str,
    ylabel: str,
    reference: str | None = None,
    logy: bool = True,
    title: str | None = None,
) -> Figure:
    """Profiles (mean and error per bin) with a ratio panel to ``reference``.

    Args:
        curves: label -> (values (n,), errors (n,) or None).
        reference: label of the denominator of the ratio panel (default: the first).
    """
    reference = reference or next(iter(curves))
    fig, (ax, rax) = plt.subplots(2, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.05})
    ref_vals = np.asarray(curves[reference][0], dtype=float)
    for label, (vals, errs) in curves.items():
        vals = np.asarray(vals, dtype=float)
        x = np.arange(vals.shape[0])
        ax.errorbar(x, vals, yerr=errs, label=label, drawstyle="steps-mid", capsize=0, lw=1.6)
        with np.errstate(divide="ignore", invalid="ignore"):
            rax.plot(x, vals / ref_vals, drawstyle="steps-mid", lw=1.4)
    if logy:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.legend()
    if title:
        ax.set_title(title, loc="left", fontsize=12)
    rax.axhline(1.0, color="grey", lw=0.8)
    rax.set_ylim(0.5, 1.5)
    rax.set_ylabel(f"ratio to\n{reference}", fontsize=10)
    rax.set_xlabel(xlabel)
    return fig


def plot_sampling_fraction(
    energies_gev: np.ndarray,
    sampling_fraction: np.ndarray,
    *,
    binned: Mapping[str, np.ndarray] | None = None,
    reference: Mapping[str, Sequence[float]] | None = None,
) -> Figure:
    """Sampling fraction E_cal/E_p vs E_p (scatter), with binned means and the resolution.

    Args:
        binned: output of :func:`gan3d_lib.observables.binned_response`.
        reference: {'energy_gev': [...], 'sampling_fraction': [...], 'label': ...} points.
    """
    fig, (ax, rax) = plt.subplots(1, 2, figsize=(13, 5))
    ax.scatter(energies_gev, 100 * np.asarray(sampling_fraction), s=3, alpha=0.3, color="grey", label="showers")
    if binned is not None:
        ax.errorbar(binned["energy_gev"], 100 * binned["sampling_fraction"], yerr=100 * binned["sampling_fraction_err"],
                    fmt="o", color="C0", label="Monte Carlo, bin mean")
        rax.plot(binned["energy_gev"], 100 * binned["resolution"], "o-", color="C0", label="Monte Carlo")
    if reference is not None:
        ax.plot(reference["energy_gev"], 100 * np.asarray(reference["sampling_fraction"]), "s", color="C3",
                label=reference.get("label", "reference"))
    ax.set_xlabel("primary energy $E_p$ [GeV]")
    ax.set_ylabel("sampling fraction $E_{cal}/E_p$ [%]")
    ax.legend()
    rax.set_xlabel("primary energy $E_p$ [GeV]")
    rax.set_ylabel(r"resolution $\sigma(E_{cal})/\langle E_{cal}\rangle$ [%]")
    rax.legend()
    fig.tight_layout()
    return fig


def plot_geant4_comparison(rows: Sequence[Mapping[str, float]]) -> Figure:
    """Three panels: sampling fraction, peak layer and cells hit, Monte Carlo vs Geant4."""
    e = [r["energy_gev"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    panels = [("sampling_fraction", 100.0, "sampling fraction [%]"), ("peak_layer", 1.0, "peak layer (0-based)"),
              ("cells_hit", 1.0, "Si cells hit")]
    for ax, (key, scale, label) in zip(axes, panels):
        ax.plot(e, [scale * r[f"{key}_geant4"] for r in rows], "s", color="C3", ms=8, label="Geant4 11.4")
        ax.plot(e, [scale * r[f"{key}_mc"] for r in rows], "o", color="C0", label="gan3d Monte Carlo")
        ax.set_xscale("log")
        ax.set_xlabel("primary energy [GeV]")
        ax.set_ylabel(label)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_cell_energy_spectrum(spectra: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> Figure:
    """Cell-energy spectra: label -> (counts per shower per bin, bin edges in GeV)."""
    fig, ax = plt.subplots(figsize=(8, 5))
    for label, (counts, edges) in spectra.items():
        ax.stairs(counts, edges, label=label, lw=1.6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("cell energy [GeV]")
    ax.set_ylabel("cells per shower per bin")
    ax.legend()
    return fig


def plot_training_history(history: Sequence[Mapping[str, float]], *, best_epoch: int | None = None) -> Figure:
    """Three panels per epoch: adversarial losses, the MAPE terms (%), and the validation
    metrics (shower-shape MSE in %^2, the per-energy-bin selection score where recorded,
    generated/MC sampling-fraction ratio)."""
    ep = [h["epoch"] for h in history]
    fig, (ax, mx, vx) = plt.subplots(1, 3, figsize=(16, 4.6))
    for key, label in (("d_bce", "discriminator BCE"), ("g_bce", "generator BCE")):
        ax.plot(ep, [h[key] for h in history], "o-", label=label)
    ax.set_ylabel("binary cross-entropy")
    for key, label in (("d_aux_mape", "D: E_p regression"), ("g_aux_mape", "G: E_p regression"),
                       ("g_ecal_mape", "G: total energy")):
        mx.plot(ep, [h[key] for h in history], "o-", label=label)
    mx.set_yscale("log")
    mx.set_ylabel("MAPE [%]")
    vx.plot(ep, [h["val_shower_shape_mse"] for h in history], "o-", color="C0", label="shower-shape MSE")
    if all("val_score" in h for h in history):
        vx.plot(ep, [h["val_score"] for h in history], "^-", color="C2", label="selection score")
    vx.set_yscale("log")
    vx.set_ylabel(r"shower-shape MSE [$\%^2$]")
    tx = vx.twinx()
    tx.plot(ep, [h["val_sampling_fraction_ratio"] for h in history], "s--", color="C3", label="SF ratio GAN/MC")
    tx.set_ylabel("sampling fraction GAN / MC", color="C3")
    if best_epoch is not None:
        vx.axvline(best_epoch, color="grey", ls=":", label="best epoch")
    for a in (ax, mx, vx):
        a.set_xlabel("epoch")
        a.legend(fontsize=10)
    fig.tight_layout()
    return fig


def plot_facts_ratios(rows: Sequence[Mapping], *, reference: str, samples: Sequence[str],
                      labels: Mapping[str, str]) -> Figure:
    """One panel per shower fact (:func:`shower_facts.facts_table` rows): each sample's value
    over the reference's against the primary energy, a band of +-10 % around 1."""
    facts = list(dict.fromkeys(r["fact"] for r in rows))
    ncol = 5
    fig, axes = plt.subplots(-(-len(facts) // ncol), ncol, figsize=(14, 2.8 * -(-len(facts) // ncol)), sharex=True,
                             squeeze=False)
    for ax, fact in zip(axes.flat, facts):
        sel = [r for r in rows if r["fact"] == fact]
        for k, name in enumerate(samples):
            pts = [(r["energy_gev"], r[f"{name}/{reference}"]) for r in sel if f"{name}/{reference}" in r]
            if pts:
                ax.plot(*zip(*pts), "o-", color=f"C{k}", label=name)
        ax.axhline(1.0, color="k", lw=1)
        ax.axhspan(0.9, 1.1, color="0.9", zorder=0)
        ax.set_xscale("log")
        ax.set_title(labels.get(fact, fact), fontsize=9)
    for ax in axes.flat[len(facts):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("primary energy [GeV]")
    for ax in axes[:, 0]:
        ax.set_ylabel(f"ratio to {reference}")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    return fig



def plot_facts_against_reference(rows: Sequence[Mapping], *, reference: str, samples: Sequence[str],
                                 labels: Mapping[str, str], goals: Mapping[str, tuple[str, float]] | None = None) -> Figure:
    """Per shower fact (:func:`shower_facts.facts_table` rows): the reference as points and each
    sample as a curve against the primary energy, and beneath it the ratio to the reference with
    the goal band (``goals``: fact -> ('relative', tol) or ('absolute', tol), as
    :data:`mc_tuning.TOLERANCES`; absolute goals are drawn as tol / reference value)."""
    facts = list(dict.fromkeys(r["fact"] for r in rows))
    ncol = 5
    nrow = -(-len(facts) // ncol)
    fig = plt.figure(figsize=(15, 4.2 * nrow))
    grid = fig.add_gridspec(2 * nrow, ncol, height_ratios=[3, 1.3] * nrow, hspace=0.08, wspace=0.35)
    for i, fact in enumerate(facts):
        r0, c = 2 * (i // ncol), i % ncol
        top = fig.add_subplot(grid[r0, c])
        bottom = fig.add_subplot(grid[r0 + 1, c], sharex=top)
        sel = sorted((r for r in rows if r["fact"] == fact), key=lambda r: r["energy_gev"])
        e = [r["energy_gev"] for r in sel]
        top.plot(e, [r[reference] for r in sel], "ko", label=reference)
        if goals and fact in goals:
            kind, tol = goals[fact]
            band = [tol / r[reference] if kind == "absolute" else tol for r in sel]
            bottom.fill_between(e, [1 - b for b in band], [1 + b for b in band], color="0.88", zorder=0, label="goal")
        for k, name in enumerate(samples):
            pts = [(r["energy_gev"], r[name], r[f"{name}/{reference}"]) for r in sel if name in r]
            if pts:
                xs, vals, ratios = zip(*pts)
                top.plot(xs, vals, "-", color=f"C{k}", label=name)
                bottom.plot(xs, ratios, "-", color=f"C{k}")
        bottom.axhline(1.0, color="k", lw=0.8)
        top.set_xscale("log")
        top.set_title(labels.get(fact, fact), fontsize=9)
        top.tick_params(labelbottom=False)
        bottom.set_xlabel("primary energy [GeV]")
        if c == 0:
            bottom.set_ylabel(f"/ {reference}")
        if i == 0:
            top.legend(fontsize=8)
    return fig
