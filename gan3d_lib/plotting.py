"""HEP-style figures of showers and their observables. Draws only; computes no physics.

Every function returns a matplotlib ``Figure``; axes carry units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import mplhep
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch

__all__ = ["use_style", "plot_shower_projections", "plot_profiles_with_ratio", "plot_sampling_fraction",
           "plot_geant4_comparison", "plot_cell_energy_spectrum", "plot_training_history",
           "plot_metric_by_artefact", "plot_search_trials", "plot_facts_ratios", "plot_throughput_vs_batch", "plot_stream_sweep",
           "plot_roofline_fractions"]


def use_style() -> None:
    """Apply the mplhep ROOT-like style used by every figure in the book."""
    plt.style.use(mplhep.style.ROOT)
    plt.rcParams.update({"figure.dpi": 90, "savefig.dpi": 110, "font.size": 13,
                         "axes.labelsize": 13, "legend.fontsize": 11})


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


def plot_metric_by_artefact(rows: Sequence[Mapping[str, float]], *, fp32: float, floor: float | None = None) -> Figure:
    """Horizontal bars of ``rows[i]['mse']`` (shower-shape MSE in %^2) per ``rows[i]['label']``,
    with the FP32 value and the Monte Carlo-versus-Monte Carlo floor as vertical lines."""
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(rows) + 1.8))
    labels = [r["label"] for r in rows]
    values = [r["mse"] for r in rows]
    ax.barh(range(len(rows)), values, color=["C0" if "int8" in lab.lower() else "C1" for lab in labels])
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.axvline(fp32, color="k", ls="--", label="FP32")
    ax.axvline(1.1 * fp32, color="k", ls=":", label="1.1 x FP32")
    if floor is not None:
        ax.axvline(floor, color="C2", ls="-.", label="MC vs MC floor")
    ax.set_xlabel(r"shower-shape MSE against Monte Carlo [%$^2$]")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def _artefact_name(record: Mapping) -> str:
    return f"{record['model']} {record['size']} {Path(record['artefact']).name}"


def plot_throughput_vs_batch(records: Sequence[Mapping]) -> Figure:
    """Showers/s against batch size (log-log), one line per artefact, one panel per model size.

    ``records``: :func:`gan3d_lib.bench.run_streams` output; skipped points are left out.
    """
    ok = [r for r in records if r["status"] == "ok"]
    sizes = list(dict.fromkeys(str(r["size"]) for r in ok))
    fig, axes = plt.subplots(1, len(sizes), figsize=(7.5 * len(sizes), 5.5), squeeze=False)
    for ax, size in zip(axes[0], sizes):
        names = list(dict.fromkeys(_artefact_name(r) for r in ok if str(r["size"]) == size))
        colors = plt.get_cmap("tab20").colors
        for i, name in enumerate(names):
            pts = sorted((r["batch_size"], r["showers_per_s"]) for r in ok if _artefact_name(r) == name)
            style = "-" if "int8" in name or "dynamic" in name else "--"
            ax.plot(*zip(*pts), style, marker="osD^v<>ph*"[i % 10], color=colors[(2 * i) % 20 + (i // 10) % 2],
                    label=name.split(" ", 2)[-1] if name.startswith("conv2d") else name)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size [showers]")
        ax.set_ylabel("throughput [showers/s]")
        ax.set_title(f"{size} generators", fontsize=13)
        ax.legend(fontsize=9, ncol=2)
    fig.tight_layout()
    return fig


def plot_stream_sweep(records: Sequence[Mapping]) -> Figure:
    """Aggregate showers/s per (streams x threads) configuration, grouped by batch size."""
    ok = [r for r in records if r["status"] == "ok"]
    configs = list(dict.fromkeys((r["streams"], r["threads_per_stream"]) for r in ok))
    batches = sorted({r["batch_size"] for r in ok})
    fig, ax = plt.subplots(figsize=(8, 5))
    width = 0.8 / len(configs)
    for i, (n, m) in enumerate(configs):
        y = [next((r["showers_per_s"] for r in ok if r["batch_size"] == b and (r["streams"], r["threads_per_stream"]) == (n, m)),
                  np.nan) for b in batches]
        ax.bar(np.arange(len(batches)) + (i - (len(configs) - 1) / 2) * width, y, width,
               label=f"{n} stream{'s' if n > 1 else ''} x {m} thread{'s' if m > 1 else ''}")
    ax.set_xticks(range(len(batches)), [str(b) for b in batches])
    ax.set_xlabel("batch size per stream [showers]")
    ax.set_ylabel("aggregate throughput [showers/s]")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_roofline_fractions(rows: Sequence[Mapping]) -> Figure:
    """Fraction of the CPU's peak multiply-accumulates per second reached by each artefact
    (``rows`` from :func:`gan3d_lib.roofline.roofline`), coloured by arithmetic."""
    rows = [r for r in rows if r["fraction_of_peak"] is not None]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.8))
    colors = {"fp32": "C1", "int8": "C0", "bf16": "C2"}
    ax.barh(range(len(rows)), [100 * r["fraction_of_peak"] for r in rows], color=[colors[r["arithmetic"]] for r in rows])
    ax.set_yticks(range(len(rows)), [f"{_artefact_name(r)} (batch {r['batch_size']})" for r in rows], fontsize=10)
    ax.invert_yaxis()
    kinds = [k for k in colors if any(r["arithmetic"] == k for r in rows)]
    ax.set_xlabel("achieved / peak multiply-accumulates per second [%]")
    ax.legend([Patch(color=colors[k]) for k in kinds], [f"{k.upper()} arithmetic" for k in kinds], loc="lower right")
    fig.tight_layout()
    return fig


def plot_search_trials(search: Mapping, *, title: str = "") -> Figure:
    """An INT8 search (:meth:`int8_search.SearchResult.to_dict`): left, each layer's worst gate
    ratio when it alone is INT8 (its sensitivity); right, every judged candidate's worst gate
    ratio against the layers it keeps in FP32 (stars: passed the full gate, with showers/s)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [1, 1.3]})
    sens = search["sensitivity"]
    names = sorted(sens, key=lambda k: sens[k])
    left.barh(range(len(names)), [max(sens[k], 1e-3) for k in names], color="C0")
    left.set_yticks(range(len(names)), names, fontsize=6)
    left.set_xscale("log")
    left.axvline(1.0, color="k", ls=":", lw=1)
    left.set_xlabel("worst gate ratio, this layer alone in INT8 [1 = limit]")
    trials = [t for t in search["trials"] if t["phase"] != "sensitivity"]
    for full, marker, label in ((False, "o", "quick screen"), (True, "s", "full gate")):
        pts = [t for t in trials if t["full_gate"] == full]
        right.scatter([t["n_fp32_layers"] for t in pts], [max(t["worst_ratio"], 1e-3) for t in pts], marker=marker,
                      facecolors="none" if not full else "C1", edgecolors="C1", label=label)
    timings = {int(k): v for k, v in search["timings"].items()}
    for k, rate in timings.items():
        t = search["trials"][k]
        right.plot(t["n_fp32_layers"], max(t["worst_ratio"], 1e-3), "*", ms=16, color="C3")
        right.annotate(f"{rate:.0f}/s", (t["n_fp32_layers"], max(t["worst_ratio"], 1e-3)), textcoords="offset points",
                       xytext=(6, 6), fontsize=8)
    right.axhline(1.0, color="k", ls=":", lw=1, label="gate limit")
    right.set_yscale("log")
    right.set_xlabel("layers kept in FP32")
    right.xaxis.get_major_locator().set_params(integer=True)
    right.set_ylabel("worst gate ratio [1 = limit]")
    right.legend(fontsize=8, title="stars: passed (showers/s)" if timings else "no candidate passed", title_fontsize=8)
    if title:
        fig.suptitle(title)
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


def plot_claims(rows: Sequence[Mapping], *, tolerance: float) -> Figure:
    """Measured / claimed per study claim (:func:`claims.claim_verdicts` rows with both numbers),
    log scale, with the reproduction band [tolerance, 1 / tolerance] shaded."""
    sel = [r for r in rows if r.get("measured") and r.get("unit") in ("x", "ratio")]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(sel) + 1.2))
    if not sel:
        ax.text(0.5, 0.5, "no claim measured on this machine", ha="center", va="center", transform=ax.transAxes)
        return fig
    y = np.arange(len(sel))
    ratios = [r["measured"] / r["value"] for r in sel]
    ax.barh(y, ratios, color=["C2" if r["verdict"].startswith(("reproduced", "same order")) else "C3" for r in sel])
    ax.axvspan(tolerance, 1 / tolerance, color="0.88", zorder=0)
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(y, [r["quantity"] for r in sel], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("measured here / study's value")
    fig.tight_layout()
    return fig

# --- physics validation (chapter 5) ------------------------------------------------------------
__all__ += ["plot_facts_against_reference", "plot_claims"]
__all__ += ["plot_shower_shapes_by_artefact", "plot_sampling_fraction_by_artefact", "plot_feature_distributions",
            "plot_cell_energy_spectra_by_artefact", "plot_separation_power_heatmap", "plot_scores_by_artefact"]

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
