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
# # Quantization
#
# ## Overview
#
# The study's central claim: an accuracy-driven tuner (Intel's Low Precision Optimization
# Tool, today Neural Compressor) moved half of the Conv2D generator to INT8, made it 1.8x
# faster and 2.26x smaller, and lost no physics, while TensorFlow Lite's FP16 and INT8
# models lost accuracy. Its quantization scripts were never published. This chapter
# writes every reduced-precision version of the shipped generator with public tools and
# scores each one on the same held-out Monte Carlo showers:
#
# 1. why INT8, and what this CPU offers for it;
# 2. the artefacts: Intel Neural Compressor (INC) INT8, TensorFlow Lite FP32/FP16/dynamic/INT8,
#    ONNX Runtime FP32/INT8, OpenVINO FP32/BF16/INT8 (NNCF), Keras BF16, all loaded through
#    one interface;
# 3. one physics gate, and a search for the fastest INT8 generator that passes it;
# 4. which ops run in INT8 and which stay FP32;
# 5. bytes on disk of every artefact, for the `lite` and the paper-size generator;
# 6. the study's MSE table with the same rows.
#
# ## Prerequisites
#
# | concept | importance |
# |---|---|
# | chapter 2 (the generators, the shipped weights) | necessary |
# | post-training quantization | helpful |
#
# **Time to run:** about 6 minutes at `ci` on 2 CPU cores; at the `default` preset each of its three INT8
# searches may take its 6-minute budget, and the chapter takes correspondingly longer.
# **Hardware:** CPU only; INC INT8 graphs run only on CPUs with AVX-512 (see below).

# %% tags=["parameters"]
preset = "default"  # ci for tests, default for the published book
weights_dir = "data/weights/conv2d_lite_stage14"  # training folder of the generator to quantize
paper_weights_dir = "data/weights/conv2d_paper"  # training folder of the paper-size generator (bytes on disk, chapter 4)
mc_tuning = "fitted"  # Monte Carlo the generator is judged against, the one it learned from (gan3d_lib.data.mc_tuning.TUNINGS)
artefacts_dir = "data/artefacts"  # where the artefact folders are written (chapters 4 and 5 read them)
n_eval = 0  # held-out Monte Carlo showers for the physics metric, 0 takes the preset value
n_calibration = 0  # latent vectors for INT8 calibration, 0 takes the preset value
max_trials = 0  # INT8 search trials per backend at most, 0 takes the preset value
search_minutes = 0.0  # INT8 search minutes per backend at most, 0 takes the preset value
gate_n = 0  # showers the physics gate compares (log-uniform in 2-500 GeV), 0 takes the preset value
search_backends = ""  # INT8 backends searched, comma-separated ("" takes the preset's)
timing_seconds = 0.0  # seconds each passing search candidate is timed per round, 0 takes the preset value
seed = 1  # seed of every random draw in this chapter
results_dir = "results"  # where results/03_quantization.json is written

# %% tags=["hide-input"]
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from gan3d_lib.core import machine_info, markdown_table, write_results
from gan3d_lib.physics import shower_shape_mse
from gan3d_lib.data import ensure_mc_dataset, named_tuning, read_showers, ShowerSimulator
from gan3d_lib.validation import score_artefacts, shape_mse_metric
from gan3d_lib.training import load_generator
from gan3d_lib.precision import gate, int8_mac_share, isa_check, op_precision_table, openvino_artefacts, quantization
from gan3d_lib.speed import int8_search
from gan3d_lib.book import (GATE_CANDIDATES, ISA_CHECK_BACKENDS, LABELS, SIZE_BACKENDS, WRITTEN_BACKENDS,
                            fp32_layer_rows, gate_artefacts, mse_rows, op_table_rows, plotting, presets,
                            search_rows, size_rows)

params = presets.resolve("03_quantization", preset, n_eval=n_eval, n_calibration=n_calibration, max_trials=max_trials,
                         search_minutes=search_minutes, gate_n=gate_n, search_backends=search_backends,
                         timing_seconds=timing_seconds)
plotting.use_style()
results: dict = {}
root = Path(artefacts_dir)

# %% [markdown]
# ## Why INT8
#
# An INT8 weight takes one byte instead of four, and an INT8 multiply-accumulate is cheaper
# than an FP32 one when the CPU has instructions for it: AVX-512 VNNI (`vpdpbusd`) does
# 64 INT8 multiply-accumulates per instruction where AVX-512 FMA does 16 FP32 ones, so the
# arithmetic limit is 4x. Without VNNI, INT8 needs three instructions per step and gains
# little; without AVX-512, TensorFlow's oneDNN INT8 kernels, which Neural Compressor's graphs
# call, do not run at all. This machine:

# %%
machine = machine_info()
display(Markdown(markdown_table([machine], {"cpu_model": "CPU", "usable_cores": "cores", "avx512f": "AVX-512",
                                            "avx512_vnni": "AVX-512 VNNI", "avx512_bf16": "AVX-512 BF16"})))
results["machine"] = machine
glue("cpu_model", machine["cpu_model"], display=False)
glue("has_vnni", "has" if machine["avx512_vnni"] else "does not have", display=False)

# %% [markdown]
# ## The artefacts
#
# Every artefact is a folder with a model file, a `manifest.json` (backend, source weights,
# settings, package versions, checksum) and the outputs it produced for eight reference
# latent vectors when it was written; `load_artefact(folder).generate(energies, seed)` runs
# any of them. INT8 backends calibrate on latent vectors drawn as in training,
# $E_p/100\,\mathrm{GeV}\times\mathcal{N}(0,1)$ with $E_p$ log-uniform in 2-500 GeV.
#
# Stock TensorFlow has no INT8 kernel for transposed convolutions, which hold a quarter of
# the Conv2D generator's weights. Before INC sees the graph, each `Conv2DTranspose` of stride
# $s$ is rewritten as $s^2$ ordinary convolutions, one per output phase, whose outputs are
# interleaved by `DepthToSpace`: the same weights and the same numbers (a unit test checks
# equality with Keras to 1e-5), but every weight is now in a quantizable op.

# %% tags=["remove-stderr"]
generator = load_generator(weights_dir)
calibration = quantization.calibration_latents(params["n_calibration"], seed=seed)
lite = {b: quantization.make_artefact(b, generator, root / "conv2d_lite" / b, model="conv2d", size="lite",
                                      source=weights_dir, calibration=calibration) for b in WRITTEN_BACKENDS}

# %% [markdown]
# ## Held-out Monte Carlo and the physics metric
#
# Every artefact generates showers for the primary energies of the same held-out Monte
# Carlo sample (uniform in 2-500 GeV, like the CERN files), with the same latent vectors,
# and is scored by the shower-shape MSE of chapter 1 against that sample. Two independent
# Monte Carlo samples give the floor: the MSE that statistics alone produce.

# %%
mc_sim = ShowerSimulator(tuning=named_tuning(mc_tuning))
ref_path = ensure_mc_dataset(Path("data/mc") / f"ch3_eval_seed{seed}_n{params['n_eval']}.h5", params["n_eval"],
                             seed=seed + 300, simulator=mc_sim, progress=False)
twin_path = ensure_mc_dataset(Path("data/mc") / f"ch3_twin_seed{seed}_n{params['n_eval']}.h5", params["n_eval"],
                              seed=seed + 301, simulator=mc_sim, progress=False)
ref_showers, ref_energies = read_showers(ref_path)
floor = shower_shape_mse(read_showers(twin_path)[0], ref_showers)["all"]
metric = shape_mse_metric(ref_showers, ref_energies, seed=seed)
results["mc_floor_mse"] = floor
glue("mc_floor", floor, display=False)
glue("n_eval", params["n_eval"], display=False)

# %% [markdown]
# ## The physics gate
#
# The study tuned against an accuracy metric; we tune against physics. A candidate generates
# showers from the **same latent vectors** as the FP32 generator, for
# {glue:text}`gate_n` primary energies log-uniform in 2-500 GeV, and passes only if, in every
# energy bin of chapter 5, all of these hold (`gan3d_lib.precision.gate.precision_gate`, the same
# function chapter 5 uses for its verdicts):

# %%
thresholds = gate.GateThresholds()
display(Markdown(markdown_table([
    {"condition": "sampling_fraction", "limit": f"mean E_cal/E_p within {100 * thresholds.sampling_fraction_tolerance:g} % of FP32"},
    {"condition": "hits", "limit": f"mean hits (cells > 0.1 MeV) within {100 * thresholds.hits_tolerance:g} % of FP32"},
    {"condition": "cell_energy_spectrum", "limit": f"separation power of the hit-cell spectrum within "
                                                   f"{thresholds.separation_floor_multiple:g}x its floor"},
    {"condition": "hits_distribution", "limit": f"separation power of the hits histogram within "
                                                f"{thresholds.separation_floor_multiple:g}x its floor"},
    {"condition": "classifier_low / _high", "limit": f"classifier AUC against FP32 within the floor + "
                                                     f"{thresholds.auc_standard_errors:g} standard errors"}],
    {"condition": "condition", "limit": "passes if"})))
fp32_art = lite["keras-fp32"]
gate_ref, gate_z = gate.fp32_gate(fp32_art.generate_from_latent, params["gate_n"], seed=seed,
                                  n_bootstrap=params["gate_bootstrap"])
glue("gate_n", params["gate_n"], display=False)
results["gate_settings"] = {"n": params["gate_n"], "seed": seed, "n_bootstrap": params["gate_bootstrap"],
                            "thresholds": vars(thresholds), "bins": gate_ref.bin_labels}

# %% [markdown]
# The floor of each distribution statistic is its value between FP32 and FP32 from another
# latent draw: what {glue:text}`gate_n` showers give by chance. Every reduced precision of the
# previous section, judged by the gate:

# %% tags=["remove-stderr"]
gate_results, gate_skipped = gate_artefacts({b: lite[b] for b in GATE_CANDIDATES}, gate_z, gate_ref)
gate_columns = {"candidate": "candidate", "passed": "passes", "worst_condition": "worst condition",
                "worst_bin": "in bin", "worst_ratio": "worst / limit", "sf_deviation_pct": "SF vs FP32 [%]",
                "hits_deviation_pct": "hits vs FP32 [%]", "small_cells_ratio_min": "small cells / FP32 (min)"}
gate_formats = {"worst_ratio": ".3g", "sf_deviation_pct": "+.2f", "hits_deviation_pct": "+.1f",
                "small_cells_ratio_min": ".2f"}
display(Markdown(markdown_table(gate.gate_table(gate_results), gate_columns, gate_formats)))
for name, why in gate_skipped.items():
    print(f"{name}: not judged. {why}")
results["gate_all_ops"] = {k: r.to_dict() for k, r in gate_results.items()}
results["gate_skipped"] = gate_skipped

# %% [markdown]
# "Small cells" are cells between 0.1 and 3 MeV; the column gives, in the bin where they
# drop most, the candidate's count per shower over FP32's.
#
# ## oneDNN's kernels and INT8
#
# Neural Compressor's graphs (through TensorFlow) and OpenVINO both run on oneDNN, which picks
# kernels for the newest instructions the CPU has (AMX on recent Xeons) unless
# `ONEDNN_MAX_CPU_ISA` caps it. The same artefacts, run in fresh processes with and without a
# cap at AVX-512 with VNNI, BF16 and FP16 but no AMX (total energy of {glue:text}`isa_n` showers relative to
# FP32 under the same setting, and showers/s at batch {glue:text}`isa_batch`):

# %% tags=["remove-stderr"]
isa_n, isa_batch = 256, 128
isa_rows = isa_check.compare_isa([lite[b].path for b in ISA_CHECK_BACKENDS],
                                 lite["keras-fp32"].path, n=isa_n, batch_size=isa_batch, seconds=params["isa_seconds"])
glue("isa_n", isa_n, display=False)
glue("isa_batch", isa_batch, display=False)
display(Markdown(markdown_table([{**r, "artefact": Path(r["artefact"]).name} for r in isa_rows],
                                {"artefact": "artefact", "isa": "ONEDNN_MAX_CPU_ISA", "energy_ratio": "energy / FP32",
                                 "showers_per_s": "showers/s", "skipped": "not run"},
                                {"energy_ratio": ".4f", "showers_per_s": ",.0f"})))
isa_text = isa_check.describe(isa_rows)
display(Markdown(isa_text))
results["isa_check"] = {"rows": isa_rows, "text": isa_text}

# %% [markdown]
# The book itself runs with oneDNN's default choice, as a user would: the gate above and the
# searches below judge what this CPU actually computes.
#
# ## Why one INT8 model struggles across 2-500 GeV
#
# The generator's input is the latent vector scaled by the primary energy,
# (E / 100 GeV) x u, u of length sqrt(200), so its activations grow with the energy. The largest |output| of
# each layer over {glue:text}`peak_n` showers at each energy
# (`quantization.activation_peaks`), for the first, middle and last quantizable layers:

# %%
peak_energies, peak_n = [2.0, 20.0, 100.0, 500.0], 64
peaks = quantization.activation_peaks(generator, peak_energies, n=peak_n, seed=seed)
peak_layers = list(peaks)
peak_rows = [{"layer": name, **{f"{e:g} GeV": v for e, v in zip(peak_energies, peaks[name])},
              "ratio": peaks[name][-1] / peaks[name][0]}
             for name in (peak_layers[0], peak_layers[len(peak_layers) // 2], peak_layers[-1])]
display(Markdown(markdown_table(peak_rows, {"layer": "layer", **{f"{e:g} GeV": f"{e:g} GeV" for e in peak_energies},
                                            "ratio": "500 GeV / 2 GeV"},
                                {**{f"{e:g} GeV": ".3g" for e in peak_energies}, "ratio": ".0f"})))
glue("peak_n", peak_n, display=False)
glue("peak_ratio_first", peak_rows[0]["ratio"], display=False)
results["activation_peaks"] = {"energies_gev": peak_energies, "n": peak_n, "peaks": peaks}

# %% [markdown]
# A per-tensor INT8 scale set by the 500 GeV showers leaves a 2 GeV shower's activations in the
# lowest few of 127 steps (the first layer's range grows {glue:text}`peak_ratio_first:.0f`-fold).
# The search therefore calibrates one INT8 model per energy bin of the gate ("energy buckets":
# each model's ranges come from latents of its own energies, and the latent's norm picks the
# model at run time), and tries one model for all energies as a variation.
#
# ## A search for the fastest INT8 that passes
#
# For each INT8 backend the search (`gan3d_lib.speed.int8_search`) first measures each layer's
# sensitivity (that layer alone in INT8, judged by the gate without its classifiers), then,
# for each calibration setting (energy buckets with asymmetric activations where the backend
# offers them, then one change at a time: for OpenVINO on a CPU that computes BF16 (AVX-512
# BF16 or AMX), the layers left out of INT8 in BF16 instead of FP32 (its inference precision
# hint, read back from the compiled model), the other calibration methods, per-tensor weights,
# four times the calibration set, one model for all energies, symmetric activations, and for
# OpenVINO no bias correction), keeps layers in FP32 in the order "cheapest unmeasured first,
# then most damage per multiply-accumulate" (`quantization.quantizable_layer_costs`), as few
# as pass (bisection), and finally times every passing candidate side by side at batch
# {glue:text}`timing_batch` and keeps the fastest. A budget of {glue:text}`search_trials`
# trials and {glue:text}`search_minutes` minutes per backend bounds it; this run searches
# {glue:text}`searched_backends` (the `search_backends` parameter; searched artefacts of other
# backends left by earlier runs are removed, so chapters 4 and 5 see this run's only). The
# sensitivity phase measures the most expensive layers first and stops at half the budget.
# OpenVINO's own
# accuracy control (`nncf.quantize_with_accuracy_control`, which reverts the quantizers it
# ranks most harmful, one group per iteration) runs with the gate as its metric.

# %% tags=["remove-stderr"]
timing_batch = 128  # showers per batch when the passing candidates are timed
glue("timing_batch", timing_batch, display=False)
glue("search_trials", params["max_trials"], display=False)
glue("search_minutes", params["search_minutes"], display=False)
glue("searched_backends", params["search_backends"].replace(",", ", "), display=False)
calibration_pool = quantization.calibration_latents(4 * params["n_calibration"], seed=seed)
for folder in ("conv2d_lite", "conv2d_paper"):
    int8_search.remove_stale_searches(root / folder, params["search_backends"].split(","))
searched, search_skipped = int8_search.search_backends(
    params["search_backends"].split(","), generator, root / "conv2d_lite", gate_ref, gate_z, model="conv2d", size="lite",
    source=weights_dir, calibration=calibration_pool, n_calibration=params["n_calibration"],
    max_trials=params["max_trials"], max_minutes=params["search_minutes"], timing_batch=timing_batch,
    timing_seconds=params["timing_seconds"], progress=False)
for backend, out in searched.items():
    plotting.plot_search_trials(out["search"].to_dict(), title=f"{backend}: INT8 search on the lite generator")
    plt.show()
display(Markdown(markdown_table(search_rows(searched), {"backend": "backend", "trials": "trials", "budget": "budget hit",
                                              "passing": "passing candidates", "passed": "chosen passes",
                                              "fp32_layers": "layers in FP32", "calibration": "calibration",
                                              "minutes": "minutes"}, {"minutes": ".1f"})))
for backend, why in search_skipped.items():
    print(f"{backend}: search not run. {why}")
results["search"] = {b: {**o["search"].to_dict(), "layers": o["layers"], "gate": o["gate"].to_dict()}
                     for b, o in searched.items()}
results["search_skipped"] = search_skipped

# %% tags=["remove-stderr"]
ac_art, ac_record = openvino_artefacts.accuracy_controlled_int8(
    generator, root / "conv2d_lite" / "openvino-int8-accuracy-control", calibration,
    lambda showers: gate.precision_gate(showers, gate_ref), gate_z, model="conv2d", size="lite", source=weights_dir,
    max_iterations=params["ac_iterations"])
lite["openvino-int8-accuracy-control"] = ac_art
results["accuracy_control"] = ac_record

# %% [markdown]
# The chosen artefact of each search and the accuracy-controlled OpenVINO model, judged by the
# gate (a search whose candidates all failed keeps its least failing one, marked as failing):

# %%
tuned_names = {f"{b}-tuned": o["artefact"] for b, o in searched.items()}
tuned_names["openvino-int8-accuracy-control"] = ac_art
lite.update(tuned_names)
tuned_gate = {k: gate.precision_gate(a.generate_from_latent(gate_z), gate_ref) for k, a in tuned_names.items()}
display(Markdown(markdown_table(gate.gate_table(tuned_gate), gate_columns, gate_formats)))
results["gate_tuned"] = {k: r.to_dict() for k, r in tuned_gate.items()}
display(Markdown("Layers the chosen artefacts keep in FP32, with their sensitivity (worst gate ratio with "
                 "the layer alone in INT8):\n\n" + markdown_table(
                     fp32_layer_rows(searched), {"backend": "backend", "layer": "layer", "sensitivity": "sensitivity"},
                     {"sensitivity": ".3g"})))
n_pass = sum(r.passed for r in tuned_gate.values())
glue("n_tuned_pass", n_pass, display=False)
glue("n_tuned", len(tuned_gate), display=False)

# %% [markdown]
# {glue:text}`n_tuned_pass` of the {glue:text}`n_tuned` tuned INT8 artefacts pass the gate.
#
# ## Which ops run in INT8
#
# Counts of compute ops per precision in each INT8 artefact (`int8 / fp32`):

# %%
int8_names = ["inc-int8", "tflite-int8", "onnx-int8", "openvino-int8", *tuned_names]
op_tables = {name: op_precision_table(lite[name]) for name in int8_names}
display(Markdown(markdown_table(op_table_rows(op_tables), {"op": "op type", **{n: n for n in op_tables}})))
results["op_tables"] = op_tables
costs = {b: quantization.quantizable_layer_costs(b, generator) for b in {lite[n].backend for n in int8_names}}
mac_shares = {name: int8_mac_share(lite[name], costs[lite[name].backend]) for name in int8_names}
display(Markdown("Share of the generator's multiply-accumulates each INT8 artefact computes in INT8 (OpenVINO: the "
                 "layers its compiled model executes in INT8, read from the CPU plugin's runtime model; a layer asked "
                 "for and not executed is named):\n\n" + markdown_table(
                     [{"artefact": n, "share": 100 * m["share"], "layers": len(m["int8_layers"]),
                       "not_executed": ", ".join(m["not_executed"] or []) or "–"} for n, m in mac_shares.items()],
                     {"artefact": "artefact", "share": "INT8 MACs [%]", "layers": "INT8 layers",
                      "not_executed": "asked for, not executed"}, {"share": ".1f"})))
results["int8_mac_share"] = mac_shares

# %% [markdown]
# In the INC and ONNX Runtime graphs LeakyReLU, the BatchNorm scale-and-shift (`Mul`,
# `AddV2`/`Add`), the final ReLU and the small-cell head's exponential stay in FP32: the INT8 tensors are dequantized around
# them, and re-quantized before the next convolution. With the phase rewrite INC quantizes
# every convolution, the transposed ones included; ONNX Runtime has INT8 transposed
# convolutions of its own. TensorFlow Lite's full-integer model runs every op in INT8,
# LeakyReLU and the BatchNorm arithmetic included, with one quantization step per tensor.
#
# ## Bytes on disk
#
# The same backends for the trained paper-size Conv2D generator (2 million parameters, `paper_weights_dir`), whose
# artefacts chapter 4 times; its tuned INT8 artefacts keep in FP32 the layers the lite search chose, layer for layer
# (a layout transferred from the lite generator, not searched on this one):

# %% tags=["remove-stderr"]
paper_gen = load_generator(paper_weights_dir)
paper = {b: quantization.make_artefact(b, paper_gen, root / "conv2d_paper" / b, model="conv2d", size="paper",
                                       source=paper_weights_dir, calibration=calibration[:32]) for b in SIZE_BACKENDS}
paper.update(int8_search.transfer_searches(searched, paper_gen, root / "conv2d_paper", model="conv2d",
                                           size="paper", source=paper_weights_dir, calibration=calibration_pool))
sizes = size_rows(lite, paper, SIZE_BACKENDS)
display(Markdown(markdown_table(sizes, {"backend": "artefact", "lite_kb": "lite [kB]", "paper_kb": "paper [kB]",
                                            "paper_ratio": "paper: FP32 / this"},
                                {"lite_kb": ",.0f", "paper_kb": ",.0f", "paper_ratio": ".2f"})))
results["sizes"] = sizes
for r in sizes:
    glue(f"size_ratio_{r['backend'].replace('-', '_')}", r["paper_ratio"], display=False)

# %% [markdown]
# In the paper-size generator INT8 makes the INC graph {glue:text}`size_ratio_inc_int8:.2f`x,
# the TensorFlow Lite model {glue:text}`size_ratio_tflite_int8:.2f`x and the ONNX model
# {glue:text}`size_ratio_onnx_int8:.2f`x smaller than their FP32 versions; FP16 halves it
# ({glue:text}`size_ratio_tflite_fp16:.2f`x). The study's 2.26x was measured with half of the
# network left in FP32.
#
# ## The MSE table
#
# The study's table had FP32, tuned INT8 (its tool), TensorFlow Lite FP16 and TensorFlow Lite
# INT8; we add BF16, dynamic-range TensorFlow Lite and ONNX Runtime INT8. All rows are scored
# on the {glue:text}`n_eval` held-out showers, with the same latent vectors.

# %%
scores = score_artefacts({k: lite[k] for k in LABELS if k in lite}, ref_showers, ref_energies, seed=seed)
fp32_mse = scores["keras-fp32"]["mse"]
mse_table = mse_rows(scores, search_skipped)
display(Markdown(markdown_table(mse_table, {"label": "model", "mse": "MSE [%^2]", "ratio": "MSE / FP32",
                                           "sf_ratio": "SF / SF(MC)", "note": ""},
                                {"mse": ".4g", "ratio": ".3f", "sf_ratio": ".3f"})))
plotting.plot_metric_by_artefact([r for r in mse_table if r["mse"] is not None], fp32=fp32_mse, floor=floor)
plt.show()
results["mse_table"] = mse_table
for r in mse_table:
    if r["mse"] is not None:
        glue(f"mse_ratio_{r['key'].replace('-', '_')}", r["ratio"], display=False)
glue("fp32_mse", fp32_mse, display=False)

# %% [markdown]
# Against the same held-out showers the FP32 generator's MSE is {glue:text}`fp32_mse:.3g` %²
# (the Monte Carlo floor is {glue:text}`mc_floor:.2g` %²). The all-ops ONNX Runtime INT8 model
# reaches {glue:text}`mse_ratio_onnx_int8:.3f` times FP32's MSE, TensorFlow Lite INT8
# {glue:text}`mse_ratio_tflite_int8:.3f`, FP16 {glue:text}`mse_ratio_tflite_fp16:.3f` and BF16
# {glue:text}`mse_ratio_keras_bf16:.3f`. The MSE compares mean shapes with the Monte Carlo;
# the gate above compares whole showers with FP32, per energy bin, and is the verdict: an
# artefact can match FP32's MSE and still fail it (compare the two tables). The study's
# finding that tuned INT8 had a *lower* MSE than FP32 (0.053 against 0.061) is a statement
# about this metric only.

# %% tags=["hide-input"]
write_results(Path(results_dir) / "03_quantization.json", results,
              settings={"preset": preset, "seed": seed, "weights_dir": weights_dir, **params})

# %% [markdown]
# ## Summary
#
# Every reduced-precision version of the generator is written by a public tool, reloads in a
# fresh process, and is scored on the same showers. INT8 shrinks the paper-size generator
# about four times on disk; the physics gate says which precisions keep FP32's physics, and the search tables what keeping it costs.
#
# ### What's next?
#
# Chapter 4 measures the speed of every artefact on this machine; chapter 5 validates their
# physics beyond the shower-shape MSE.
#
# ## Resources and references
#
# * F. Rehm et al., *Reduced Precision Strategies for Deep Learning: A High Energy Physics
#   Generative Adversarial Network Use Case*, ICPRAM 2021.
# * Intel Neural Compressor 3.x, TensorFlow API (`quantize_model`, `StaticQuantConfig`).
# * LiteRT (`ai-edge-litert`) and ONNX Runtime quantization (`quantize_static`, QDQ format).
