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
# # Inference speed
#
# ## Overview
#
# The study's speed claims, measured on a 28-core Xeon with AVX-512 VNNI: the Conv2D
# generator is 2.1x faster than the original Conv3D one, INT8 makes it 1.8x faster again,
# several inference streams side by side give 2.2x the throughput of one, and the GAN is
# about 68 000x faster than Geant4. This chapter measures every one of them on the reader's
# machine, side by side in one run, and says how far each result is from what the
# hardware allows:
#
# 1. the machine and its arithmetic limits;
# 2. throughput and latency against batch size for every artefact of chapter 3;
# 3. several streams (processes pinned to their own cores) against one, and Monte Carlo
#    generation on one and two Dask workers;
# 4. the speed-up table: each claim beside our measured ratio;
# 5. the fraction of the CPU's peak that each artefact reaches;
# 6. where the time goes (per-op profiles) and the Conv3D question across runtimes and threads;
# 7. the same ratios measured a second time, to show how much of each is noise.
#
# ## Prerequisites
#
# | concept | importance |
# |---|---|
# | chapter 3 (the artefacts, one loader for every precision) | necessary |
# | throughput vs latency, batching | helpful |
#
# **Time to run:** about 10 minutes at the `default` preset, under 3 at `ci`, on 2 CPU cores.
# **Hardware:** CPU only. Close other programs: the numbers are only as quiet as the machine.

# %% tags=["parameters"]
preset = "default"  # ci for tests, default for the published book
artefacts_dir = "data/artefacts"  # artefact folders written by chapter 3
seconds_per_point = 0.0  # timed seconds per (artefact, batch) point, 0 takes the preset value
batch_sizes = ""  # comma-separated batch sizes of the lite sweep, "" takes the preset value
paper_batch_sizes = ""  # batch sizes of the paper-size sweep, "" takes the preset value
stream_batch_sizes = ""  # batch sizes of the multi-stream sweep, "" takes the preset value
rounds = 0  # times each point is measured, interleaved (the median counts), 0 takes the preset value
n_mc = 0  # Monte Carlo showers per throughput measurement, 0 takes the preset value
seed = 1  # seed of the latent vectors and primary energies
results_dir = "results"  # where results/04_inference.json is written

# %% tags=["hide-input"]
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from gan3d_lib.core import machine_info, markdown_table, write_results
from gan3d_lib.data import geant4_showers_per_s
from gan3d_lib.models import build_generator, multiply_accumulates
from gan3d_lib.precision import load_manifest, make_missing_artefacts
from gan3d_lib.speed import (dask_generation_throughput, mc_throughput, measured_peaks, op_profile, parse_int_list,
                             peak_macs_per_s, profile_table, roofline, run_stream_configs, run_streams,
                             stream_configs)
from gan3d_lib.book import (PRECISION_COMPARISONS, compare_sentence, conv2d_over_conv3d, conv3d_paragraph,
                            int8_paragraph, plotting, presets, profile_paragraph, speedup_table, spread_sentence)

params = presets.resolve("04_inference", preset, seconds_per_point=seconds_per_point, batch_sizes=batch_sizes,
                         paper_batch_sizes=paper_batch_sizes, stream_batch_sizes=stream_batch_sizes, n_mc=n_mc,
                         rounds=rounds)
seconds = float(params["seconds_per_point"])
timing = {"seconds": seconds, "rounds": int(params["rounds"]), "warmup": 1, "seed": seed}
lite_batches = parse_int_list(params["batch_sizes"])
paper_batches = parse_int_list(params["paper_batch_sizes"])
stream_batches = parse_int_list(params["stream_batch_sizes"])
plotting.use_style()
root = Path(artefacts_dir)
results: dict = {}

# %% [markdown]
# ## The machine and its limits
#
# Peak multiply-accumulates (MACs) per second follow from the core count, the clock and the
# vector width: two FMA units per core each do one FP32 MAC per 32-bit lane per cycle; with
# VNNI, `vpdpbusd` does four INT8 MACs per lane, so INT8's limit is 4x FP32's; without VNNI
# the same INT8 work takes two instructions, and the limit is 2x. Beside the nominal peak,
# large matrix products (`gan3d_lib.speed.gemm_peaks`, measured once for this chapter) show
# what tuned kernels reach here.

# %%
machine = machine_info()
cores = machine["usable_cores"]
gemm = measured_peaks()
peaks = peak_macs_per_s(machine)
display(Markdown(markdown_table([{**machine, **peaks, "fp32_g": peaks["fp32"] / 1e9, "int8_g": peaks["int8"] / 1e9,
                                  "sgemm_g": gemm["fp32"] / 1e9}],
                                {"cpu_model": "CPU", "usable_cores": "cores", "clock_ghz": "nominal clock [GHz]",
                                 "vector_bits": "vector bits", "vnni": "INT8 VNNI", "avx512_bf16": "BF16",
                                 "fp32_g": "FP32 peak [GMAC/s]", "int8_g": "INT8 peak [GMAC/s]",
                                 "sgemm_g": "FP32 matrix product [GMAC/s]"},
                                {"clock_ghz": ".2f", "fp32_g": ",.0f", "int8_g": ",.0f", "sgemm_g": ",.0f"})))
results["machine"], results["nominal_peaks"] = machine, peaks
glue("cpu_model", machine["cpu_model"], display=False)
glue("cores", cores, display=False)
glue("rounds", timing["rounds"], display=False)
glue("int8_limit", peaks["int8_over_fp32"], display=False)

# %% [markdown]
# ## Throughput against batch size
#
# Every artefact of chapter 3 runs in its own runtime (TensorFlow, LiteRT, ONNX Runtime) with
# {glue:text}`cores` intra-op threads pinned to the cores, after a warm-up batch, for a
# fixed time per point, in {glue:text}`rounds` interleaved rounds: within a round every
# artefact runs in turn at one batch size, then at the next. A throughput is the median
# round's; a ratio between two artefacts is the median of their round-by-round ratios, so a
# slow phase of a shared machine, which hits both halves of a round alike, cancels. The
# paper-size Conv2D generator is the trained one chapter 3 wrote; the original Conv3D generator
# (untrained: weights do not change the arithmetic) is written here.

# %% tags=["remove-stderr"]
conv3d_root = root / "conv3d_paper_untrained"
conv3d, = make_missing_artefacts(lambda: build_generator("conv3d", size="paper", seed=seed), conv3d_root,
                                 ["tf-graph-fp32"], model="conv3d", size="paper", source="untrained")
lite = sorted(p for p in (root / "conv2d_lite").iterdir() if (p / "manifest.json").exists())
paper = sorted(p for p in (root / "conv2d_paper").iterdir() if (p / "manifest.json").exists()) + [conv3d]
sweep = run_streams(lite, lite_batches, **timing) + run_streams(paper, paper_batches, **timing)
results["sweep"] = sweep
fig = plotting.plot_throughput_vs_batch(sweep)
plt.show()

# %%
ok = [r for r in sweep if r["status"] == "ok"]
name = lambda r: f"{Path(r['artefact']).parent.name}/{Path(r['artefact']).name}"  # noqa: E731
skipped = sorted({name(r) for r in sweep if r["status"] == "skipped"})
display(Markdown(markdown_table(
    [{**r, "name": name(r)} for r in ok],
    {"name": "artefact", "batch_size": "batch", "showers_per_s": "showers/s", "latency_ms_p50": "p50 [ms/batch]",
     "latency_ms_p99": "p99 [ms/batch]"},
    {"showers_per_s": ",.1f", "latency_ms_p50": ".1f", "latency_ms_p99": ".1f"})))
glue("skipped_artefacts", ", ".join(skipped) if skipped else "none", display=False)

# %% [markdown]
# Skipped on this CPU (no kernel for it): {glue:text}`skipped_artefacts`.
#
# ## Several streams side by side
#
# N processes with M threads each, pinned to disjoint cores and started together, run the
# FP32 frozen graph of the `lite` generator; the aggregate is the sum of the streams'
# showers/s. One stream with all cores is the usual single-process benchmark. The processes
# of every (N, M) layout are started once and kept; the layouts take turns at each batch
# size, round after round, and a multi-stream ratio is again the median of round-by-round ratios.

# %% tags=["remove-stderr"]
fp32_lite = root / "conv2d_lite" / "tf-graph-fp32"
configs = stream_configs(cores, single_thread=params["stream_configs"] == "all")
stream_runs = run_stream_configs(fp32_lite, stream_batches, configs, **timing)
results["streams"] = stream_runs
fig = plotting.plot_stream_sweep(stream_runs)
plt.show()


# %% [markdown]
# ## Generation on Dask: one worker against two
#
# `gan3d generate` splits a request into seeded shards and runs them on Dask (see
# {doc}`../scale_out`). Monte Carlo generation, {glue:text}`n_dask` showers in shards of
# {glue:text}`dask_shard`, on a local cluster of single-thread worker processes:

# %%
dask_runs = [dask_generation_throughput(params["n_mc"], workers=w, shard_size=params["n_mc"] // 4, seed=seed)
             for w in (1, min(2, cores))]
display(Markdown(markdown_table(dask_runs, {"workers": "workers", "showers_per_s": "showers/s", "seconds": "seconds"},
                                {"showers_per_s": ",.0f", "seconds": ".2f"})))
results["dask_generation"] = dask_runs
glue("n_dask", params["n_mc"], display=False)
glue("dask_shard", dask_runs[0]["n_showers"] // dask_runs[0]["shards"], display=False)
glue("dask_scaling", dask_runs[-1]["showers_per_s"] / dask_runs[0]["showers_per_s"], display=False)

# %% [markdown]
# Two workers generate {glue:text}`dask_scaling:.2f`x the showers per second of one.
#
# ## The speed-up table
#
# Each of the study's claims beside the ratio measured here. Every ratio compares two runs of
# this chapter on the same cores and the same batch size, within one runtime where possible
# (INT8 against the FP32 model of the same runtime), so that the runtime's own speed does not
# count as the precision's.
# The last column is the verdict of chapter 3's physics gate recorded by each INT8 search: an
# artefact whose search found no configuration that passes is timed all the same, but its
# speed is not that of a generator a physicist could use.

# %%
mc = mc_throughput(params["n_mc"], seed=seed, workers=cores, repeats=2)
table = speedup_table(sweep, stream_runs, mc_rate=mc["showers_per_s"], geant4_rate=geant4_showers_per_s(cores),
                      conv3d=conv3d, cores=cores)
display(Markdown(markdown_table(table, {"claim": "comparison", "setting": "setting", "paper": "study", "ours": "measured here",
                                       "gate": "physics gate (INT8 search)"},
                                {"paper": ",.1f", "ours": ",.2f"})))
results["mc_throughput"] = mc
results["geant4_showers_per_s"] = geant4_showers_per_s(cores)
results["speedups"] = table
for i, row in enumerate(table):
    glue(f"speedup_{i}", row["ours"] if row["ours"] is not None else float("nan"), display=False)

# %% [markdown]
# ## Fraction of the hardware limit
#
# Achieved MACs per second (showers/s at the best batch size times the generator's MACs per
# shower, counted by `multiply_accumulates`, padding included) over what a large matrix
# product reaches on this CPU in the same arithmetic (`gan3d_lib.speed.gemm_peaks`: FP32 through
# TensorFlow's oneDNN and ONNX Runtime, BF16 through oneDNN, INT8 through ONNX Runtime's
# `MatMulInteger`), measured independently of the models. A fraction above 100 % can mean
# that the model does fewer operations than counted (a convolution algorithm such as
# Winograd) or that the GEMM is not the fastest kernel here; it is shown as measured, and the
# profiles below list the convolution algorithms oneDNN actually ran.

# %%
generator_options = {(r["model"], str(r["size"])): load_manifest(r["artefact"]).get("generator_options", {}) for r in ok}
macs = {(m, s): multiply_accumulates(build_generator(m, size=s, **o)) for (m, s), o in generator_options.items()}
display(Markdown(markdown_table([{"what": k, "gmacs": gemm[k] / 1e9} for k in ("fp32_tf", "fp32_ort", "bf16_tf", "int8_ort")
                                 if gemm[k] is not None],
                                {"what": f"matrix product, {gemm['n']}x{gemm['n']}, {gemm['threads']} threads",
                                 "gmacs": "GMAC/s"}, {"gmacs": ",.0f"})))
measured = {k: gemm[k] for k in ("fp32", "int8", "bf16")}  # bf16 None (not measured) on a CPU without BF16
results["gemm_peaks"] = gemm
roof = roofline(ok, macs, measured, machine)
for r in roof:
    r["name"] = name(r)
display(Markdown(markdown_table(roof, {"name": "artefact", "batch_size": "best batch", "showers_per_s": "showers/s",
                                       "gmacs_per_s": "GMAC/s", "arithmetic": "arithmetic",
                                       "fraction_of_peak": "fraction of peak"},
                                {"showers_per_s": ",.1f", "gmacs_per_s": ",.1f", "fraction_of_peak": ".1%"})))
plotting.plot_roofline_fractions(roof)
plt.show()
results["roofline"] = roof
results["macs_per_shower"] = {f"{m}_{s}": v for (m, s), v in macs.items()}
best_fp32 = max((r for r in roof if r["arithmetic"] == "fp32"), key=lambda r: r["fraction_of_peak"])
glue("best_fp32_fraction", 100 * best_fp32["fraction_of_peak"], display=False)
glue("best_fp32_name", best_fp32["name"], display=False)

# %% [markdown]
# The best FP32 artefact, {glue:text}`best_fp32_name`, reaches {glue:text}`best_fp32_fraction:.0f` %
# of the measured FP32 matrix-product rate.

# %% [markdown]
# ## Where the time goes
#
# Each runtime's own profiler (`gan3d_lib.speed.profiles`, also `gan3d bench --profile`): for the
# TensorFlow graphs, oneDNN's log of every primitive it executed, with its kernel and its
# convolution algorithm, and the rest of the wall time as "outside oneDNN"; for ONNX Runtime
# its per-node profiler. Paper size at batch {glue:text}`profile_batch`, {glue:text}`cores`
# threads: the Conv2D against the Conv3D generator (FP32 frozen graphs), and FP32 against
# all-ops INT8 in ONNX Runtime, the INT8 runtime every x86 CPU runs.

# %% tags=["remove-stderr"]
profile_batch = max(paper_batches)
paper_dir = root / "conv2d_paper"
profile_paths = {"conv2d": paper_dir / "tf-graph-fp32", "conv3d": conv3d, "onnx-fp32": paper_dir / "onnx-fp32",
                 "onnx-int8": paper_dir / "onnx-int8"}
profiles = {k: op_profile(p, profile_batch, threads=cores, runs=int(params["profile_runs"])) for k, p in profile_paths.items()}
plotting.plot_op_profiles({"Conv2D against Conv3D (TensorFlow graph, FP32)": [profiles["conv2d"], profiles["conv3d"]],
                           "FP32 against INT8 (ONNX Runtime, Conv2D)": [profiles["onnx-fp32"], profiles["onnx-int8"]]})
plt.show()
display(Markdown(markdown_table(profile_table(list(profiles.values())),
                                {"artefact": "artefact", "op": "op type", "ms": "ms per batch", "share": "share"},
                                {"ms": ".3g", "share": ".0%"})))
results["profiles"] = profiles
glue("profile_batch", profile_batch, display=False)

# %% [markdown]
# ## The Conv3D question
#
# The study measured its Conv2D generator 2.1x faster than the Conv3D one. The same two
# graphs, paper size, at batch {glue:text}`profile_batch`, in three runtimes (TensorFlow's
# frozen graph, ONNX Runtime, OpenVINO FP32) with one thread and with all
# {glue:text}`cores`, in interleaved rounds as above. A runtime is timed only where its export
# of both generators computes the TensorFlow graph's showers (the reference showers each
# artefact records when it is written):

# %% tags=["remove-stderr"]
make_missing_artefacts(lambda: build_generator("conv3d", size="paper", seed=seed), conv3d_root, ["onnx-fp32", "openvino-fp32"],
                       model="conv3d", size="paper", source="untrained")
conv3d_rows = conv2d_over_conv3d(paper_dir, conv3d_root, ["tf-graph-fp32", "onnx-fp32", "openvino-fp32"], profile_batch,
                                 sorted({1, cores}), **timing)
display(Markdown(markdown_table(conv3d_rows, {"runtime": "runtime", "threads": "threads",
                                              "ratio": "Conv2D / Conv3D showers per second", "note": ""},
                                {"ratio": ".2f"})))
results["conv3d_question"] = conv3d_rows

# %% [markdown]
# ## The same ratios, measured again
#
# A second run of every point the speed-up table uses, straight after the first: how much
# each ratio moves between two back-to-back runs on the same machine.

# %% tags=["remove-stderr"]
in_table = {name for _, num, den, _ in PRECISION_COMPARISONS for name in (num, den)} | {"tf-graph-fp32"}
table_lite = [p for p in lite if p.name in in_table]
table_paper = [p for p in paper if p.name in in_table or p == conv3d]
sweep2 = run_streams(table_lite, [max(lite_batches)], **timing) + run_streams(table_paper, [max(paper_batches)], **timing)
stream_points = sorted({r["batch_size"] for r in table if r["key"] == "streams"})
streams2 = run_stream_configs(fp32_lite, stream_points, stream_configs(cores, single_thread=False), **timing)
mc2 = mc_throughput(params["n_mc"], seed=seed, workers=cores, repeats=2)
table2 = speedup_table(sweep2, streams2, mc_rate=mc2["showers_per_s"], geant4_rate=geant4_showers_per_s(cores),
                       conv3d=conv3d, cores=cores)
second = {(b["claim"], b["setting"]): b["ours"] for b in table2}
repeat_rows = [{"claim": a["claim"], "setting": a["setting"], "first": a["ours"], "second": second[(a["claim"], a["setting"])],
                "rel_diff": abs(second[(a["claim"], a["setting"])] / a["ours"] - 1)} for a in table
               if a["ours"] and second.get((a["claim"], a["setting"]))]
display(Markdown(markdown_table(repeat_rows, {"claim": "comparison", "setting": "setting", "first": "run 1",
                                              "second": "run 2", "rel_diff": "difference"},
                                {"first": ",.2f", "second": ",.2f", "rel_diff": ".1%"})))
max_diff = max(r["rel_diff"] for r in repeat_rows)
results["repeatability"] = {"rows": repeat_rows, "max_rel_diff": max_diff}
glue("max_rel_diff", 100 * max_diff, display=False)

# %% [markdown]
# The largest difference between the two runs is {glue:text}`max_rel_diff:.1f` %.
#
# ## What explains the gaps

# %%
fraction = {(r["model"], str(r["size"]), r["backend"]): r["fraction_of_peak"] for r in roof}
noise = {(r["claim"], r["setting"]): r["rel_diff"] for r in repeat_rows}
conv_row = next(r for r in table if r["key"] == "conv2d_vs_conv3d")
int8_rows = [r for r in table if r["key"] == "precision" and "int8" in r["numerator"] and r["ours"] is not None]
streams_rows = [r for r in table if r["key"] == "streams"]
geant = next(r for r in table if r["key"] == "gan_vs_geant4")
text = [
    "**Conv2D vs Conv3D.** " + conv3d_paragraph(
        conv_row["ours"], noise.get((conv_row["claim"], conv_row["setting"])),
        macs_ratio=macs[("conv2d", "paper")] / macs[("conv3d", "paper")],
        fraction_conv2d=fraction.get(("conv2d", "paper", "tf-graph-fp32")),
        fraction_conv3d=fraction.get(("conv3d", "paper", "tf-graph-fp32")), setting=conv_row["setting"])
    + " " + profile_paragraph(profiles["conv2d"], profiles["conv3d"], "the Conv2D graph", "the Conv3D graph")
    + " " + spread_sentence(conv3d_rows, noise.get((conv_row["claim"], conv_row["setting"]))),
    "**INT8.** " + int8_paragraph(int8_rows, noise, int8_limit=peaks["int8_over_fp32"], vnni=peaks["vnni"])
    + " " + profile_paragraph(profiles["onnx-fp32"], profiles["onnx-int8"], "ONNX Runtime FP32", "ONNX Runtime INT8")
    + (" INC's INT8 graphs do not run on this CPU (no AVX-512)." if not machine["avx512f"] else ""),
    "**Streams.** " + " ".join(compare_sentence(f"{cores} single-thread streams", "one stream with all threads",
                                                r["ours"], noise.get((r["claim"], r["setting"])), r["setting"])
                               for r in streams_rows) + " The study measured 2.2x on 28 cores.",
    f"**Geant4.** Against the external Geant4 reference CPU time ({results['geant4_showers_per_s']:.1f} showers/s "
    f"on {cores} cores), the best GAN run is {geant['ours']:,.0f}x faster. The study's 68 000x (38 000x in FP32) "
    "came from its INT8 generator on a 28-core Xeon against its own Geant4 timing; neither side's core count is "
    "stated, so this row compares orders of magnitude, not digits.",
    f"**Noise.** Measured twice back to back, the ratios moved by up to {100 * max_diff:.0f} %; a ratio closer "
    "to a claim than that is not a disagreement.",
]
display(Markdown("\n\n".join(text)))
results["explanations"] = text

# %% tags=["hide-input"]
write_results(Path(results_dir) / "04_inference.json", results,
              settings={"preset": preset, "seed": seed, **params, "artefacts_dir": artefacts_dir})

# %% [markdown]
# ## Summary
#
# Every speed figure of this chapter was measured here, on {glue:text}`cpu_model` with
# {glue:text}`cores` cores, side by side in interleaved rounds; the speed-up table sets them
# beside the study's, the profiles show where each generator spends its time, and the
# repeat shows how much of each ratio is noise ({glue:text}`max_rel_diff:.1f` % at most).
#
# ### What's next?
#
# Chapter 5 asks whether the faster artefacts still paint the same showers; the claims page
# gives each of the study's figures a verdict from these results.
#
# ## References
#
# * oneDNN verbose mode: https://uxlfoundation.github.io/oneDNN/dev_guide_verbose.html
# * ONNX Runtime profiling: https://onnxruntime.ai/docs/performance/tune-performance/profiling-tools.html
# * OpenVINO performance counters: https://docs.openvino.ai/ (``ov::enable_profiling``)
# * S. Williams, A. Waterman, D. Patterson, *Roofline: an insightful visual performance model
#   for multicore architectures*, Commun. ACM 52 (2009) 65.
