"""The shipped Conv2D generators against held-out Monte Carlo: the lite one (the last stage of
`make weights-stage14`), the paper-size one (`make weights-paper`: the lite one widened and trained
on) and the lite recipe from scratch (`make weights`, not shipped). At 10, 100 and 400 GeV: mean
sampling fraction within 10 %, longitudinal peak within one layer; per energy bin of chapter 5: the
generator goals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gan3d_lib.models import models
from gan3d_lib.validation.evaluation import compare_at_energies
from gan3d_lib.models.inference import generate_showers
from gan3d_lib.training.training import load_generator, training_stages

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "weights"
#: {generator: its training folder and its first stage's}
FOLDERS = {"lite": SHIPPED / "conv2d_lite_stage14", "paper": SHIPPED / "conv2d_paper",
           "recipe": SHIPPED / "conv2d_lite_recipe3"}
FIRST_STAGE = {"lite": "conv2d_lite", "paper": "conv2d_lite", "recipe": "conv2d_lite_recipe1"}


@pytest.fixture(scope="module", params=sorted(FOLDERS))
def which(request):
    return request.param


@pytest.fixture(scope="module")
def comparison(which):
    generator = load_generator(FOLDERS[which])
    return compare_at_energies(lambda e, s: generate_showers(generator, e, seed=s),
                               energies_gev=(10.0, 100.0, 400.0), n_per_energy=300, seed=77)["rows"]


def test_shipped_folder_records_how_it_was_made(which):
    weights = FOLDERS[which]
    config = json.loads((weights / "config.json").read_text())
    assert (config["model"], config["size"]) == ("conv2d", "paper" if which == "paper" else "lite")
    history = json.loads((weights / "history.json").read_text())
    assert len(history["history"]) == config["epochs"]
    assert "gan3d train" in (weights / "command.txt").read_text()
    assert training_stages(weights)[0].endswith(FIRST_STAGE[which])  # every stage back to the first run
    gen = load_generator(weights)
    assert models.generator_options(gen) == {head: config.get(head, False) for head in models.HEADS}
    assert models.count_parameters(gen)["total"] == models.count_parameters(
        models.build_generator("conv2d", size=config["size"], **models.generator_options(gen)))["total"]



def test_sampling_fraction_within_10_percent(comparison):
    for row in comparison:
        assert row["sampling_fraction_ratio"] == pytest.approx(1.0, abs=0.10), row["energy_gev"]


#: generators whose longitudinal peak is more than one layer from the Monte Carlo's at some energy: the recipe
#: from scratch (3 layers at one of the three energies; it is not shipped)
PEAK_MISSED = {"recipe"}


def test_peak_layer_within_one(comparison, which):
    worst = max(comparison, key=lambda row: abs(row["peak_layer_diff"]))
    assert (abs(worst["peak_layer_diff"]) <= 1) is (which not in PEAK_MISSED), (
        worst["energy_gev"], worst["peak_layer_gan"], worst["peak_layer_mc"])


@pytest.fixture(scope="module")
def goals(which):
    """GENERATOR_GOALS rows, per energy bin of chapter 5, of the shipped generator against held-out
    Monte Carlo: 200 showers uniform within each bin."""
    import numpy as np

    from gan3d_lib.physics import observables as obs
    from gan3d_lib.data.mc import ShowerSimulator
    from gan3d_lib.physics.shower_facts import GENERATOR_GOALS, facts_by_energy_bin, goal_rows

    edges = obs.DEFAULT_ENERGY_BINS_GEV
    rng = np.random.default_rng(91)
    energies = np.concatenate([rng.uniform(lo, hi, 200) for lo, hi in zip(edges[:-1], edges[1:])]).astype(np.float32)
    sim = ShowerSimulator()
    mc = np.concatenate([sim.simulate_block(energies[i:i + 128].astype(float), np.random.default_rng(500 + i))
                         for i in range(0, len(energies), 128)])
    gan = generate_showers(load_generator(FOLDERS[which]), energies, seed=92)
    return {(r["key"], r["fact"]): r for r in goal_rows(facts_by_energy_bin(gan, energies), facts_by_energy_bin(mc, energies),
                                                          GENERATOR_GOALS)}


GOAL_BINS = ("2-20 GeV", "20-100 GeV", "100-250 GeV", "250-500 GeV")
GOAL_FACTS = ("hits", "sf_rms_over_mean", "x_width_cells", "layer0_pct")
#: goals a generator misses at latent seed 92 (its command.txt or chapter 2 says by how much): a missed goal
#: that is met fails the test until it is taken off this list. The paper-size one misses the hits at 250-500 GeV
#: (-21 %, goal 15 %); the recipe from scratch eight of sixteen.
MISSED: set[tuple[str, str, str]] = {("paper", "250-500 GeV", "hits")} | {
    ("recipe", b, f) for b, f in (("2-20 GeV", "sf_rms_over_mean"), ("2-20 GeV", "layer0_pct"),
                                  ("20-100 GeV", "sf_rms_over_mean"), ("100-250 GeV", "sf_rms_over_mean"),
                                  ("250-500 GeV", "hits"), ("250-500 GeV", "sf_rms_over_mean"),
                                  ("250-500 GeV", "x_width_cells"), ("250-500 GeV", "layer0_pct"))}


@pytest.mark.parametrize("energy_bin,fact", [(b, f) for b in GOAL_BINS for f in GOAL_FACTS])
def test_shipped_generator_meets_its_goal_against_the_monte_carlo(goals, which, energy_bin, fact):
    row = goals[(energy_bin, fact)]
    assert row["met"] is ((which, energy_bin, fact) not in MISSED), row
