"""The per-energy shower facts: definitions checked on hand-made showers, and the table's
ratios against a reference."""

from __future__ import annotations

import numpy as np
import pytest

from gan3d_lib.data.reference import GEANT4_SHOWER_FACTS
from gan3d_lib.physics.shower_facts import FACTS, facts_table, shower_facts


def test_facts_of_hand_made_showers():
    s = np.zeros((2, 25, 25, 25), np.float32)
    s[:, 12, 12, 0] = 0.1   # layer 0, core
    s[:, 12, 14, 5] = 0.2   # 5x5 but not 3x3
    s[:, 12, 12, 24] = 0.7  # last layer, hottest
    f = shower_facts(s, np.array([50.0, 100.0]))
    assert f["sf_mean_pct"] == pytest.approx(100 * np.mean([1.0 / 50, 1.0 / 100]))
    assert f["core_3x3"] == pytest.approx(0.8) and f["core_5x5"] == pytest.approx(1.0)
    assert f["layer0_pct"] == pytest.approx(10.0) and f["last_layer_pct"] == pytest.approx(70.0)
    assert f["hits"] == 3 and f["hottest_cell"] == pytest.approx(0.7)
    assert f["x_width_cells"] == pytest.approx(0.0) and f["y_width_cells"] == pytest.approx(np.sqrt(0.2 * 0.8 * 4))


def test_table_ratios_against_the_reference():
    mine = {10.0: {k: 2 * v for k, v in GEANT4_SHOWER_FACTS[10.0].items()}}
    rows = facts_table({"Geant4": GEANT4_SHOWER_FACTS, "mine": mine}, reference="Geant4")
    assert len(rows) == len(GEANT4_SHOWER_FACTS) * len(FACTS)
    r10 = [r for r in rows if r["energy_gev"] == 10.0]
    assert all(r["mine/Geant4"] == pytest.approx(2.0) for r in r10)
    assert all("mine" not in r for r in rows if r["energy_gev"] != 10.0)


def test_goal_rows_display_and_summary_name_each_missed_goal():
    from gan3d_lib.book.shower_text import goal_display_rows, goal_summary
    from gan3d_lib.physics.shower_facts import goal_rows

    sample = {"2-20 GeV": {"hits": 80.0, "layer0_pct": 0.5}, "20-100 GeV": {"hits": 100.0, "layer0_pct": 0.1}}
    reference = {"2-20 GeV": {"hits": 100.0, "layer0_pct": 0.2}, "20-100 GeV": {"hits": 101.0, "layer0_pct": 0.1}}
    rows = goal_rows(sample, reference, {"hits": ("relative", 0.15), "layer0_pct": ("factor", 2.0)})
    shown = goal_display_rows(rows)
    assert [r["met"] for r in shown] == ["**no**", "**no**", "yes", "yes"]
    assert shown[0]["deviation"] == "-20.0 %" and shown[0]["goal"] == "within 15 %"
    assert shown[1]["deviation"] == "2.50x" and shown[1]["goal"] == "within 2x"
    text = goal_summary(rows)
    assert text.startswith("2 of 4 goals are met. Missed: ") and "in 2-20 GeV (-20.0 %)" in text and "(2.50x)" in text
    assert goal_summary(rows[2:]) == "2 of 2 goals are met. None is missed."
    assert "at 10 GeV" in goal_summary([{**rows[0], "energy_gev": 10.0}])


def test_latent_conditioning_rows_read_each_samples_energy_spread_and_the_latents_five_percent():
    from gan3d_lib.book.shower_text import latent_conditioning_rows

    rng = np.random.default_rng(3)
    energies = np.repeat([10.0, 50.0, 200.0, 400.0], 200)
    s = np.zeros((len(energies), 25, 25, 25), np.float32)
    s[:, 12, 12, 5] = 0.02 * energies
    wide = s * (1 + 0.1 * rng.standard_normal(len(energies)))[:, None, None, None].astype(np.float32)
    rows = latent_conditioning_rows(s, s, wide, energies, seed=1)
    assert [r["key"] for r in rows] == ["2-20 GeV", "20-100 GeV", "100-250 GeV", "250-500 GeV"]
    for r in rows:
        assert r["reference"] == pytest.approx(0.0, abs=1e-6) and r["sphere"] == pytest.approx(0.0, abs=1e-6)
        assert r["normal"] == pytest.approx(0.1, rel=0.2)
        assert r["latent_energy_spread"] == pytest.approx(0.05, rel=0.2)  # 1 / sqrt(400)


def test_resolution_rows_and_sampling_fraction_by_bin_read_each_showers_own_response():
    from gan3d_lib.physics.shower_facts import resolution_rows, sampling_fraction_by_bin

    rng = np.random.default_rng(5)
    energies = np.repeat([10.0, 50.0, 200.0, 400.0], 300)
    s = np.zeros((len(energies), 25, 25, 25), np.float32)
    s[:, 12, 12, 5] = 0.02 * energies
    spread = (1 + np.where(energies > 100, 0.08, 0.03) * rng.standard_normal(len(energies))).astype(np.float32)
    rows = resolution_rows(s, {"wide": s * spread[:, None, None, None]}, energies)
    assert [r["key"] for r in rows] == ["2-20 GeV", "20-100 GeV", "100-250 GeV", "250-500 GeV"]
    assert [r["wide"] for r in rows] == pytest.approx([0.03, 0.03, 0.08, 0.08], rel=0.15)
    assert all(r["reference"] == pytest.approx(0.0, abs=1e-6) for r in rows)
    by_bin = sampling_fraction_by_bin(s * spread[:, None, None, None], energies)
    assert list(by_bin) == [r["key"] for r in rows] and all(len(v) == 300 for v in by_bin.values())
    np.testing.assert_allclose(by_bin["250-500 GeV"], 0.02 * spread[energies == 400], rtol=1e-5)


def test_classifier_goal_text_names_each_branch():
    from gan3d_lib.book.shower_text import classifier_goal_text
    from gan3d_lib.physics.shower_facts import CLASSIFIER_AUC_GOAL

    assert classifier_goal_text(0.99, 0.90).endswith("the goal is met.")
    missed = classifier_goal_text(1.0, 0.99994)
    assert missed.endswith(f"missed by {0.99994 - CLASSIFIER_AUC_GOAL:.3f}.") and "low level 1.000" in missed
    assert classifier_goal_text(0.97, CLASSIFIER_AUC_GOAL).endswith("missed by 0.000.")  # below, not at, the goal


def test_barycentre_spread_rows_read_each_samples_depth_fluctuation_and_the_text_each_branch():
    from gan3d_lib.book.shower_text import spread_ratio_text
    from gan3d_lib.physics.shower_facts import barycentre_spread_rows

    rng = np.random.default_rng(6)
    energies = np.repeat([10.0, 50.0, 200.0, 400.0], 200)
    layer = np.clip(np.rint(12 + 1.0 * rng.standard_normal(len(energies))), 0, 24).astype(int)
    s = np.zeros((len(energies), 25, 25, 25), np.float32)
    s[np.arange(len(energies)), 12, 12, layer] = 1.0
    fixed = np.zeros_like(s)
    fixed[:, 12, 12, 12] = 1.0
    fixed[energies < 20] = s[energies < 20]  # fluctuates in the first bin only
    rows = barycentre_spread_rows(s, {"GAN": fixed}, energies)
    assert [r["key"] for r in rows] == ["2-20 GeV", "20-100 GeV", "100-250 GeV", "250-500 GeV"]
    assert [r["reference"] for r in rows] == pytest.approx([1.0] * 4, rel=0.15)
    assert rows[0]["GAN"] == rows[0]["reference"] and all(r["GAN"] == 0.0 for r in rows[1:])
    text = spread_ratio_text(rows, "GAN", what="barycentre", reference="the MC")
    assert text.startswith("The barycentre of GAN spreads 1.00 / 0.00 / 0.00 / 0.00 times as much as the MC's in "
                           "2-20 GeV / 20-100 GeV / 100-250 GeV / 250-500 GeV.")
    assert "narrower by more than 20 % in 20-100 GeV, 100-250 GeV, 250-500 GeV." in text
    assert "within 20 % in 2-20 GeV." in text and "wider" not in text
    assert "wider by more than 20 % in 2-20 GeV." in spread_ratio_text([{**rows[0], "GAN": 1.5}], "GAN", what="x")


def test_single_feature_text_names_the_best_features_and_counts_those_above_the_floor():
    from gan3d_lib.book.shower_text import single_feature_text

    text = single_feature_text({"a": 0.6, "b": 0.9, "c": 0.8, "d": 0.55}, {"a": 0.52, "b": 0.58, "c": 0.5, "d": 0.51},
                               top=2)
    assert "best by b (AUC 0.900), c (AUC 0.800)." in text
    assert "no feature goes above AUC 0.580; 3 of the model's 4 features do." in text
