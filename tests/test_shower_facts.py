"""The per-energy shower facts: definitions checked on hand-made showers, and the table's
ratios against a reference."""

from __future__ import annotations

import numpy as np
import pytest

from gan3d_lib.reference import GEANT4_SHOWER_FACTS
from gan3d_lib.shower_facts import FACTS, facts_table, shower_facts


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
