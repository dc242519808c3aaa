import numpy as np
from matplotlib.figure import Figure

from gan3d_lib import observables as obs
from gan3d_lib import plotting


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
