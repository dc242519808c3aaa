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
#    ONNX Runtime FP32/INT8, Keras BF16, all loaded through one interface;
# 3. accuracy-driven tuning with the shower-shape MSE as objective, trial by trial;
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
# **Time to run:** about 10 minutes at the `default` preset, 5 at `ci`, on 2 CPU cores.
# **Hardware:** CPU only; INC INT8 graphs run only on CPUs with AVX-512 (see below).

# %% tags=["parameters"]
preset = "default"  # ci for tests, default for the published book
weights_dir = "data/weights/conv2d_lite_stage3"  # training folder of the generator to quantize
artefacts_dir = "data/artefacts"  # where the artefact folders are written (chapters 4 and 5 read them)
n_eval = 0  # held-out Monte Carlo showers for the physics metric, 0 takes the preset value
n_calibration = 0  # latent vectors for INT8 calibration, 0 takes the preset value
max_trials = 0  # tuning trials at most, 0 takes the preset value
tolerance = 0.10  # accepted relative increase of the MSE over FP32
seed = 1  # seed of every random draw in this chapter
results_dir = "results"  # where results/03_quantization.json is written

# %%
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from gan3d_lib import plotting, presets, quantization
from gan3d_lib.artefacts import HardwareUnsupported
from gan3d_lib.datasets import ensure_mc_dataset
from gan3d_lib.evaluation import score_artefacts, shape_mse_metric
from gan3d_lib.io import read_showers
from gan3d_lib.models import build_generator
from gan3d_lib.observables import shower_shape_mse
from gan3d_lib.results import machine_info, write_results
from gan3d_lib.tables import markdown_table
from gan3d_lib.training import load_generator

params = presets.resolve("03_quantization", preset, n_eval=n_eval, n_calibration=n_calibration, max_trials=max_trials)
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
backends = ["keras-fp32", "keras-bf16", "tf-graph-fp32", "inc-int8", "tflite-fp32", "tflite-fp16", "tflite-dynamic",
            "tflite-int8", "onnx-fp32", "onnx-int8"]
lite = {b: quantization.make_artefact(b, generator, root / "conv2d_lite" / b, model="conv2d", size="lite",
                                      source=weights_dir, calibration=calibration) for b in backends}

# %% [markdown]
# ## Held-out Monte Carlo and the physics metric
#
# Every artefact generates showers for the primary energies of the same held-out Monte
# Carlo sample (uniform in 2-500 GeV, like the CERN files), with the same latent vectors,
# and is scored by the shower-shape MSE of chapter 1 against that sample. Two independent
# Monte Carlo samples give the floor: the MSE that statistics alone produce.

# %%
ref_path = ensure_mc_dataset(Path("data/mc") / f"ch3_eval_seed{seed}_n{params['n_eval']}.h5", params["n_eval"],
                             seed=seed + 300, progress=False)
twin_path = ensure_mc_dataset(Path("data/mc") / f"ch3_twin_seed{seed}_n{params['n_eval']}.h5", params["n_eval"],
                              seed=seed + 301, progress=False)
ref_showers, ref_energies = read_showers(ref_path)
floor = shower_shape_mse(read_showers(twin_path)[0], ref_showers)["all"]
metric = shape_mse_metric(ref_showers, ref_energies, seed=seed)
results["mc_floor_mse"] = floor
glue("mc_floor", floor, display=False)
glue("n_eval", params["n_eval"], display=False)

# %% [markdown]
# ## Accuracy-driven tuning
#
# The tuner quantizes everything it can, scores the result, and if the MSE is more than
# {glue:text}`tolerance_pct:.0f` % above FP32's, keeps the ops nearest the output in FP32 and
# tries again, one layer of the graph more per trial. ONNX Runtime's INT8 runs on any x86
# CPU; INC's only where TensorFlow's INT8 kernels do.

# %% tags=["remove-stderr"]
glue("tolerance_pct", 100 * tolerance, display=False)
tuned = {}
for backend in ("onnx-int8", "inc-int8"):
    try:
        tuned[backend] = quantization.tune(backend, generator, root / "conv2d_lite" / f"{backend}-tuned", metric,
                                           model="conv2d", size="lite", source=weights_dir, tolerance=tolerance,
                                           max_trials=params["max_trials"], calibration=calibration, progress=False)
    except HardwareUnsupported as exc:
        tuned[backend] = {"skipped": str(exc)}
for backend, t in tuned.items():
    if "skipped" in t:
        print(f"{backend}: tuning skipped. {t['skipped']}")
        continue
    display(Markdown(f"**{backend}**, FP32 MSE {t['baseline']:.4g} %²:\n\n" + markdown_table(
        t["trials"], {"trial": "trial", "n_fp32_ops": "ops kept FP32", "metric": "MSE [%^2]", "ratio": "MSE / FP32",
                      "accepted": "within tolerance"}, {"metric": ".4g", "ratio": ".3f"})))
    plotting.plot_tuning_trials(t["trials"], tolerance=tolerance)
    plt.show()
results["tuning"] = {b: ({"skipped": t["skipped"]} if "skipped" in t else
                         {"baseline_mse": t["baseline"], "trials": t["trials"], "chosen": t["chosen"]})
                     for b, t in tuned.items()}
onnx_tuned = tuned["onnx-int8"]
glue("onnx_trials", len(onnx_tuned["trials"]), display=False)
glue("onnx_chosen_fp32_ops", onnx_tuned["trials"][onnx_tuned["chosen"]]["n_fp32_ops"]
     if onnx_tuned["chosen"] is not None else -1, display=False)
glue("inc_tuning_status", "ran" if "skipped" not in tuned["inc-int8"] else
     "could not run on this CPU (no AVX-512), so INC's rows below are empty", display=False)

# %% [markdown]
# ONNX Runtime's tuning took {glue:text}`onnx_trials` trial(s) and kept
# {glue:text}`onnx_chosen_fp32_ops` quantizable ops in FP32. INC's tuning
# {glue:text}`inc_tuning_status`.
#
# ## Which ops run in INT8
#
# Counts of compute ops per precision in each INT8 artefact (`int8 / fp32`):

# %%
int8_names = ["inc-int8", "tflite-int8", "onnx-int8"]
if "skipped" not in onnx_tuned:
    lite["onnx-int8-tuned"] = onnx_tuned["artefact"]
    int8_names.append("onnx-int8-tuned")
if "skipped" not in tuned["inc-int8"]:
    lite["inc-int8-tuned"] = tuned["inc-int8"]["artefact"]
    int8_names.append("inc-int8-tuned")
op_tables = {name: quantization.op_precision_table(lite[name]) for name in int8_names}
op_types = sorted({op for t in op_tables.values() for op in t})
rows = [{"op": op, **{name: (f"{t[op]['int8']} / {t[op]['fp32']}" if op in t else "")
                      for name, t in op_tables.items()}} for op in op_types]
display(Markdown(markdown_table(rows, {"op": "op type", **{n: n for n in op_tables}})))
results["op_tables"] = op_tables

# %% [markdown]
# In the INC and ONNX Runtime graphs LeakyReLU, the BatchNorm scale-and-shift (`Mul`,
# `AddV2`/`Add`) and the final ReLU stay in FP32: the INT8 tensors are dequantized around
# them, and re-quantized before the next convolution. With the phase rewrite INC quantizes
# every convolution, the transposed ones included; ONNX Runtime has INT8 transposed
# convolutions of its own. TensorFlow Lite's full-integer model runs every op in INT8,
# LeakyReLU and the BatchNorm arithmetic included, with one quantization step per tensor.
#
# ## Bytes on disk
#
# The same backends for the paper-size Conv2D generator (2 million parameters; untrained
# weights, which have the same size):

# %% tags=["remove-stderr"]
paper_gen = build_generator("conv2d", size="paper", seed=seed)
size_backends = ["keras-fp32", "tf-graph-fp32", "inc-int8", "tflite-fp32", "tflite-fp16", "tflite-dynamic",
                 "tflite-int8", "onnx-fp32", "onnx-int8"]
paper = {b: quantization.make_artefact(b, paper_gen, root / "conv2d_paper_untrained" / b, model="conv2d", size="paper",
                                       source="untrained", calibration=calibration[:32]) for b in size_backends}
fp32_of = {"keras-fp32": "keras-fp32", "tf-graph-fp32": "tf-graph-fp32", "inc-int8": "tf-graph-fp32",
           "tflite-fp32": "tflite-fp32", "tflite-fp16": "tflite-fp32", "tflite-dynamic": "tflite-fp32",
           "tflite-int8": "tflite-fp32", "onnx-fp32": "onnx-fp32", "onnx-int8": "onnx-fp32"}
size_rows = [{"backend": b, "lite_kb": lite[b].bytes_on_disk / 1e3, "paper_kb": paper[b].bytes_on_disk / 1e3,
              "paper_ratio": paper[fp32_of[b]].bytes_on_disk / paper[b].bytes_on_disk} for b in size_backends]
display(Markdown(markdown_table(size_rows, {"backend": "artefact", "lite_kb": "lite [kB]", "paper_kb": "paper [kB]",
                                            "paper_ratio": "paper: FP32 / this"},
                                {"lite_kb": ",.0f", "paper_kb": ",.0f", "paper_ratio": ".2f"})))
results["sizes"] = size_rows
for r in size_rows:
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
labels = {"keras-fp32": "FP32 (Keras)", "inc-int8-tuned": "INC INT8, tuned", "inc-int8": "INC INT8, all ops",
          "tflite-fp16": "TFLite FP16", "tflite-int8": "TFLite INT8", "keras-bf16": "BF16 (Keras)",
          "onnx-int8-tuned": "ONNX Runtime INT8, tuned", "onnx-int8": "ONNX Runtime INT8, all ops",
          "tflite-dynamic": "TFLite dynamic range"}
scores = score_artefacts({k: lite[k] for k in labels if k in lite}, ref_showers, ref_energies, seed=seed)
fp32_mse = scores["keras-fp32"]["mse"]
mse_rows = []
for key, label in labels.items():
    if key == "inc-int8-tuned" and key not in scores:
        mse_rows.append({"label": label, "key": key, "mse": None, "ratio": None, "sf_ratio": None,
                         "note": "not run: " + tuned["inc-int8"]["skipped"].split("; ")[-1]})
        continue
    s = scores[key]
    mse_rows.append({"label": label, "key": key, "mse": s["mse"], "ratio": s["mse"] / fp32_mse if s["mse"] else None,
                     "sf_ratio": s["sampling_fraction_ratio"], "note": "not run: no AVX-512" if s["error"] else ""})
display(Markdown(markdown_table(mse_rows, {"label": "model", "mse": "MSE [%^2]", "ratio": "MSE / FP32",
                                           "sf_ratio": "SF / SF(MC)", "note": ""},
                                {"mse": ".4g", "ratio": ".3f", "sf_ratio": ".3f"})))
plotting.plot_metric_by_artefact([r for r in mse_rows if r["mse"] is not None], fp32=fp32_mse, floor=floor)
plt.show()
results["mse_table"] = mse_rows
for r in mse_rows:
    if r["mse"] is not None:
        glue(f"mse_ratio_{r['key'].replace('-', '_')}", r["ratio"], display=False)
glue("fp32_mse", fp32_mse, display=False)

# %% [markdown]
# Against the same held-out showers the FP32 generator's MSE is {glue:text}`fp32_mse:.3g` %²
# (the Monte Carlo floor is {glue:text}`mc_floor:.2g` %²). The tuned ONNX Runtime INT8 model
# reaches {glue:text}`mse_ratio_onnx_int8_tuned:.3f` times FP32's MSE, TensorFlow Lite INT8
# {glue:text}`mse_ratio_tflite_int8:.3f`, FP16 {glue:text}`mse_ratio_tflite_fp16:.3f` and BF16
# {glue:text}`mse_ratio_keras_bf16:.3f`. Quantization changes the MSE by much less than the
# distance between the FP32 generator and the Monte Carlo: what the `lite` generator has not
# learned dominates what INT8 loses. Whether the study's finding that tuned INT8 was *better*
# than FP32 (0.053 against 0.061) survives depends on that distance; here it is a change of a
# few percent either way, within the noise of {glue:text}`n_eval` showers. Chapter 5 looks
# beyond the mean shapes, per energy bin and feature.

# %%
write_results(Path(results_dir) / "03_quantization.json", results,
              settings={"preset": preset, "seed": seed, "weights_dir": weights_dir, "tolerance": tolerance, **params})

# %% [markdown]
# ## Summary
#
# Every reduced-precision version of the generator is written by a public tool, reloads in a
# fresh process, and is scored on the same showers. INT8 shrinks the paper-size generator
# about four times on disk; the MSE table shows what each precision costs in physics.
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
