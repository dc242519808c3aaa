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
# # Training the Conv2D GAN
#
# ## Overview
#
# The study replaced the 3D convolutions of the 3DGAN generator with three branches of 2D convolutions, each looking
# at the 5 x 5 x 5 seed volume along a different pair of axes. This chapter compares the two architectures, runs a
# short live training, gives the recipe of the shipped `lite` generator and what each part buys, and judges the
# generator against its Monte Carlo: at three energies, per energy bin, and by a classifier.
#
# ## Prerequisites
#
# | concept | importance |
# |---|---|
# | chapter 1 (the showers, the shower-shape MSE) | necessary |
# | generative adversarial networks | helpful |
#
# **Time to run:** about 5 minutes at the `default` preset, 2 minutes at `ci`, on 2 CPU cores.
# `make weights-stage14` re-creates the shipped weights in stages, `make weights` the recipe from scratch (hours
# below). **Hardware:** CPU only.

# %% tags=["parameters"]
preset = "default"  # ci for tests, default for the published book
weights_dir = "data/weights/conv2d_lite_stage14"  # training folder of the generator to evaluate
recipe_dir = "data/weights/conv2d_lite_recipe3"  # the last stage of the from-scratch recipe (make weights)
mc_tuning = "fitted"  # Monte Carlo the generator is judged against, the one it learned from (gan3d_lib.data.mc_tuning.TUNINGS)
n_live_showers = 0  # showers for the live training run, 0 takes the preset value
live_steps = 0  # training steps per live run, 0 takes the preset value
n_eval = 0  # showers per energy for the GAN versus Monte Carlo comparison, 0 takes the preset value
n_goals = 0  # Monte Carlo showers (E uniform in 2-500 GeV) for the per-bin goals, 0 takes the preset value
data_path = ""  # CERN EleEscan h5 file or glob pattern for the live training run, empty for the Monte Carlo
seed = 1  # seed of every random draw in this chapter
results_dir = "results"  # where results/02_training.json is written

# %% tags=["hide-input"]
import os
import shutil
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from myst_nb import glue

from gan3d_lib.core import markdown_table, write_results
from gan3d_lib.physics import (CLASSIFIER_AUC_GOAL, FACTS, GENERATOR_GOALS, HITS_THRESHOLD_GEV,
                               barycentre_spread_rows, facts_at_energies, facts_by_energy_bin, facts_table,
                               goal_rows, observables, resolution_rows, sampling_fraction_by_bin)
from gan3d_lib.data import GEANT4_SHOWER_FACTS, ensure_mc_dataset, named_tuning, read_showers, ShowerSimulator
from gan3d_lib.validation import (compare, compare_at_energies, group_aucs, layer_moment_matched, prepare,
                                  single_feature_aucs)
from gan3d_lib.models import generate_showers, models
from gan3d_lib.training import (ablation_records, EvaluationSettings, evaluate_at_latent_seeds, load_generator,
                                read_plan, stage_summaries, train, TrainConfig)
from gan3d_lib.book import (ablation_rows, ablation_table, ablation_text, breakdown_text, classifier_goal_text,
                            generator_comparison_rows, generator_comparison_table, generator_comparison_text,
                            goal_summary, goal_table, latent_conditioning_rows, one_line_errors, plotting, presets,
                            recipe_rows, run_history_rows, run_history_table, single_feature_text, spread_ratio_text)

params = presets.resolve("02_training", preset, n_live_showers=n_live_showers, live_steps=live_steps, n_eval=n_eval)
plotting.use_style()
one_line_errors()
results: dict = {}
if data_path:  # a bad file stops the chapter here, with the reader's one line
    live_showers_read = len(read_showers(data_path, max_showers=params["n_live_showers"])[1])

# %% [markdown]
# ## Two generators
#
# Both generators map a 200-dimensional latent vector, whose length carries the primary energy (see below), to a
# 25 x 25 x 25 shower in GeV. The `paper` sizes are the study's; `lite` divides every hidden channel count by four so
# that training fits on two CPU cores.

# %%
rows = []
for kind in ("conv3d", "conv2d"):
    for size in ("paper", "lite"):
        gen = models.build_generator(kind, size=size)
        disc = models.build_discriminator(kind, size=size)
        rows.append({"model": kind, "size": size, "g_params": models.count_parameters(gen)["total"],
                     "d_params": models.count_parameters(disc)["total"],
                     "g_gmac": models.multiply_accumulates(gen) / 1e9})
display(Markdown(markdown_table(rows, {"model": "generator", "size": "size", "g_params": "G parameters",
                                       "d_params": "D parameters", "g_gmac": "G GMAC per shower"},
                                {"g_params": ",d", "d_params": ",d", "g_gmac": ".3f"})))
results["architectures"] = rows
paper = {r["model"]: r for r in rows if r["size"] == "paper"}
glue("conv3d_params", paper["conv3d"]["g_params"], display=False)
glue("conv2d_params", paper["conv2d"]["g_params"], display=False)
glue("mac_ratio", paper["conv2d"]["g_gmac"] / paper["conv3d"]["g_gmac"], display=False)

# %% [markdown]
# The Conv2D generator has {glue:text}`conv2d_params:,d` parameters against {glue:text}`conv3d_params:,d` for the
# Conv3D one and needs {glue:text}`mac_ratio:.1f` times as many multiply-accumulates per shower. The study's argument
# was better kernels, not fewer operations: 2D convolutions run faster per operation on CPUs and quantize to INT8
# (chapter 4 measures the speed). The `lite` Conv2D generator, layer by layer:

# %%
models.build_generator("conv2d", size="lite").summary(line_length=110, expand_nested=False)

# %% [markdown]
# ## A live training run
#
# The loop plays the 3DGAN game: the discriminator tells Monte Carlo from generated showers and regresses the primary
# energy; the generator learns to fool it, to reproduce the primary energy and to deposit the total energy the Monte
# Carlo's sampling-fraction fit expects. A few steps at this preset, on Monte Carlo showers or, with `data_path`, on
# the reader's own files (the line below says which):

# %%
if data_path:  # the reader's files; the validation showers are the first ones of the same files
    live_train = live_val = data_path
    live_source = f"{live_showers_read} showers of {data_path}"
else:
    live_train = ensure_mc_dataset(Path("data/mc") / f"ch2_live_seed{seed}_n{params['n_live_showers']}.h5",
                                   params["n_live_showers"], seed=seed + 100, progress=False)
    live_val = ensure_mc_dataset(Path("data/mc") / f"ch2_val_seed{seed}_n512.h5", 512, seed=seed + 200, progress=False)
    live_source = f"{params['n_live_showers']} Monte Carlo showers"
print(f"live training run on {live_source}")
results["live_training_data"] = live_source
runs = {}
for precision in ("float32", "mixed_bfloat16"):
    out = Path(results_dir) / "02_training_live" / precision
    shutil.rmtree(out, ignore_errors=True)
    cfg = TrainConfig(model="conv2d", size="lite", epochs=1, batch_size=64, seed=seed, precision=precision,
                      n_validation=256, max_steps_per_epoch=params["live_steps"])
    runs[precision] = train(cfg, live_train, live_val, out, progress=False)[-1]
display(Markdown(markdown_table(
    [{"precision": k, **v} for k, v in runs.items()],
    {"precision": "precision", "step": "steps", "showers_per_s": "showers/s", "d_loss": "D loss", "g_loss": "G loss",
     "val_shower_shape_mse": "val. MSE [%^2]"},
    {"showers_per_s": ".0f", "d_loss": ".3f", "g_loss": ".3f", "val_shower_shape_mse": ".3g"})))
results["live_runs"] = runs
glue("live_steps", params["live_steps"], display=False)
glue("fp32_showers_per_s", runs["float32"]["showers_per_s"], display=False)
glue("bf16_showers_per_s", runs["mixed_bfloat16"]["showers_per_s"], display=False)
glue("bf16_speedup", runs["mixed_bfloat16"]["showers_per_s"] / runs["float32"]["showers_per_s"], display=False)

# %% [markdown]
# ## FP32 versus BF16 training
#
# The same {glue:text}`live_steps` steps ran in FP32 and under Keras' `mixed_bfloat16` policy:
# {glue:text}`fp32_showers_per_s:.0f` against {glue:text}`bf16_showers_per_s:.0f` showers per second, a factor
# {glue:text}`bf16_speedup:.2f`, tracing included (`benchmarks/training_throughput.py` measures the steady state).
# The shipped generator was trained in FP32.
#
# ## The recipe
#
# The shipped `lite` generator is the last of {glue:text}`n_stages` stages (`make weights-stage14`, one file per stage in
# `recipes/`), each starting from the previous one; the appendix lists every stage and experiment from their records.
# Stage 1 plays the study's game with smaller batches and larger learning rates than the study's, to fit CPU hours
# (`recipes/conv2d_lite.toml`). Later stages add per-energy-bin terms comparing means and spreads of shower
# features, fake against real; a discriminator that sees $E_{cell}^{0.5}$, so the 0.1-3 MeV cells count beside the
# GeV core (as the later 3DGAN's $E_{cell}^{0.85}$); and three output heads: small cells in
# $\ln(E_{cell}/\mathrm{MeV})$ added to the ReLU's cells, one energy scale per shower from its own $E_{cal}/E_p$, and
# a depth shift and stretch drawn from the latent. The components of the last stage, read from its record:

# %%
stage_records = stage_summaries(weights_dir)
shipped_config = stage_records[-1]["config"]
display(Markdown(markdown_table(recipe_rows(shipped_config), {"setting": "setting", "value": "value", "what": "what it does"})))
plotting.plot_training_history(stage_records[-1]["history"], best_epoch=stage_records[-1]["best"]["epoch"])
plt.suptitle(f"the last stage ({Path(stage_records[-1]['folder']).name})", y=1.02)
plt.show()
results["shipped_history"] = {"stages": [{k: v for k, v in r.items() if k != "history"} for r in stage_records],
                              "best": stage_records[-1]["best"],
                              "training_hours": sum(r["training_hours"] for r in stage_records)}
glue("n_stages", len(stage_records), display=False)
glue("train_hours", results["shipped_history"]["training_hours"], display=False)
glue("adversarial_weight", shipped_config["weight_bce"], display=False)

# %% [markdown]
# The stages took {glue:text}`train_hours:.2f` hours on two CPU cores. The adversarial cross-entropy keeps the
# study's weight {glue:text}`adversarial_weight:g`; beside the feature terms the generator's loss is mostly feature
# matching.
#
# ## What each part buys
#
# Each component is taken away in one ablation run (`make ablation`, plan `recipes/ablation/leave_one_out.toml`):
# every run starts from the shipped generator and its discriminator, trains for the same steps, seed and learning
# rate, and differs from the reference in one setting. All are judged on the same held-out Monte Carlo: per-bin goals
# met, FPD, and both classifier AUCs. The reference repeated with another seed gives the run-to-run spread; a change
# marked * exceeds twice the combined bootstrap errors and that spread. The table reads the recorded runs
# (`data/ablation/<run>/`), it does not rerun them.

# %%
ablation = ablation_records("data/ablation")
ablation_table_rows = ablation_rows(ablation)
first = next(iter(ablation.values()))
plan = read_plan(first["plan"]).reference
print(f"{len(ablation)} recorded runs of {first['plan']}: {plan['max_steps_per_epoch']} steps of {plan['batch_size']} "
      f"showers each from {plan['init_generator']}, learning rate {plan['lr_generator']:g}; judged on "
      f"{first['evaluation_settings']['n_per_bin']} Monte Carlo showers per energy bin; CPU: {first['machine']['cpu_model']}")
display(Markdown(ablation_table(ablation_table_rows)))
display(Markdown(ablation_text(ablation_table_rows)))
results["ablation"] = {arm: {k: r[k] for k in ("goals_met", "fpd", "fpd_err", "auc_high", "auc_high_err", "auc_low",
                                                "auc_low_err")} for arm, r in ablation.items()}

# ## Generated versus Monte Carlo showers
#
# The shipped generator and fresh Monte Carlo at 10, 100 and 400 GeV.

# %%
generator = load_generator(weights_dir)
mc_sim = ShowerSimulator(tuning=named_tuning(mc_tuning))
comparison = compare_at_energies(lambda e, s: generate_showers(generator, e, seed=s), energies_gev=(10.0, 100.0, 400.0),
                                 n_per_energy=params["n_eval"], seed=seed, simulator=mc_sim)
rows = comparison["rows"]
display(Markdown(markdown_table(
    rows, {"energy_gev": "E_p [GeV]", "sampling_fraction_gan": "SF GAN", "sampling_fraction_mc": "SF MC",
           "sampling_fraction_ratio": "ratio", "peak_layer_gan": "peak GAN", "peak_layer_mc": "peak MC",
           "shower_shape_mse": "MSE [%^2]"},
    {"energy_gev": ".0f", "sampling_fraction_gan": ".4f", "sampling_fraction_mc": ".4f",
     "sampling_fraction_ratio": ".3f", "shower_shape_mse": ".3g"})))
results["gan_vs_mc"] = comparison
for r in rows:
    tag = f"{r['energy_gev']:.0f}"
    glue(f"sf_ratio_{tag}", r["sampling_fraction_ratio"], display=False)
    glue(f"mse_{tag}", r["shower_shape_mse"], display=False)

# %% [markdown]
# The shower facts of chapter 1 for the generator and the Monte Carlo it learned from, at the
# same three energies, with Geant4's beside them (ratios to the Monte Carlo):

# %%
fact_energies = [float(r["energy_gev"]) for r in rows]
facts = {"Monte Carlo": facts_at_energies(lambda e, s: mc_sim.simulate_block(e, np.random.default_rng(s)),
                                          fact_energies, n_per_energy=params["n_eval"], seed=seed + 200),
         "GAN": facts_at_energies(lambda e, s: generate_showers(generator, e, seed=s), fact_energies,
                                  n_per_energy=params["n_eval"], seed=seed + 300),
         "Geant4": {e: GEANT4_SHOWER_FACTS[e] for e in fact_energies if e in GEANT4_SHOWER_FACTS}}
facts_rows = facts_table(facts, reference="Monte Carlo")
fact_labels = dict(FACTS)
display(Markdown(markdown_table(
    [{**r, "fact": fact_labels[r["fact"]]} for r in facts_rows],
    {"energy_gev": "E_p [GeV]", "fact": "fact", "Monte Carlo": "Monte Carlo", "GAN": "GAN",
     "GAN/Monte Carlo": "GAN / MC", "Geant4": "Geant4", "Geant4/Monte Carlo": "Geant4 / MC"},
    {"energy_gev": ".0f", "Monte Carlo": ".4g", "GAN": ".4g", "GAN/Monte Carlo": ".3f", "Geant4": ".4g",
     "Geant4/Monte Carlo": ".3f"})))
plotting.plot_facts_ratios(facts_rows, reference="Monte Carlo", samples=["GAN", "Geant4"], labels=fact_labels)
plt.show()
results["shower_facts"] = facts
for e in fact_energies:
    glue(f"sf_spread_ratio_{e:.0f}", facts["GAN"][e]["sf_rms_over_mean"] / facts["Monte Carlo"][e]["sf_rms_over_mean"],
         display=False)

# %% [markdown]
# At fixed primary energy the generator's SF spread (rms / mean of $E_{cal} / E_p$) is
# {glue:text}`sf_spread_ratio_10:.2f`, {glue:text}`sf_spread_ratio_100:.2f` and {glue:text}`sf_spread_ratio_400:.2f`
# times the Monte Carlo's at 10, 100 and 400 GeV. The per-bin goals below pool the energies of each bin, so the
# spread of a bin and the spread at one energy inside it can differ.

# %% [markdown]
# ## Against the goals, per energy bin
#
# The generator is held to the Monte Carlo it learned from in each primary-energy bin of
# chapter 5 (`gan3d_lib.physics.shower_facts.GENERATOR_GOALS`): mean hits within 15 %, the relative
# spread of the sampling fraction within 25 %, the x width within 10 % and the first-layer
# energy fraction within a factor 2. Held-out Monte Carlo, energies uniform in 2-500 GeV as
# in chapter 5, and the generator for the same energies:

# %%
n_goal = params["n_goals"]
goal_mc, goal_energies = read_showers(ensure_mc_dataset(Path("data/mc") / f"ch2_goals_seed{seed}_n{n_goal}.h5", n_goal,
                                                        seed=seed + 600, simulator=mc_sim, progress=False))
goal_gan = generate_showers(generator, goal_energies, seed=seed + 700)
goal_rows_gan = goal_rows(facts_by_energy_bin(goal_gan, goal_energies), facts_by_energy_bin(goal_mc, goal_energies),
                       GENERATOR_GOALS)
display(Markdown(goal_table(goal_rows_gan)))
results["generator_goals"] = goal_rows_gan
glue("goals_met", sum(r["met"] for r in goal_rows_gan), display=False)
glue("goals_total", len(goal_rows_gan), display=False)
display(Markdown(goal_summary(goal_rows_gan)))

# %% [markdown]
# Chapter 5's classifier test on the same showers (`validation.compare`): classifiers trained to tell the generator's
# showers from the Monte Carlo's, on the cells (low level) and on shower features (high level), scored by the area
# under their ROC curve on held-out showers (0.5: indistinguishable; 1: always told apart).

# %%
prepared_mc, prepared_gan = prepare(goal_mc, goal_energies), prepare(goal_gan, goal_energies)  # reused below
classified = compare(prepared_gan, prepared_mc, seed=seed + 800, bins_gev=(2.0, 500.0),
                     n_bootstrap=params["n_bootstrap"])["bins"]["all"]
results["generator_classifier"] = {k: classified[k] for k in ("auc_low", "auc_low_err", "auc_high", "auc_high_err")}
display(Markdown(classifier_goal_text(classified["auc_low"], classified["auc_high"])))

# %% [markdown]
# ## A recipe from scratch
#
# `make weights` trains the `lite` generator from scratch in three stages (`recipes/conv2d_lite_recipe*.toml`) with
# the study's game and only the components whose removal the ablation measured: stage 1 the game with the small-cell
# and energy-scale heads; stage 2 as deployed, with the longitudinal, transverse and rings terms; stage 3 the
# depth-fluctuation head alone, trained by the depth-spread term. It would replace the shipped generator only if it
# equalled or beat it. Both generators against the Monte Carlo of the goal table, at three latent seeds (the
# classifiers and FPD at the first):

# %%
recipe_records = stage_summaries(recipe_dir)
display(Markdown(markdown_table(
    [{"stage": Path(r["folder"]).name, "epochs": r["epochs"], "steps": r["history"][-1]["step"],
      "hours": r["training_hours"]} for r in recipe_records],
    {"stage": "stage", "epochs": "epochs", "steps": "steps", "hours": "hours (2 CPU cores)"}, {"hours": ".2f"})))
latent_seeds = (92, 93, 94)
judge = EvaluationSettings(latent_seed=latent_seeds[0], classifier_seed=seed + 800, n_bootstrap=params["n_bootstrap"])
judged = {label: evaluate_at_latent_seeds(load_generator(folder), goal_mc, goal_energies, judge, latent_seeds)
          for label, folder in (("the recipe", recipe_dir), ("the shipped stage 14", weights_dir))}
display(Markdown(generator_comparison_table(generator_comparison_rows(judged))))
display(Markdown(generator_comparison_text(judged["the recipe"], judged["the shipped stage 14"],
                                           candidate_label="the recipe", shipped_label="the shipped stage 14")))
results["recipe"] = {"stages": [{k: v for k, v in r.items() if k != "history"} for r in recipe_records],
                     "judged": {k: {m: v for m, v in e.items() if m != "goals"} for k, e in judged.items()}}

# %% [markdown]
# What the high-level classifier sees: the same classifier given $E_p$ and one feature at a time
# (`auc_breakdown.single_feature_aucs`), for the generator against the Monte Carlo and, as the floor of sample noise,
# for an independent Monte Carlo sample of the same size.

# %%
twin_mc, twin_energies = read_showers(ensure_mc_dataset(Path("data/mc") / f"ch2_goals_twin_seed{seed}_n{n_goal}.h5",
                                                        n_goal, seed=seed + 650, simulator=mc_sim, progress=False))
prepared_twin = prepare(twin_mc, twin_energies)
feature_aucs = {"Conv2D GAN (lite)": single_feature_aucs(prepared_gan, prepared_mc, seed=seed + 900),
                "Monte Carlo, independent sample": single_feature_aucs(prepared_twin, prepared_mc, seed=seed + 900)}
results["single_feature_aucs"] = feature_aucs
plotting.plot_single_feature_aucs(feature_aucs)
plt.show()
display(Markdown(single_feature_text(*feature_aucs.values())))

# %% [markdown]
# Would showers that fluctuate in depth as the Monte Carlo's do pass? The classifier given $E_p$ and one group of
# features at a time (`auc_breakdown.group_aucs`), for the generator, for its showers with their layer energies given
# the independent sample's distribution (`auc_breakdown.layer_moment_matched`: per layer the mean and spread of
# ln(layer energy) against $E_p$ and the correlations between layers; each shower's total kept), and for the
# independent sample.

# %%
matched_gan = layer_moment_matched(goal_gan, goal_energies, twin_mc, twin_energies)
group_table = {"Conv2D GAN (lite)": group_aucs(prepared_gan, prepared_mc, seed=seed + 950),
               "GAN, layer energies matched": group_aucs(prepare(matched_gan, goal_energies), prepared_mc, seed=seed + 950),
               "Monte Carlo, independent sample": group_aucs(prepared_twin, prepared_mc, seed=seed + 950)}
results["feature_group_aucs"] = group_table
group_rows = [{"group": g, **{k: v[g] for k, v in group_table.items()}} for g in group_table["Conv2D GAN (lite)"]]
display(Markdown(markdown_table(group_rows, {"group": "features given with E_p", **{k: f"{k} AUC" for k in group_table}},
                                {k: ".3f" for k in group_table})))
display(Markdown(breakdown_text(*group_table.values(), goal=CLASSIFIER_AUC_GOAL)))

# %% [markdown]
# How much a shower's depth fluctuates: the standard deviation of the longitudinal barycentre in each energy bin, for
# the Monte Carlo, the shipped generator, the stage it started from and stage 1 (the study's losses), for the same
# energies and latent seed.

# %%
samples = {"the shipped generator": goal_gan}
last = len(stage_records) - 1
for k in sorted({last - 1, 0} - {last, -1}, reverse=True):  # the stage the shipped one started from, and stage 1
    folder = stage_records[k]["folder"]
    samples[f"stage {k + 1} ({Path(folder).name})"] = generate_showers(load_generator(folder), goal_energies, seed=seed + 700)
depth_rows = barycentre_spread_rows(goal_mc, samples, goal_energies)
results["barycentre_spread_layers"] = depth_rows
display(Markdown(markdown_table(depth_rows, {"key": "E_p bin", "reference": "Monte Carlo [layers]",
                                             **{k: f"{k} [layers]" for k in samples}},
                                {k: ".3f" for k in ("reference", *samples)})))
display(Markdown(" ".join(spread_ratio_text(depth_rows, k, what="longitudinal barycentre", reference="the Monte Carlo")
                          for k in samples)))
bins = observables.DEFAULT_ENERGY_BINS_GEV
top = observables.energy_bin_index(goal_energies, bins) == len(bins) - 2  # the goal table's last bin
top_label = observables.energy_bin_labels(bins)[-1]
plotting.plot_feature_distributions(
    {"Monte Carlo": {k: v[top] for k, v in prepared_mc.features.items()},
     "Conv2D GAN (lite)": {k: v[top] for k, v in prepared_gan.features.items()}},
    {"z_centre": "longitudinal barycentre [layer]", "z_width": "longitudinal width [layers]",
     "layer_09": "energy fraction in layer 9", "hits": "hits > 0.097 MeV"}, reference="Monte Carlo")
plt.suptitle(f"{top_label} electrons", y=1.02)
plt.show()

# %% [markdown]
# Where the hits are, in the highest-energy bin: the mean number of cells above the hits threshold per shower in each
# layer and in each ring around the beam axis (r cell widths, rounded), the generator's beside the Monte Carlo's.

# %%
inner_rings = 3  # rings r = 0, 1, 2: cell centres within 2.5 cell widths of the axis
ring_axis = "distance from the beam axis [cell widths]"
hits_where = {}
for what, count, xlabel, ylabel, logy in (
        ("layer", lambda s: observables.hits_by_layer(s, HITS_THRESHOLD_GEV), "layer", "hits per shower", False),
        ("ring", lambda s: observables.hits_by_radius(s, HITS_THRESHOLD_GEV), ring_axis, "hits per shower", False),
        ("ring_energy", observables.energy_by_radius, ring_axis, "energy per shower [GeV]", True)):
    hits_where[what] = {"Monte Carlo": count(goal_mc[top]), "Conv2D GAN (lite)": count(goal_gan[top])}
    plotting.plot_profiles_with_ratio({k: (v, None) for k, v in hits_where[what].items()}, xlabel=xlabel,
                                      ylabel=ylabel, logy=logy, title=f"{top_label} electrons")
    plt.show()
results["hits_where"] = {"bin": top_label, "n_showers": int(top.sum()),
                         **{f"{what}_{k}": v.tolist() for what, d in hits_where.items() for k, v in d.items()}}
glue("top_bin", top_label, display=False)
glue("inner_radius", inner_rings - 0.5, display=False)
for what in ("ring", "ring_energy"):
    gan, mc = hits_where[what]["Conv2D GAN (lite)"], hits_where[what]["Monte Carlo"]
    glue(f"{what}_inner_ratio", float(gan[:inner_rings].sum() / mc[:inner_rings].sum()), display=False)
    glue(f"{what}_outer_ratio", float(gan[inner_rings:].sum() / mc[inner_rings:].sum()), display=False)
outer_per_hit = {k: hits_where["ring_energy"][k][inner_rings:].sum() / hits_where["ring"][k][inner_rings:].sum()
                 for k in hits_where["ring"]}
glue("outer_energy_per_hit_ratio", float(outer_per_hit["Conv2D GAN (lite)"] / outer_per_hit["Monte Carlo"]), display=False)

# %% [markdown]
# In the {glue:text}`top_bin` bin the generator has {glue:text}`ring_inner_ratio:.2f` times the
# Monte Carlo's hits within {glue:text}`inner_radius:.1f` cell widths of the axis and {glue:text}`ring_outer_ratio:.2f`
# times its hits further out; its energy there is {glue:text}`ring_energy_inner_ratio:.2f` and
# {glue:text}`ring_energy_outer_ratio:.2f` times the Monte Carlo's. Beyond that radius its energy per hit (the rings'
# energy over their hits) is {glue:text}`outer_energy_per_hit_ratio:.2f` times the Monte Carlo's.

# %% [markdown]
# Where the x width comes from, in the same bin: each ring's share of a shower's energy-weighted variance along x
# (`observables.transverse_variance_by_radius`, cell widths², mean over showers; the shares add up to the width²), so
# a ring far out weighs by its distance squared.

# %%
width_where = {k: observables.transverse_variance_by_radius(s[top], "x")
               for k, s in (("Monte Carlo", goal_mc), ("Conv2D GAN (lite)", goal_gan))}
plotting.plot_profiles_with_ratio({k: (v, None) for k, v in width_where.items()}, xlabel=ring_axis,
                                  ylabel="share of x width$^2$ [cell widths$^2$]", title=f"{top_label} electrons")
plt.show()
corner_ring = 14  # rings r >= 14: cell centres beyond 13.5 cell widths, only in the grid's corners
core_rings = 4  # rings r = 0-3: cell centres within 3.5 cell widths of the axis
excess = width_where["Conv2D GAN (lite)"] - width_where["Monte Carlo"]
results["width_where"] = {"bin": top_label, "corner_ring": corner_ring, **{k: v.tolist() for k, v in width_where.items()}}
glue("width_sq_gan", float(width_where["Conv2D GAN (lite)"].sum()), display=False)
glue("width_sq_mc", float(width_where["Monte Carlo"].sum()), display=False)
glue("width_sq_excess_corners", float(excess[corner_ring:].sum()), display=False)
glue("width_sq_excess_core", float(excess[:core_rings].sum()), display=False)
glue("corner_radius", corner_ring - 0.5, display=False)
glue("core_radius", core_rings - 0.5, display=False)

# %% [markdown]
# In the {glue:text}`top_bin` bin the generator's mean x width² is {glue:text}`width_sq_gan:.3f` cell widths² against
# the Monte Carlo's {glue:text}`width_sq_mc:.3f`. Of the difference, the rings beyond {glue:text}`corner_radius:.1f`
# cell widths (the grid's corners) give {glue:text}`width_sq_excess_corners:+.3f` and the rings within
# {glue:text}`core_radius:.1f` widths give {glue:text}`width_sq_excess_core:+.3f`.

# %% [markdown]
# ### The latent's length and the energy resolution
#
# The study's latent is $z = (E_p / 100\,\mathrm{GeV})\, u$, $u \sim \mathcal{N}(0, 1)^{200}$: its length varies
# from shower to shower, so it carries $E_p$ only approximately. This library draws the same directions at length
# $\sqrt{200}$ (`models.latent_vectors`, `norm="sphere"`), as the last stage trained. The SF rms / mean per bin for
# the same generator and directions drawn both ways, beside the Monte Carlo's:

# %%
goal_gan_normal = generate_showers(generator, goal_energies, seed=seed + 700, latent_norm="normal")
latent_rows = latent_conditioning_rows(goal_mc, goal_gan, goal_gan_normal, goal_energies, seed=seed + 700)
display(Markdown(markdown_table(
    latent_rows, {"key": "E_p bin", "reference": "Monte Carlo", "sphere": "GAN, sphere latents",
                  "normal": "GAN, the study's latents", "latent_energy_spread": "E_p spread in the study's latent"},
    {"reference": ".4f", "sphere": ".4f", "normal": ".4f", "latent_energy_spread": ".4f"})))
results["latent_conditioning"] = latent_rows
del goal_gan_normal

# %% [markdown]
# ### The energy-scale head
#
# The relative spread of the sampling fraction per bin for the goal table's showers, painted by the shipped generator
# and by the same generator with its energy-scale head at the identity (`models.energy_scale_at_identity`: the same
# latents, every cell unscaled), beside the Monte Carlo's; below, the distributions of $E_{cal}/E_p$ in each bin.

# %%
has_scale_head = models.generator_options(generator)["energy_scale_head"]
goal_gan_identity = (generate_showers(models.energy_scale_at_identity(generator), goal_energies, seed=seed + 700)
                     if has_scale_head else goal_gan)
if not has_scale_head:
    print(f"{weights_dir} has no energy-scale head: both GAN columns are its showers")
scale_rows = resolution_rows(goal_mc, {"head": goal_gan, "identity": goal_gan_identity}, goal_energies)
display(Markdown(markdown_table(
    scale_rows, {"key": "E_p bin", "reference": "Monte Carlo", "head": "GAN", "identity": "GAN, head at the identity"},
    {"reference": ".4f", "head": ".4f", "identity": ".4f"})))
response = {"Monte Carlo": sampling_fraction_by_bin(goal_mc, goal_energies),
            "Conv2D GAN (lite)": sampling_fraction_by_bin(goal_gan, goal_energies),
            "GAN, head at the identity": sampling_fraction_by_bin(goal_gan_identity, goal_energies)}
plotting.plot_feature_distributions(response, {k: f"$E_{{cal}}/E_p$, {k}" for k in response["Monte Carlo"]},
                                    reference="Monte Carlo")
plt.show()
results["energy_scale_head"] = {"present": has_scale_head, "rows": scale_rows}
for column in ("head", "identity"):
    spread_ratio = [r[column] / r["reference"] for r in scale_rows]
    glue(f"spread_{column}_min", min(spread_ratio), display=False)
    glue(f"spread_{column}_max", max(spread_ratio), display=False)
del goal_gan_identity, response

# %% [markdown]
# Over the bins, the generator's SF rms / mean is {glue:text}`spread_head_min:.2f` to {glue:text}`spread_head_max:.2f`
# times the Monte Carlo's, and {glue:text}`spread_identity_min:.2f` to {glue:text}`spread_identity_max:.2f` times with
# its head at the identity.

# %%
for r in rows:
    plotting.plot_profiles_with_ratio(
        {"Monte Carlo": (1e3 * np.array(r["longitudinal_profile_mc_gev"]), None),
         "Conv2D GAN (lite)": (1e3 * np.array(r["longitudinal_profile_gan_gev"]), None)},
        xlabel="layer", ylabel="mean energy per layer [MeV]", logy=True, title=f"{r['energy_gev']:.0f} GeV electrons")
    plt.show()

# %%
energies = np.array([10.0, 100.0, 400.0], np.float32)
fakes = generate_showers(generator, energies, seed=seed)
plotting.plot_shower_projections(list(fakes), [f"GAN, E_p = {e:.0f} GeV" for e in energies])
plt.show()

# %% [markdown]
# The generated sampling fraction is {glue:text}`sf_ratio_10:.2f`, {glue:text}`sf_ratio_100:.2f`
# and {glue:text}`sf_ratio_400:.2f` times the Monte Carlo's at 10, 100 and 400 GeV; the shower-shape MSE is
# {glue:text}`mse_10:.3g`, {glue:text}`mse_100:.3g` and {glue:text}`mse_400:.3g` %², to be read against chapter 1's
# Monte Carlo-versus-Monte Carlo floor.

# %% [markdown]
# ## Summary
#
# Both of the study's generators are rebuilt with their published parameter counts. The `lite` Conv2D generator
# trained for {glue:text}`train_hours:.1f` hours in {glue:text}`n_stages` stages on two CPU cores and meets
# {glue:text}`goals_met` of the {glue:text}`goals_total` per-bin goals; the tables above compare it with the Monte Carlo.
#
# ### What's next?
#
# Chapter 3 quantizes this generator and measures what each precision does to the same physics numbers.
#
# ## Resources and references
#
# * F. Rehm et al., ICPRAM 2021 and the CERN openlab Technical Workshop 2021 slides (the
#   Conv2D architecture and its training).
# * G. R. Khattak et al., Eur. Phys. J. C 82 (2022) 386 (the 3DGAN).

# %% [markdown]
# ## Appendix: the runs behind the shipped generator
#
# Every run in `data/weights/`: the shipped stages, then the unshipped experiments (`data/weights/experiments/`),
# each with the folder it started from and the settings in which it differed, read from its `config.json` and
# `history.json` (`?`: the starting folder was renamed since); its `command.txt` holds the command.

# %%
experiments = sorted(p for p in Path("data/weights/experiments").iterdir() if (p / "config.json").exists())
run_rows = run_history_rows([r["folder"] for r in stage_records + recipe_records] + experiments,
                            [r["folder"] for r in stage_records])
display(Markdown(run_history_table(run_rows)))
results["run_history"] = run_rows

# %% tags=["hide-input"]
write_results(Path(results_dir) / "02_training.json", results,
              settings={"preset": preset, "seed": seed, "weights_dir": weights_dir, **params})
