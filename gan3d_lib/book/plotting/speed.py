"""Figures of chapters 3 and 4 and of the claims page: artefacts' metrics, searches, throughput, roofline, claims."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

__all__ = ["plot_metric_by_artefact", "plot_throughput_vs_batch", "plot_stream_sweep", "plot_roofline_fractions",
           "plot_search_trials", "plot_claims", "plot_op_profiles"]


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
    (``rows`` from :func:`gan3d_lib.speed.roofline`), coloured by arithmetic."""
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


def plot_op_profiles(groups: Mapping[str, Sequence[Mapping]], *, top: int = 6) -> Figure:
    """One panel per group ({title: [profiles.op_profile results]}): a stacked horizontal bar per
    profile of the milliseconds per batch in each op type (the ``top`` largest of the group,
    the rest as 'other'); skipped profiles are left out."""
    fig, axes = plt.subplots(len(groups), 1, figsize=(10, 1.2 + 1.5 * sum(len(v) for v in groups.values())),
                             squeeze=False)
    for ax, (title, profiles) in zip(axes[:, 0], groups.items()):
        shown = [p for p in profiles if "skipped" not in p]
        totals: dict[str, float] = {}
        for p in shown:
            for o in p["ops"]:
                totals[o["op"]] = totals.get(o["op"], 0.0) + o["ms"]
        kinds = sorted(totals, key=lambda k: -totals[k])[:top]
        labels = [f"{Path(p['artefact']).parent.name}/{Path(p['artefact']).name}" for p in shown]
        left = np.zeros(len(shown))
        for i, kind in enumerate([*kinds, "other"]):
            widths = np.array([sum(o["ms"] for o in p["ops"] if (o["op"] == kind if kind != "other" else o["op"] not in kinds))
                               for p in shown])
            ax.barh(range(len(shown)), widths, left=left, color=f"C{i % 10}", label=kind)
            left += widths
        ax.set_yticks(range(len(shown)), labels, fontsize=9)
        ax.invert_yaxis()
        batch = shown[0]["batch_size"] if shown else "?"
        ax.set_xlabel(f"ms per batch of {batch}")
        ax.set_title(title, fontsize=11)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
