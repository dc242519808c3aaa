"""The physics gate for reduced precision, on Monte Carlo showers standing in for FP32: it
passes FP32 against itself, fails a copy without its small cells (naming the small-cell
conditions) and a copy scaled by 0.97 (naming the sampling fraction)."""

from __future__ import annotations

import numpy as np
import pytest

from gan3d_lib.precision import gate
from gan3d_lib.data.mc import ShowerSimulator


@pytest.fixture(scope="module")
def reference():
    """400 'FP32' showers and 400 from other random numbers, same energies (log-uniform 2-500 GeV)."""
    energies = np.exp(np.random.default_rng(1).uniform(np.log(2.0), np.log(500.0), 400)).astype(np.float32)
    sim = ShowerSimulator()
    fp32 = sim.simulate_block(energies, np.random.default_rng(2))
    other = sim.simulate_block(energies, np.random.default_rng(3))
    return fp32, gate.gate_reference(fp32, other, energies, seed=1, n_bootstrap=20)


def test_fp32_against_itself_passes_with_every_ratio_zero(reference):
    fp32, ref = reference
    res = gate.precision_gate(fp32, ref)
    assert res.passed and res.failures == [] and res.first_failure is None
    assert res.worst_ratio == 0.0 and gate.gate_score(res) == 1.0
    assert set(res.bins) == set(ref.bin_labels) and len(ref.bin_labels) == 4
    for row in res.bins.values():
        assert set(gate.CONDITIONS) <= set(row)
        assert row["sampling_fraction_ratio"] == 1.0 and row["hits_ratio"] == 1.0


def test_a_copy_without_cells_below_3_mev_fails_on_the_small_cells(reference):
    fp32, ref = reference
    cut = np.where(fp32 < 3e-3, 0.0, fp32).astype(np.float32)
    res = gate.precision_gate(cut, ref)
    assert not res.passed and gate.gate_score(res) < 0
    assert {"hits", "cell_energy_spectrum", "hits_distribution"} <= set(res.failed_conditions)
    assert "small cells" in res.first_failure and "missing: 0 per shower" in res.first_failure
    for row in res.bins.values():
        assert row["small_cells_per_shower"][0] == 0.0 < row["small_cells_per_shower"][1]


def test_a_copy_scaled_by_0_97_fails_on_the_sampling_fraction(reference):
    fp32, ref = reference
    res = gate.precision_gate(0.97 * fp32, ref, classifier=False)
    assert not res.passed
    assert res.failed_conditions[0] == "sampling_fraction"
    assert res.first_failure.startswith("sampling_fraction failed") and "-3.0 %" in res.first_failure
    assert {f["bin"] for f in res.failures if f["condition"] == "sampling_fraction"} == set(ref.bin_labels)
    assert all(abs(row["sampling_fraction"]["ratio"] - 3.0) < 1e-3 for row in res.bins.values())


def test_a_copy_scaled_by_0_995_passes_the_sampling_fraction(reference):
    fp32, ref = reference
    res = gate.precision_gate(0.995 * fp32, ref, classifier=False)
    assert all(row["sampling_fraction"]["passed"] for row in res.bins.values())


def test_thresholds_are_parameters(reference):
    fp32, ref = reference
    loose = gate.gate_reference(ref.fp32.showers, fp32, ref.fp32.energies_gev, seed=1, n_bootstrap=5,
                                thresholds=gate.GateThresholds(sampling_fraction_tolerance=0.05))
    assert loose.thresholds.sampling_fraction_tolerance == 0.05
    res = gate.precision_gate(0.97 * fp32, loose, classifier=False)
    assert "sampling_fraction" not in res.failed_conditions


def test_too_few_showers_in_every_bin_is_a_clear_error():
    s = np.zeros((5, 25, 25, 25), np.float32)
    s[:, 12, 12, 5] = 1.0
    with pytest.raises(ValueError, match="holds 20 showers"):
        gate.gate_reference(s, s, np.full(5, 50.0, np.float32), seed=1)
