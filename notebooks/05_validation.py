# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Physics validation
#
# ## Overview
#
# Chapter 3 scored every reduced-precision generator by one number, the shower-shape MSE of
# the mean shapes. A physicist in 2025 asks for more: distributions rather than means, per
# energy bin, and tests that look at whole showers. This chapter validates every artefact
# of chapter 3 the way the CaloChallenge (2022-2024) validated fast calorimeter simulations:
#
# 1. shower shapes along x, y and depth, the sampling fraction against the primary energy,
#    the shower moments, the number of hits and the cell-energy spectrum;
# 2. the **separation power** of the histogram of each of 33 per-shower features, and of
#    the cell-energy spectrum (0: identical, 1: disjoint);
# 3. a **classifier two-sample test**: a boosted-tree classifier learns to tell the
#    generator's showers from the Monte Carlo's, on the cells (low level) and on the
#    features (high level); its ROC AUC on held-out showers is 0.5 for indistinguishable
#    samples and 1 for separable ones;
# 4. the **Fréchet and kernel physics distances** (FPD, KPD) of the features;
# 5. all of it overall and per primary-energy bin, against the Monte Carlo and against the
#    FP32 generator, each with the value two samples of the same distribution give (the
#    floor).
#
# ## Prerequisites
#
# | concept | importance |
# |---|---|
# | chapter 3 (the artefacts; this chapter reads them) | necessary |
# | chapter 1 (observables, the Monte Carlo) | helpful |
# | ROC curves, two-sample tests | helpful |
#
# **Time to run:** about 2 minutes at `ci`, 10 at `default`, on 2 CPU cores.
# **Hardware:** CPU only; INC INT8 artefacts run only on CPUs with AVX-512.

# %% tags=["parameters"]
preset = "default"  # ci for tests, default for the published book
n_eval = 0  # held-out Monte Carlo showers; every artefact generates as many, 0 takes the preset value
n_bootstrap = 0  # resamplings of the held-out showers for the classifier errors, 0 takes the preset value
seed = 1  # seed of every random draw in this chapter
artefacts_dir = "data/artefacts"  # artefact folders written by chapter 3
mc_tuning = "fitted"  # Monte Carlo the generator is judged against, the one it learned from (gan3d_lib.data.mc_tuning.TUNINGS)
reference_path = ""  # CERN EleEscan h5 file or glob pattern to judge against (Geant4), empty for the embedded Monte Carlo
results_dir = "results"  # where results/05_validation.json is written

# %% tags=["hide-input"]
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from myst_nb import glue

from gan3d_lib.core import markdown_table, read_results, write_results
from gan3d_lib.physics import (GENERATOR_GOALS, HITS_THRESHOLD_GEV, facts_by_energy_bin, goal_rows, observables as
                               obs)
from gan3d_lib.data import ensure_mc_dataset, named_tuning, read_showers, ShowerSimulator
from gan3d_lib.validation import validation
from gan3d_lib.precision import artefact_names, gate, load_artefact, summarise, validate_artefacts
from gan3d_lib.book import (conclusion_text, fp32_row, gate_verdicts, goal_table, one_line_errors, per_bin_rows, plotting,
                            presets, score_row, status_rows)

params = presets.resolve("05_validation", preset, n_eval=n_eval, n_bootstrap=n_bootstrap)
plotting.use_style()
one_line_errors()
results: dict = {}
root = Path(artefacts_dir) / "conv2d_lite"
nb = params["n_bootstrap"]
if reference_path:  # read (and so checked) here: a bad file stops the chapter with the reader's one line
    reference_showers, reference_energies = read_showers(reference_path, max_showers=2 * params["n_eval"])

# %% [markdown]
# ## The samples
#
# By default the reference is a held-out Monte Carlo sample, primary energies uniform in
# 2-500 GeV as in the CERN files, from a seed no training or tuning run used, and a second,
# independent Monte Carlo sample of the same size gives the floor of every metric. With
# `reference_path` (the reader's CERN-layout files, Geant4 for instance) the first half of
# the showers read is the reference and the second half the floor's twin. Every artefact
# generates showers for exactly the reference's primary energies, all with the same latent
# vectors. This run judges against {glue:text}`reference_label`.

# %%
if reference_path:
    n = len(reference_energies) // 2
    if n < 2:
        raise ValueError(f"{reference_path}: {len(reference_energies)} showers, the chapter needs at least 4")
    mc = validation.prepare(reference_showers[:n], reference_energies[:n])
    twin = validation.prepare(reference_showers[n:2 * n], reference_energies[n:2 * n])
    reference_label = f"{n} showers of {reference_path} (the floor: the next {n})"
    del reference_showers, reference_energies
else:
    n = params["n_eval"]
    mc_sim = ShowerSimulator(tuning=named_tuning(mc_tuning))
    mc = validation.prepare(*read_showers(ensure_mc_dataset(Path("data/mc") / f"ch5_eval_seed{seed}_n{n}.h5", n,
                                                            seed=seed + 500, simulator=mc_sim, progress=False)))
    twin = validation.prepare(*read_showers(ensure_mc_dataset(Path("data/mc") / f"ch5_twin_seed{seed}_n{n}.h5", n,
                                                              seed=seed + 501, simulator=mc_sim, progress=False)))
    reference_label = f"{n} Monte Carlo showers ('{mc_tuning}' tuning, seed {seed + 500}; the floor: seed {seed + 501})"
glue("reference_label", reference_label, display=False)
results["reference"] = {"source": reference_path or "monte-carlo", "label": reference_label, "n_showers": n}
energies = mc.energies_gev.astype(np.float32)
bin_labels = obs.energy_bin_labels(obs.DEFAULT_ENERGY_BINS_GEV)
counts = np.bincount(obs.energy_bin_index(mc.energies_gev, obs.DEFAULT_ENERGY_BINS_GEV), minlength=len(bin_labels))
display(Markdown(markdown_table([{"bin": b, "n": int(c)} for b, c in zip(bin_labels, counts)],
                                {"bin": "primary energy", "n": "Monte Carlo showers"})))
glue("n_eval", n, display=False)
glue("hits_threshold_mev", 1e3 * HITS_THRESHOLD_GEV, display=False)
results["n_eval"] = n
results["showers_per_energy_bin"] = dict(zip(bin_labels, counts.tolist()))

# %% [markdown]
# Per shower the chapter uses 33 features: the response $E_{cal}/E_p$, the fraction of the
# energy in each of the 25 layers, the energy-weighted centre and width in x, y (cells) and
# depth (layers), and the number of cells above {glue:text}`hits_threshold_mev:.2f` MeV,
# half the energy a minimum-ionising particle leaves in a silicon layer.
#
# ## Generating with every artefact
#
# Each artefact is compared with the Monte Carlo and, for all but FP32 itself, with the
# FP32 generator's showers from the same latent vectors. An artefact whose runtime cannot run
# on this CPU is listed as skipped.

# %% tags=["remove-stderr"]
names = artefact_names(root)
v = validate_artefacts({k: root / k for k in names}, mc, seed=seed, n_bootstrap=nb, fp32="keras-fp32", summaries=True)
summaries = {"Monte Carlo": summarise(mc), **v.summaries}
run, skipped, same_as = v.run, v.skipped, v.same_as
vs_mc, vs_fp32, floor_fp32 = v.vs_reference, v.vs_fp32, v.floor_fp32
floor_mc = validation.monte_carlo_floor(mc, twin, seed=seed, n_bootstrap=nb)
display(Markdown(markdown_table(
    status_rows(v),
    {"name": "artefact", "backend": "backend", "diff": "largest cell difference to FP32 [GeV]", "status": "status"},
    {"diff": ".2g"})))
glue("n_artefacts_run", len(run), display=False)
glue("n_artefacts_skipped", len(skipped), display=False)
results["skipped"] = skipped
results["identical_to_fp32"] = v.identical_to_fp32
results["same_showers_as"] = same_as
results["max_cell_difference_to_fp32_gev"] = v.max_diff

# %% [markdown]
# An artefact that produces exactly the showers of another (an FP32 export of the Keras
# generator, a tuned INT8 model whose tuning kept no op in FP32) has, by construction, the
# same numbers below. The figures show the Monte Carlo, Keras FP32 and each reduced
# precision with showers of its own; the FP32 exports differ from Keras FP32 by the
# rounding in the table's third column.
#
# ## Shower shapes
#
# Mean shower shapes (each shower normalised to unit energy) along the two transverse axes
# and depth, with the ratio to the Monte Carlo:

# %%
shown = ["Monte Carlo", *v.with_own_showers()]  # FP32 exports: see the table above
plotting.plot_shower_shapes_by_artefact({k: summaries[k]["shapes"] for k in shown}, reference="Monte Carlo")
plt.show()

# %% [markdown]
# ## Shower facts per energy bin
#
# The per-shower facts of chapters 1 and 2 (`gan3d_lib.physics.shower_facts`) that chapter 2 holds
# the generator to, for the FP32 generator and the Monte Carlo in each energy bin:

# %%
fp32_showers = load_artefact(root / "keras-fp32").generate(energies, seed)
facts_rows = goal_rows(facts_by_energy_bin(fp32_showers, mc.energies_gev), facts_by_energy_bin(mc.showers, mc.energies_gev),
                       GENERATOR_GOALS)
display(Markdown(goal_table(facts_rows, "FP32 GAN")))
results["shower_facts_fp32_vs_mc"] = facts_rows
del fp32_showers

# %% [markdown]
# ## Sampling fraction against the primary energy
#
# Mean $E_{cal}/E_p$ in ten bins of $E_p$ (error bars: standard error of the mean):

# %%
plotting.plot_sampling_fraction_by_artefact({k: summaries[k]["binned"] for k in shown}, reference="Monte Carlo")
plt.show()

# %% [markdown]
# ## Moments, hits and the response
#
# Distributions of the shower moments, the number of hits and $E_{cal}/E_p$ over all
# energies:

# %%
moment_labels = {"etot_over_ep": "$E_{cal}/E_p$ [fraction]", "hits": "hits [cells]",
                 "x_centre": "x centre [cell]", "y_centre": "y centre [cell]", "z_centre": "depth centre [layer]",
                 "x_width": "x width [cell]", "y_width": "y width [cell]", "z_width": "depth width [layer]"}
plotting.plot_feature_distributions({k: summaries[k]["features"] for k in shown}, moment_labels,
                                    reference="Monte Carlo")
plt.show()

# %% [markdown]
# ## Cell-energy spectra
#
# Cells per shower in logarithmic bins of cell energy (all showers pooled). Quantization
# acts on every cell, so this is where a coarse INT8 grid would show first.

# %%
plotting.plot_cell_energy_spectra_by_artefact({k: summaries[k]["spectrum"] for k in shown}, reference="Monte Carlo")
plt.show()

# %% [markdown]
# ## Separation power
#
# For each feature, histograms of the artefact's and of the Monte Carlo's showers with the
# same bins ($\sqrt{N}$ equal bins over the Monte Carlo's range plus under- and overflow),
# each normalised to unit sum, and $S = \frac12 \sum_i (p_i - q_i)^2/(p_i + q_i)$. The first
# column, two Monte Carlo samples, is the floor: what {glue:text}`n_eval` showers give
# without any difference.

# %%
features = [*floor_mc["features"], "cell_energy"]
columns = ["MC vs MC", *run]
sep = np.array([[floor_mc["bins"]["all"]["separation_power"][f]] + [vs_mc[k]["bins"]["all"]["separation_power"][f]
                                                                     for k in run] for f in features], dtype=float)
plotting.plot_separation_power_heatmap(sep, features, columns)
plt.show()
sep_rows = [{"feature": f, **{c: sep[i, j] for j, c in enumerate(columns)}} for i, f in enumerate(features)]
display(Markdown(markdown_table(sep_rows, {"feature": "feature", **{c: c for c in columns}},
                                {c: ".3f" for c in columns})))
results["separation_power_all"] = {"columns": columns, "rows": sep_rows}

# %% [markdown]
# ## Classifier two-sample test
#
# A histogram gradient-boosted classifier (scikit-learn) is trained on 60 % of both samples,
# calibrated on 20 % and scored on the remaining 20 %: the AUC of its output and the
# CaloChallenge JSD estimate $(\ln 2 - \mathrm{BCE})/\ln 2$ of its calibrated probabilities
# (0: indistinguishable, 1: separable). Low-level inputs: $\log_{10} E_p$ and the cell
# energies divided by $E_p$, summed into 7 x 7 transverse cells (full resolution near the
# axis) in all 25 layers; high-level inputs: $\log_{10} E_p$ and the 33 features. Errors:
# standard deviation over {glue:text}`n_bootstrap` resamplings of the held-out showers.

# %%
glue("n_bootstrap", nb, display=False)
cls_rows = [score_row("MC vs MC (floor)", floor_mc)] + [score_row(k, vs_mc[k]) for k in run] + \
    [{"label": k, "auc_low": "skipped"} for k in skipped]
display(Markdown(markdown_table(cls_rows, {"label": "against the Monte Carlo", "auc_low": "AUC low-level",
                                           "auc_high": "AUC high-level", "jsd_low": "JSD low-level",
                                           "jsd_high": "JSD high-level"})))
fa = floor_mc["bins"]["all"]
plotting.plot_scores_by_artefact(
    run, {f"{kind}-level": ([vs_mc[k]["bins"]["all"][f"auc_{kind}"] for k in run],
                            [vs_mc[k]["bins"]["all"][f"auc_{kind}_err"] for k in run]) for kind in ("low", "high")},
    xlabel="classifier AUC against the Monte Carlo [0.5-1]",
    floors={f"{kind}-level": (fa[f"auc_{kind}"], fa[f"auc_{kind}_err"] or 0.0) for kind in ("low", "high")})
plt.show()

# %% [markdown]
# Chapter 2 takes the FP32 generator's high-level AUC apart, on its own sample: the AUC given $E_p$ and one group of
# features at a time, and again after the showers' layer energies are given an independent Monte Carlo sample's
# distribution (`gan3d_lib.validation.auc_breakdown`).

# %% [markdown]
# ## Fréchet and kernel physics distances
#
# FPD and KPD as defined by jetnet (arXiv:2211.10295) and used by the CaloChallenge, on the
# 33 features each divided by its largest absolute value in the Monte Carlo: FPD is the
# Fréchet distance of Gaussians fitted to the two feature sets, measured at several sample
# sizes and extrapolated linearly in $1/N$ to infinite $N$ (error: of the intercept); KPD
# is the unbiased squared maximum mean discrepancy with the kernel $(x\cdot y/d + 1)^4$,
# median over 10 resamplings (error: half the 68 % range), quoted $\times 10^3$. The
# mean separation power over the 33 features, the shower-shape MSE of chapter 3 and the
# ratio of the mean sampling fractions complete the table.

# %%
display(Markdown(markdown_table(cls_rows[:len(run) + 1],
                                {"label": "against the Monte Carlo", "fpd": "FPD", "kpd": "KPD x 1e3",
                                 "sep": "mean separation power", "mse": "shower-shape MSE [%^2]",
                                 "sf": "SF / SF(MC)"}, {"sep": ".3f", "mse": ".4g", "sf": ".4f"})))
plotting.plot_scores_by_artefact(
    run, {"FPD": ([vs_mc[k]["bins"]["all"]["fpd"] for k in run], [vs_mc[k]["bins"]["all"]["fpd_err"] for k in run])},
    xlabel="Fréchet physics distance to the Monte Carlo [normalised features]",
    floors={"FPD": (fa["fpd"], fa["fpd_err"] or 0.0)})
plt.show()
results["against_mc"] = {"floor": floor_mc, **vs_mc}

# %% [markdown]
# ## Definitions against CaloChallenge and jetnet
#
# To compare these numbers with published ones: the formulas are those of CaloChallenge's
# `evaluate.py` and of jetnet's `fpd`/`kpd`; the differences are of definition.
#
# * **Separation power**: $\sqrt{N}$ equal-width bins over the Monte Carlo's range plus an
#   underflow and an overflow bin here; `evaluate.py` uses fixed bins per observable and drops
#   entries outside them.
# * **Classifier JSD**: here the two classes are weighted equally within an energy bin whose
#   samples differ in size; `evaluate.py` scores unweighted test sets of equal size.
# * **Calibration**: Platt scaling (a logistic fit) of the classifier's output; `evaluate.py`
#   uses isotonic regression.
# * **FPD and KPD**: the same estimators, at this chapter's sample size ({glue:text}`n_eval`
#   showers; jetnet's defaults assume 50 000), so the FPD extrapolation to infinite N and the
#   KPD batch size differ; values are comparable between the columns of this chapter, and
#   to published ones only at the same sample size.

# %% [markdown]
# ## Per energy bin
#
# The same comparison within each primary-energy bin (the classifiers are trained on all
# energies and scored on each bin's held-out showers). Shower-shape MSE in %², the ratio of
# the mean sampling fractions, and the high-level AUC:

# %%
per_bin = {"shower_shape_mse": ("shower-shape MSE [%^2] against the Monte Carlo", ".3g"),
           "sampling_fraction_ratio": ("SF / SF(MC)", ".4f")}
by_bin = [("MC vs MC (floor)", floor_mc), *((k, vs_mc[k]) for k in run)]
for key, (title, fmt) in per_bin.items():
    display(Markdown(f"**{title}**\n\n" + markdown_table(per_bin_rows(by_bin, key, bin_labels),
                                                          {"label": "", **{b: b for b in bin_labels}},
                                                          {b: fmt for b in bin_labels})))
display(Markdown("**high-level AUC against the Monte Carlo**\n\n" + markdown_table(
    per_bin_rows(by_bin, "auc_high", bin_labels, err_key="auc_high_err"), {"label": "", **{b: b for b in bin_labels}})))

# %% [markdown]
# ## Against FP32
#
# The FP32 generator is far from the Monte Carlo (above), so a precision loss may hide in
# that gap. Comparing each artefact directly with the FP32 showers made from the same latent
# vectors isolates what the precision changes. The floor row compares FP32 with FP32 from
# other latent vectors: the size of statistical fluctuations at {glue:text}`n_eval`
# showers. An artefact that changes nothing shares FP32's fluctuations and reads AUC 0.5
# and separation power 0, below that floor.

# %%
reduced = [k for k in vs_fp32]
fp_rows = [fp32_row("FP32, other latents (floor)", floor_fp32)] + [fp32_row(k, vs_fp32[k]) for k in reduced]
display(Markdown(markdown_table(fp_rows, {"label": "against FP32", "auc_low": "AUC low-level",
                                          "auc_high": "AUC high-level", "sep": "mean separation power",
                                          "worst": "largest (feature)", "cell": "cell-energy spectrum",
                                          "fpd": "FPD", "sf": "SF / SF(FP32)"},
                                {"sep": ".4f", "cell": ".4f", "sf": ".5f"})))
ff = floor_fp32["bins"]["all"]
plotting.plot_scores_by_artefact(
    reduced, {f"{kind}-level": ([vs_fp32[k]["bins"]["all"][f"auc_{kind}"] for k in reduced],
                                [vs_fp32[k]["bins"]["all"][f"auc_{kind}_err"] for k in reduced]) for kind in ("low", "high")},
    xlabel="classifier AUC against FP32, same latent vectors [0.5-1]",
    floors={f"{kind}-level": (ff[f"auc_{kind}"], ff[f"auc_{kind}_err"] or 0.0) for kind in ("low", "high")},
    floor_label="FP32, other latents")
plt.show()
results["against_fp32"] = {"floor": floor_fp32, **vs_fp32}

# %% [markdown]
# ## Conclusion
#
# The verdicts come from the physics gate of chapter 3 (`gan3d_lib.precision.gate.precision_gate`),
# with the sample size, seed and thresholds chapter 3 recorded: each artefact against FP32
# on the same latent vectors, per energy bin, sampling fraction within 1 %, hits within 2 %,
# the cell-energy spectrum and the hits histogram within twice their floor, and classifier
# AUCs within the floor plus 2 standard errors. An artefact that fails *loses physics*; the
# first failed condition is named. Its size is then set against the FP32-versus-Monte Carlo
# gap in FPD.

# %% tags=["remove-stderr"]
fm = vs_mc["keras-fp32"]["bins"]["all"]
ch3 = read_results(Path(results_dir) / "03_quantization.json")["numbers"]
gs = ch3["gate_settings"]
gate_ref, gate_z = gate.fp32_gate(load_artefact(root / "keras-fp32").generate_from_latent, gs["n"], seed=gs["seed"],
                                  n_bootstrap=gs["n_bootstrap"], thresholds=gate.GateThresholds(**gs["thresholds"]))
reduced = [k for k in vs_fp32]
gate_results = {k: gate.precision_gate(load_artefact(root / k).generate_from_latent(gate_z), gate_ref)
                for k in reduced if not v.backends[k].endswith("fp32")}
verdicts = gate_verdicts(gate_results, vs_mc, floor_mc, chapter3={**ch3.get("gate_all_ops", {}),
                                                                              **ch3.get("gate_tuned", {})})
display(Markdown(markdown_table(gate.gate_table(gate_results),
                                {"candidate": "artefact", "passed": "passes", "worst_condition": "worst condition",
                                 "worst_bin": "in bin", "worst_ratio": "worst / limit", "sf_deviation_pct": "SF vs FP32 [%]",
                                 "hits_deviation_pct": "hits vs FP32 [%]", "small_cells_ratio_min": "small cells / FP32"},
                                {"worst_ratio": ".3g", "sf_deviation_pct": "+.2f", "hits_deviation_pct": "+.1f",
                                 "small_cells_ratio_min": ".2f"})))
conclusion = conclusion_text(verdicts, fm, floor_mc["bins"]["all"], same_as=same_as, skipped=skipped)
display(Markdown(conclusion))
lost = [k for k, v in verdicts.items() if v["loses_physics"]]
results["verdicts"] = verdicts
results["gate"] = {k: r.to_dict() for k, r in gate_results.items()}
results["conclusion"] = conclusion

# %% tags=["hide-input"]
glue("auc_low_fp32", fm["auc_low"], display=False)
glue("auc_high_fp32", fm["auc_high"], display=False)
glue("auc_low_mc_floor", fa["auc_low"], display=False)
glue("auc_high_mc_floor", fa["auc_high"], display=False)
glue("fpd_fp32", fm["fpd"], display=False)
glue("fpd_mc_floor", fa["fpd"], display=False)
glue("kpd_fp32_e3", 1e3 * fm["kpd"], display=False)
glue("kpd_mc_floor_e3", 1e3 * fa["kpd"], display=False)
glue("sep_mean_fp32", fm["separation_power_mean"], display=False)
glue("sep_mean_mc_floor", fa["separation_power_mean"], display=False)
glue("n_lose_physics", len(lost), display=False)
glue("n_reduced", len(verdicts), display=False)
write_results(Path(results_dir) / "05_validation.json", results,
              settings={"preset": preset, "seed": seed, "artefacts_dir": artefacts_dir, "mc_tuning": mc_tuning,
                        "reference_path": reference_path, **params})

# %% [markdown]
# ## Summary
#
# Against the Monte Carlo the FP32 generator reads high-level AUC
# {glue:text}`auc_high_fp32:.3f` (two Monte Carlo samples: {glue:text}`auc_high_mc_floor:.3f`)
# and FPD {glue:text}`fpd_fp32:.3g` (floor {glue:text}`fpd_mc_floor:.3g`). Of the
# {glue:text}`n_reduced` reduced-precision artefacts, {glue:text}`n_lose_physics` fail the
# physics gate against FP32 (the same verdicts as chapter 3's).
#
# ### What's next?
#
# The speed each precision buys is measured in chapter 4; this chapter says what it costs.
#
# ## Resources and references
#
# * C. Krause, M. Faucett Giannelli et al., *CaloChallenge 2022: A Community Challenge for
#   Fast Calorimeter Simulation*, arXiv:2410.21611; evaluation code `CaloChallenge/homepage`.
# * R. Kansal et al., *Evaluating generative models in high energy physics*,
#   arXiv:2211.10295 (FPD, KPD; `jetnet.evaluation`).
# * C. Krause, D. Shih, *CaloFlow*, arXiv:2106.05285 (classifier two-sample test for showers);
#   separation power: eq. 15 of arXiv:2009.03796.
