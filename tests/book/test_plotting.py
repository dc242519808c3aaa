import numpy as np
from matplotlib.figure import Figure

from gan3d_lib.physics import observables as obs
from gan3d_lib.book import plotting


def test_every_plot_returns_a_figure_with_units(mc_sample):
    showers, energies = mc_sample
    plotting.use_style()
    figs = [
        plotting.plot_shower_projections([showers[0], showers[1]], ["a", "b"]),
        plotting.plot_profiles_with_ratio({"a": (np.arange(1, 26.0), None), "b": (np.arange(2, 27.0), np.ones(25))},
                                          xlabel="layer", ylabel="energy [GeV]"),
        plotting.plot_sampling_fraction(energies, obs.sampling_fraction(showers, energies),
                                        binned=obs.binned_response(showers, energies, [2, 250, 500]),
                                        reference={"energy_gev": [10.0], "sampling_fraction": [0.028]}),
        plotting.plot_geant4_comparison([{"energy_gev": 10.0, "sampling_fraction_mc": 0.028,
                                          "sampling_fraction_geant4": 0.0286, "peak_layer_mc": 9,
                                          "peak_layer_geant4": 9, "cells_hit_mc": 230.0, "cells_hit_geant4": 217}]),
        plotting.plot_cell_energy_spectrum({"all": obs.cell_energy_spectrum(showers)}),
    ]
    for fig in figs:
        assert isinstance(fig, Figure)
        labels = [ax.get_xlabel() for ax in fig.axes if ax.get_xlabel()]
        assert labels and all("[" in label or label == "layer" for label in labels), labels


def test_validation_plots(mc_sample):
    import matplotlib.pyplot as plt

    from gan3d_lib.validation import validation

    showers, energies = mc_sample
    plotting.use_style()
    half = len(showers) // 2
    shapes = {lab: {a: obs.normalised_profile_mean(s, a) for a in obs.AXES}
              for lab, s in (("MC", showers[:half]), ("other", 1.1 * showers[half:]))}
    binned = {lab: obs.binned_response(s, e, [2, 100, 250, 500])
              for lab, s, e in (("MC", showers[:half], energies[:half]), ("other", showers[half:], energies[half:]))}
    feats = {"MC": validation.high_level_features(showers[:half], energies[:half]),
             "other": validation.high_level_features(showers[half:], energies[half:])}
    figs = [
        plotting.plot_shower_shapes_by_artefact(shapes, reference="MC"),
        plotting.plot_sampling_fraction_by_artefact(binned, reference="MC"),
        plotting.plot_feature_distributions(feats, {"hits": "hits [cells]", "z_centre": "depth centre [layer]"},
                                            reference="MC"),
        plotting.plot_cell_energy_spectra_by_artefact({"MC": obs.cell_energy_spectrum(showers[:half]),
                                                       "other": obs.cell_energy_spectrum(showers[half:])}, reference="MC"),
        plotting.plot_separation_power_heatmap(np.array([[0.01, 0.5], [np.nan, 1e-3]]), ["a", "b"], ["x", "y"]),
        plotting.plot_scores_by_artefact(["fp32", "int8"], {"low-level": ([0.9, None], [0.01, None])},
                                         xlabel="AUC [0.5-1]", floors={"low-level": (0.5, 0.02)}, floor_label="floor"),
        plotting.plot_single_feature_aucs({"GAN": {f"f{i}": 0.5 + 0.03 * i for i in range(15)},
                                           "MC twin": {f"f{i}": 0.5 for i in range(15)}}, top=4),
    ]
    for fig in figs:
        assert isinstance(fig, Figure)
        labels = [ax.get_xlabel() or ax.get_ylabel() for ax in fig.axes if ax.get_xlabel() or "[" in ax.get_ylabel()]
        assert labels and all("[" in label or label == "layer" for label in labels), labels
        plt.close(fig)
    assert len(figs[0].axes) == 6 and len(figs[0].axes[0].lines) >= 2  # x, y, z panels and ratios; both samples
    assert [t.get_text() for t in figs[-1].axes[0].get_yticklabels()] == ["f11", "f12", "f13", "f14"]  # best on top
    assert len(figs[-1].axes[0].patches) == 8  # the four best features, two samples each
    import pytest

    with pytest.raises(ValueError, match=r"\(2, 2\) do not match 3 features"):
        plotting.plot_separation_power_heatmap(np.zeros((2, 2)), ["a", "b", "c"], ["x", "y"])


def test_benchmark_figures_draw_every_artefact_and_config():
    def rec(name, size, batch, rate, streams=1, threads=2):
        return {"artefact": f"a/{size}/{name}", "backend": name, "model": "conv2d", "size": size, "batch_size": batch,
                "status": "ok" if rate else "skipped", "showers_per_s": rate, "streams": streams,
                "threads_per_stream": threads}

    sweep = [rec(n, s, b, None if n == "inc-int8" else 10.0 * b ** 0.5) for n in ("tf-graph-fp32", "onnx-int8", "inc-int8")
             for s in ("lite", "paper") for b in (1, 16)]
    fig = plotting.plot_throughput_vs_batch(sweep)
    assert len(fig.axes) == 2 and all(len(ax.get_lines()) == 2 for ax in fig.axes)  # the skipped one is left out
    streams = [rec("tf-graph-fp32", "lite", b, 5.0 * n, n, 2 // n) for n in (1, 2) for b in (1, 32)]
    assert len(plotting.plot_stream_sweep(streams).axes[0].patches) == 4
    roof = [{"artefact": "a/lite/x", "backend": "onnx-int8", "model": "conv2d", "size": "lite", "batch_size": 16,
             "arithmetic": a, "fraction_of_peak": f} for a, f in (("int8", 0.3), ("fp32", 0.8), ("fp32", None))]
    ax = plotting.plot_roofline_fractions(roof).axes[0]
    assert len(ax.patches) == 2 and [t.get_text() for t in ax.get_legend().get_texts()] == ["FP32 arithmetic",
                                                                                           "INT8 arithmetic"]


def test_facts_claims_and_profile_figures():
    from gan3d_lib.data.mc_tuning import TOLERANCES

    rows = [{"energy_gev": e, "fact": "hits", "Geant4": 100.0 * e, "MC": 95.0 * e, "MC/Geant4": 0.95} for e in (10, 100)]
    fig = plotting.plot_facts_against_reference(rows, reference="Geant4", samples=["MC"], labels={"hits": "hits"},
                                                goals=TOLERANCES)
    assert len(fig.axes) == 2 and fig.axes[1].get_xlabel() == "primary energy [GeV]"
    claims = [{"quantity": "speed-up", "unit": "x", "value": 2.0, "measured": 1.0, "verdict": "not reproduced"},
              {"quantity": "memory", "unit": "x", "value": 2.0, "measured": None, "verdict": "not measured"}]
    fig = plotting.plot_claims(claims, tolerance=0.85)
    assert len(fig.axes[0].containers[0]) == 1  # one bar: the claim with a measured value
    prof = {"artefact": "a/conv2d/tf-graph-fp32", "batch_size": 4, "ops": [{"op": "convolution", "ms": 3.0},
                                                                          {"op": "reorder", "ms": 1.0}]}
    fig = plotting.plot_op_profiles({"FP32": [prof, {**prof, "artefact": "a/conv3d/tf-graph-fp32"}],
                                     "skipped": [{"skipped": "tflite"}]})
    assert fig.axes[0].get_xlabel() == "ms per batch of 4"
