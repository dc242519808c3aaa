"""The classifier taken apart: feature groups, single-feature and group AUCs on samples that differ in
one known way, and layer energies given another sample's distribution."""

from __future__ import annotations

import numpy as np
import pytest

from gan3d_lib.validation import auc_breakdown as ab
from gan3d_lib.validation import validation as v


@pytest.fixture(scope="module")
def samples():
    """Three independent Monte Carlo samples of 300 showers (seeds 21-23): (showers, energies) each."""
    from gan3d_lib.data.mc import ShowerSimulator

    sim = ShowerSimulator()
    return [sim.simulate(300, seed=s) for s in (21, 22, 23)]


@pytest.fixture(scope="module")
def prepared(samples):
    return [v.prepare(*s) for s in samples[:2]]


def _ln_layers(showers):
    return np.log(showers.astype(np.float64).sum(axis=(1, 2)) + ab.LAYER_ENERGY_FLOOR_GEV)


def _residuals(showers, energies):
    """ln layer energies less their quadratic fit in ln E_p: the shower-to-shower fluctuation."""
    y, x = _ln_layers(showers), np.log(energies / 100.0)[:, None] ** np.arange(3)
    return y - x @ np.linalg.lstsq(x, y, rcond=None)[0]


def test_feature_groups_expand_wildcards_and_name_what_is_missing():
    groups = ab.feature_groups(v.feature_names())
    assert groups["every feature"] == v.feature_names()
    assert groups["layer energy fractions"] == [f"layer_{i:02d}" for i in range(25)]
    assert set(groups["every feature but the layer fractions"]) | set(groups["layer energy fractions"]) == set(v.feature_names())
    with pytest.raises(ValueError, match="'hits'"):
        ab.feature_groups(["layer_00"], {"hits": ("hits",)})


def test_single_feature_aucs_find_the_one_feature_that_differs(prepared):
    ref, twin = prepared
    # every shower moved one cell along x: only the x barycentre changes
    shifted = v.prepare(np.roll(twin.showers, 1, axis=1), twin.energies_gev)
    aucs = ab.single_feature_aucs(shifted, ref, seed=3)
    assert list(aucs) == v.feature_names()
    assert aucs["x_centre"] > 0.95
    others = [a for name, a in aucs.items() if name != "x_centre"]
    assert max(others) < 0.7 and np.median(others) == pytest.approx(0.5, abs=0.08)


def test_group_aucs_find_the_group_that_differs(prepared):
    ref, twin = prepared
    shifted = v.prepare(np.roll(twin.showers, 1, axis=1), twin.energies_gev)
    aucs = ab.group_aucs(shifted, ref, seed=3)
    assert list(aucs) == list(ab.FEATURE_GROUPS)
    assert min(aucs["x, y centres"], aucs["every feature"], aucs["every feature but the layer fractions"]) > 0.95
    assert max(aucs[g] for g in ("layer energy fractions", "E_cal / E_p", "hits", "longitudinal barycentre, width")) < 0.7


def test_layer_matching_restores_a_shrunk_spread_and_keeps_each_layer_and_total_intact(samples):
    (ref, e_ref), (model, e_model) = samples[0], samples[1]
    # the model: each shower's layers pulled 70 % of the way toward the sample's mean profile at its energy
    shrunk = model * np.exp(-0.7 * _residuals(model, e_model))[:, None, None, :]
    matched = ab.layer_moment_matched(shrunk, e_model, ref, e_ref)
    assert matched.shape == shrunk.shape and matched.dtype == shrunk.dtype
    np.testing.assert_allclose(matched.sum(axis=(1, 2, 3)), shrunk.sum(axis=(1, 2, 3)), rtol=1e-5)
    # one factor per layer: within a layer every lit cell is scaled alike
    lit = shrunk[0, :, :, 10] > 0
    ratio = matched[0, :, :, 10][lit] / shrunk[0, :, :, 10][lit]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-4)
    core = slice(3, 20)  # layers every shower lights
    sd = {k: _residuals(s, e)[:, core].std(axis=0) for k, s, e in
          (("ref", ref, e_ref), ("shrunk", shrunk, e_model), ("matched", matched, e_model))}
    assert np.median(sd["shrunk"] / sd["ref"]) < 0.5
    assert np.median(sd["matched"] / sd["ref"]) == pytest.approx(1.0, abs=0.15)
    # the model's showers keep their order in each layer: the matching maps, it does not resample
    k = 12
    assert np.corrcoef(_residuals(shrunk, e_model)[:, k], _residuals(matched, e_model)[:, k])[0, 1] > 0.9


def test_layer_matching_to_a_sample_of_the_same_distribution_hardly_moves_a_shower(samples):
    (ref, e_ref), (model, e_model) = samples[0], samples[2]
    change = _ln_layers(ab.layer_moment_matched(model, e_model, ref, e_ref)) - _ln_layers(model)
    assert np.median(np.abs(change[:, 3:20])) < 0.1


def test_layer_matching_rejects_bad_input(samples):
    (ref, e_ref) = samples[0]
    with pytest.raises(ValueError, match=r"\(N, x, y, layer\)"):
        ab.layer_moment_matched(ref[0], e_ref[:1], ref, e_ref)
    with pytest.raises(ValueError, match="more showers than layers"):
        ab.layer_moment_matched(ref[:10], e_ref[:10], ref, e_ref)
    with pytest.raises(ValueError, match="one primary energy per shower"):
        ab.layer_moment_matched(ref, e_ref[:5], ref, e_ref)
