import numpy as np
import pytest

from gan3d_lib.validation.evaluation import compare_at_energies
from gan3d_lib.data.mc import ShowerSimulator


def test_monte_carlo_against_itself_agrees_and_a_shifted_copy_does_not():
    sim = ShowerSimulator()
    same = compare_at_energies(lambda e, s: sim.simulate(len(e), seed=s, energy_range_gev=(e[0], e[0]))[0],
                               energies_gev=(50.0,), n_per_energy=64, seed=3)["rows"][0]
    assert same["sampling_fraction_ratio"] == pytest.approx(1.0, abs=0.02)
    assert abs(same["peak_layer_diff"]) <= 1 and same["shower_shape_mse"] < 0.05

    def shallow_and_dim(e, s):  # half the energy, shower moved 3 layers towards the front
        showers = sim.simulate(len(e), seed=s, energy_range_gev=(e[0], e[0]))[0]
        return 0.5 * np.concatenate([showers[..., 3:], np.zeros_like(showers[..., :3])], axis=-1)

    off = compare_at_energies(shallow_and_dim, energies_gev=(50.0,), n_per_energy=64, seed=3)["rows"][0]
    assert off["sampling_fraction_ratio"] < 0.6
    assert off["peak_layer_diff"] <= -2 and off["shower_shape_mse"] > 10 * same["shower_shape_mse"]
