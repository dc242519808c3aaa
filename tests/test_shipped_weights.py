"""The shipped lite Conv2D generator (stage 4 of `make weights`) against held-out Monte Carlo
at 10, 100 and 400 GeV: mean sampling fraction within 10 %, longitudinal peak within one layer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gan3d_lib import models
from gan3d_lib.evaluation import compare_at_energies
from gan3d_lib.training import generate_showers, load_generator, training_stages

WEIGHTS = Path(__file__).resolve().parents[1] / "data" / "weights" / "conv2d_lite_stage4"


@pytest.fixture(scope="module")
def comparison():
    generator = load_generator(WEIGHTS)
    return compare_at_energies(lambda e, s: generate_showers(generator, e, seed=s),
                               energies_gev=(10.0, 100.0, 400.0), n_per_energy=300, seed=77)["rows"]


def test_shipped_folder_records_how_it_was_made():
    config = json.loads((WEIGHTS / "config.json").read_text())
    assert (config["model"], config["size"]) == ("conv2d", "lite")
    history = json.loads((WEIGHTS / "history.json").read_text())
    assert len(history["history"]) == config["epochs"]
    assert "gan3d train" in (WEIGHTS / "command.txt").read_text()
    assert training_stages(WEIGHTS)[0].endswith("conv2d_lite")  # four stages back to the first run
    gen = load_generator(WEIGHTS)
    assert models.count_parameters(gen)["total"] == models.count_parameters(
        models.build_generator("conv2d", size="lite"))["total"]



def test_sampling_fraction_within_10_percent(comparison):
    for row in comparison:
        assert row["sampling_fraction_ratio"] == pytest.approx(1.0, abs=0.10), row["energy_gev"]


def test_peak_layer_within_one(comparison):
    for row in comparison:
        assert abs(row["peak_layer_diff"]) <= 1, (row["energy_gev"], row["peak_layer_gan"], row["peak_layer_mc"])
