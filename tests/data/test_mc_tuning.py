"""The Monte Carlo's fit to the Geant4 shower facts: bookkeeping on synthetic facts, the
shipped defaults against the committed fit record, and the shipped Monte Carlo against the goals."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from gan3d_lib.data.mc import ShowerTuning
from gan3d_lib.data.mc_tuning import (DEPTH_SPREAD_PARAMETERS, FIRST_FIT, RESPONSE_PARAMETERS, SHAPE_PARAMETERS, START,
                                 TOLERANCES, fit_depth_spread, mc_facts, named_tuning, normalised_residuals,
                                 parameter_table, residual_table)
from gan3d_lib.data.reference import GEANT4_SHOWER_FACTS

RECORD = Path(__file__).resolve().parents[2] / "data" / "mc_tuning.json"
FIRST_RECORD = RECORD.with_name("mc_tuning_first_fit.json")


def _shifted(by: dict[str, float]) -> dict[float, dict]:
    return {e: {k: v * by.get(k, 1.0) for k, v in facts.items()} for e, facts in GEANT4_SHOWER_FACTS.items()}


def test_residuals_are_in_units_of_the_goal():
    facts = _shifted({"x_width_cells": 1.03, "hits": 0.95})
    r = normalised_residuals(facts, GEANT4_SHOWER_FACTS, ["x_width_cells", "hits"]).reshape(-1, 2)
    assert r[:, 0] == pytest.approx(1.0)  # 3 % wider: exactly the 3 % goal
    assert r[:, 1] == pytest.approx(-0.5)  # 5 % fewer hits: half the 10 % goal


def test_residual_table_marks_each_goal_met_or_missed():
    rows = residual_table(_shifted({"layer0_pct": 1.5, "sf_mean_pct": 1.01}))
    assert len(rows) == len(GEANT4_SHOWER_FACTS) * len(TOLERANCES)
    by = {(r["energy_gev"], r["fact"]): r for r in rows}
    assert not by[(10.0, "layer0_pct")]["met"] and by[(10.0, "layer0_pct")]["deviation"] == pytest.approx(0.5)
    assert by[(10.0, "sf_mean_pct")]["met"] and by[(400.0, "core_3x3")]["met"]


def test_the_start_is_gflash_and_every_fitted_parameter_is_a_tuning_field():
    fields = asdict(START)
    assert all(k in fields for k in (*SHAPE_PARAMETERS, *RESPONSE_PARAMETERS))
    assert (START.first_layer_gev, START.last_layer_factor, START.core_radius_scale) == (0.0, 1.0, 1.0)
    assert START.depth_spread_power == FIRST_FIT.depth_spread_power == 0.0  # GFlash's energy dependence


def test_shipped_defaults_are_the_committed_fits():
    first, refit = json.loads(FIRST_RECORD.read_text()), json.loads(RECORD.read_text())
    assert first["start"] == asdict(START) and refit["start"] == asdict(FIRST_FIT)
    assert asdict(FIRST_FIT) == pytest.approx(first["tuning"], rel=1e-5)
    assert {k for k in asdict(FIRST_FIT) if asdict(FIRST_FIT)[k] != refit["tuning"][k]} <= set(DEPTH_SPREAD_PARAMETERS)
    for row in parameter_table(first, refit):
        assert row["now"] == pytest.approx(row["fitted"], rel=1e-5), row["parameter"]
    assert "gan3d tune-mc" in first["command"] and "--depth-spread-only" in refit["command"]


@pytest.fixture(scope="module")
def shipped_facts():
    # the fit's own check sample (data/mc_tuning.json "settings": n_check, seed + 1000)
    return mc_facts(ShowerTuning(), list(GEANT4_SHOWER_FACTS), n_per_energy=400, seed=1007)


@pytest.mark.parametrize("fact", ["x_width_cells", "y_width_cells", "core_3x3", "core_5x5", "layer0_pct",
                                  "last_layer_pct", "hits", "sf_mean_pct", "sf_rms_over_mean"])
def test_shipped_monte_carlo_meets_the_geant4_goals(shipped_facts, fact):
    rows = [r for r in residual_table(shipped_facts) if r["fact"] == fact]
    assert all(r["met"] for r in rows), [(r["energy_gev"], round(r["deviation"], 4)) for r in rows if not r["met"]]


def test_fitting_moved_the_monte_carlo_toward_geant4(shipped_facts):
    start = mc_facts(START, list(GEANT4_SHOWER_FACTS), n_per_energy=100, seed=4242)
    before = np.abs(normalised_residuals(start, GEANT4_SHOWER_FACTS, list(TOLERANCES)))
    after = np.abs(normalised_residuals(shipped_facts, GEANT4_SHOWER_FACTS, list(TOLERANCES)))
    assert after.max() < 1.0 < before.max()


def test_the_depth_spread_refit_brings_the_sf_spread_within_its_goal(shipped_facts):
    """The first fit (GFlash's energy dependence of the depth spread) misses the SF spread at
    some energy on the fit's check sample; the refit of the spread's scale and power does not."""
    first = mc_facts(FIRST_FIT, list(GEANT4_SHOWER_FACTS), n_per_energy=400, seed=1007)
    assert np.abs(normalised_residuals(first, GEANT4_SHOWER_FACTS, ["sf_rms_over_mean"])).max() > 1.0
    assert np.abs(normalised_residuals(shipped_facts, GEANT4_SHOWER_FACTS, ["sf_rms_over_mean"])).max() < 1.0


def test_fit_depth_spread_moves_only_the_depth_spread():
    reference = {e: GEANT4_SHOWER_FACTS[e] for e in (10.0, 400.0)}
    fit = fit_depth_spread(FIRST_FIT, reference=reference, n_simulated=16, n_check=16, max_evals=4, seed=3)
    changed = {k for k, v in asdict(fit.tuning).items() if v != asdict(FIRST_FIT)[k]}
    assert changed and changed <= set(DEPTH_SPREAD_PARAMETERS)
    assert fit.settings["fitted"] == list(DEPTH_SPREAD_PARAMETERS) and len(fit.table) == 2 * len(TOLERANCES)


def test_a_tuning_is_looked_up_by_name_and_an_unknown_name_is_refused():
    assert named_tuning("first-fit") is FIRST_FIT and named_tuning("start") is START
    with pytest.raises(ValueError, match="unknown Monte Carlo tuning 'second-fit': expected one of fitted, first-fit, start"):
        named_tuning("second-fit")
