"""Physics validation metrics on cases with known answers: hand-built showers, identical and
disjoint samples, hand-computed Fréchet distances and MMDs, and the full comparison's keys."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gan3d_lib.physics import observables as obs
from gan3d_lib.physics.geometry import HITS_THRESHOLD_GEV
from gan3d_lib.validation import distances
from gan3d_lib.validation import validation as v


def _one_cell_shower(x: int, y: int, z: int, e_gev: float) -> np.ndarray:
    s = np.zeros((1, 25, 25, 25), np.float32)
    s[0, x, y, z] = e_gev
    return s


def test_features_of_a_single_hot_cell():
    f = v.high_level_features(_one_cell_shower(3, 17, 5, 0.5), np.array([20.0]))
    assert list(f) == v.feature_names() and len(f) == 33
    assert f["etot_over_ep"][0] == pytest.approx(0.5 / 20.0)
    assert f["layer_05"][0] == pytest.approx(1.0)
    assert sum(f[f"layer_{i:02d}"][0] for i in range(25)) == pytest.approx(1.0)
    assert (f["x_centre"][0], f["y_centre"][0], f["z_centre"][0]) == pytest.approx((3.0, 17.0, 5.0))
    assert (f["x_width"][0], f["y_width"][0], f["z_width"][0]) == pytest.approx((0.0, 0.0, 0.0))
    assert f["hits"][0] == 1.0
    assert v.high_level_features(_one_cell_shower(3, 17, 5, 0.5), np.array([20.0]), hits_threshold_gev=0.6)["hits"][0] == 0


def test_width_of_two_equal_cells_is_half_their_distance():
    s = _one_cell_shower(2, 12, 0, 1.0) + _one_cell_shower(4, 12, 0, 1.0)
    f = v.high_level_features(s, np.array([100.0]))
    assert f["x_centre"][0] == pytest.approx(3.0) and f["x_width"][0] == pytest.approx(1.0)
    assert f["y_width"][0] == pytest.approx(0.0) and f["hits"][0] == 2.0


def test_hits_threshold_is_half_a_mip_in_silicon():
    assert 0.5e-4 < HITS_THRESHOLD_GEV < 2e-4  # 0.5 x 0.05 cm x 2.329 g/cm3 x 1.664 MeV cm2/g


def test_low_level_inputs_keep_the_energy(mc_sample):
    showers, energies = mc_sample
    x = v.low_level_inputs(showers[:5], energies[:5])
    assert x.shape == (5, 1 + 7 * 7 * 25)
    np.testing.assert_allclose(x[:, 0], np.log10(energies[:5]), rtol=1e-6)
    np.testing.assert_allclose(x[:, 1:].sum(axis=1), obs.sampling_fraction(showers[:5], energies[:5]), rtol=1e-4)
    with pytest.raises(ValueError, match="xy_edges"):
        v.low_level_inputs(showers[:2], energies[:2], xy_edges=(0, 10, 24))
    with pytest.raises(ValueError, match=r"\(N, x, y, depth\)"):
        v.low_level_inputs(showers[0], energies[:1])


def test_triangular_discrimination_hand_values():
    assert v.triangular_discrimination([1, 2, 3], [2, 4, 6]) == 0.0
    assert v.triangular_discrimination([5, 0], [0, 7]) == pytest.approx(1.0)
    # p = (1/2, 1/2), q = (1, 0): 0.5 * ((1/2)^2 / (3/2) + (1/2)^2 / (1/2)) = 1/3
    assert v.triangular_discrimination([1, 1], [1, 0]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="shape"):
        v.triangular_discrimination([1, 2], [1, 2, 3])


def test_separation_power_identical_disjoint_and_two_samples():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=2000)
    assert v.separation_power(ref, ref) == 0.0
    assert v.separation_power(ref + 100.0, ref) == pytest.approx(1.0)
    assert v.separation_power(ref - 100.0, ref) == pytest.approx(1.0)
    same = v.separation_power(rng.normal(size=2000), ref)
    shifted = v.separation_power(rng.normal(1.0, 1.0, size=2000), ref)
    assert 0.0 < same < 0.05 < shifted < 0.5


def test_auc_and_jsd_hand_values():
    y = np.array([1, 1, 0, 0])
    assert v.auc_jsd(y, np.array([0.9, 0.8, 0.1, 0.85]), np.full(4, 0.5), n_bootstrap=0)["auc"] == pytest.approx(0.75)
    r = v.auc_jsd(y, np.array([0.9, 0.8, 0.1, 0.2]), np.array([1.0, 1.0, 0.0, 0.0]), n_bootstrap=0)
    assert (r["auc"], r["jsd"]) == (1.0, 1.0)
    assert v.auc_jsd(y, np.ones(4), np.full(4, 0.5), n_bootstrap=0)["jsd"] == pytest.approx(0.0)
    # p = 0.8 for the true class everywhere: 1 + log2(0.8)
    assert v.auc_jsd(y, np.ones(4), np.array([0.8, 0.8, 0.2, 0.2]), n_bootstrap=0)["jsd"] == pytest.approx(1 + np.log2(0.8))


def test_classifier_on_identical_and_disjoint_features():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(1000, 4)), rng.normal(size=(1000, 4))
    same = v.auc_jsd(**_test_rows(v.classifier_predictions(a, b, seed=2)), n_bootstrap=100, seed=3)
    assert same["n_test"] == 400 and 0 < same["auc_err"] < 0.05 and 0 < same["jsd_err"] < 0.05
    assert abs(same["auc"] - 0.5) < 3 * same["auc_err"] and abs(same["jsd"]) < 3 * same["jsd_err"] + 0.01
    apart = v.auc_jsd(**_test_rows(v.classifier_predictions(a + 10.0, b, seed=2)), n_bootstrap=100, seed=3)
    assert apart["auc"] > 0.999 and apart["jsd"] > 0.95


def test_paired_samples_do_not_leak_across_the_split():
    # the same rows with both labels: a shower's twin in the training set must not decide its test label
    a = np.random.default_rng(8).normal(size=(1000, 4))
    r = v.auc_jsd(**_test_rows(v.classifier_predictions(a, a.copy(), seed=2)), n_bootstrap=50, seed=3)
    assert abs(r["auc"] - 0.5) < 0.05 and abs(r["jsd"]) < 0.02


def _test_rows(p: dict) -> dict:
    return {"labels": p["label"], "scores": p["score"], "probabilities": p["probability"]}


def test_classifier_refuses_mismatched_inputs():
    with pytest.raises(ValueError, match=r"\(100, 3\) and \(100, 4\)"):
        v.classifier_predictions(np.zeros((100, 3)), np.zeros((100, 4)), seed=1)


def test_frechet_distance_hand_values():
    eye = np.eye(2)
    assert distances.frechet_distance([0, 0], eye, [3, 4], eye) == pytest.approx(25.0)
    # same means, diag(1, 4) vs diag(4, 1): 5 + 5 - 2 * tr(sqrt(diag(4, 4))) = 2
    assert distances.frechet_distance([1, 1], np.diag([1.0, 4.0]), [1, 1], np.diag([4.0, 1.0])) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="shapes"):
        distances.frechet_distance([0, 0], eye, [0, 0, 0], np.eye(3))


def test_fpd_identical_and_shifted_gaussians():
    rng = np.random.default_rng(4)
    ref = rng.normal(size=(4000, 1))
    same, same_err = distances.fpd(ref, rng.normal(size=(4000, 1)), seed=5)
    assert 0.0 <= same < 3 * same_err + 1e-3
    shift = 0.5
    val, err = distances.fpd(ref, rng.normal(shift, 1.0, size=(4000, 1)), seed=5)
    expected = (shift / np.abs(ref).max()) ** 2  # features divided by the reference's max |x|
    assert val == pytest.approx(expected, rel=0.15) and err < 0.1 * expected


def test_mmd_hand_values_and_kpd():
    x, y = np.array([[0.0], [1.0]]), np.array([[2.0], [3.0]])
    # k = (a b + 1)^4: within x 1, within y 7^4 = 2401, across (1 + 1 + 3^4 + 4^4) / 4 = 84.75
    assert distances.mmd2_poly_unbiased(x, y) == pytest.approx(1 + 2401 - 2 * 84.75)
    assert distances.mmd2_poly_unbiased(x, y, degree=3) == pytest.approx(1 + 343 - 2 * 93 / 4)
    rng = np.random.default_rng(6)
    ref = rng.normal(size=(800, 3))
    same, same_err = distances.kpd(ref, rng.normal(size=(800, 3)), seed=7)
    apart, apart_err = distances.kpd(ref, rng.normal(1.0, 1.0, size=(800, 3)), seed=7)
    assert abs(same) < 3 * same_err + 1e-4 and apart > 10 * apart_err > 0


@pytest.fixture(scope="module")
def prepared():
    from gan3d_lib.data.mc import ShowerSimulator

    sim = ShowerSimulator()
    a, b = sim.simulate(300, seed=21), sim.simulate(300, seed=22)
    return v.prepare(*a), v.prepare(*b)


def test_monte_carlo_against_monte_carlo_is_a_floor(prepared):
    ref, twin = prepared
    floor = v.monte_carlo_floor(ref, twin, seed=1, n_bootstrap=50)
    labels = ["all", *obs.energy_bin_labels(obs.DEFAULT_ENERGY_BINS_GEV)]
    assert list(floor["bins"]) == labels and floor["features"] == v.feature_names()
    json.dumps(floor, allow_nan=False)
    a = floor["bins"]["all"]
    for kind in ("low", "high"):
        assert abs(a[f"auc_{kind}"] - 0.5) < 3 * a[f"auc_{kind}_err"]
        assert abs(a[f"jsd_{kind}"]) < 3 * a[f"jsd_{kind}_err"] + 0.02
    assert max(a["separation_power"].values()) < 0.15 and a["sampling_fraction_ratio"] == pytest.approx(1.0, abs=0.02)


def test_doubled_energies_are_found_everywhere(prepared):
    ref, twin = prepared
    res = v.validate(2.0 * twin.showers, twin.energies_gev, ref.showers, ref.energies_gev, seed=1, n_bootstrap=20)
    keys = {"n_model", "n_reference", "separation_power", "separation_power_mean", "fpd", "fpd_err", "kpd", "kpd_err",
            "shower_shape_mse", "sampling_fraction_model", "sampling_fraction_reference", "sampling_fraction_ratio",
            *(f"{m}_{k}{e}" for m in ("auc", "jsd") for k in ("low", "high") for e in ("", "_err")),
            "n_test_low", "n_test_high"}
    for label, row in res["bins"].items():
        assert set(row) == keys, label
    a = res["bins"]["all"]
    assert a["separation_power"]["etot_over_ep"] == pytest.approx(1.0)
    assert a["separation_power"]["layer_10"] < 0.15  # fractions do not change with the scale
    assert a["auc_high"] > 0.99 and a["auc_low"] > 0.99 and a["jsd_high"] > 0.9
    assert a["sampling_fraction_ratio"] == pytest.approx(2.0, rel=0.05)
    floor = v.monte_carlo_floor(ref, twin, seed=1, n_bootstrap=20)["bins"]["all"]
    assert a["fpd"] > 10 * floor["fpd"] and a["kpd"] > 10 * max(floor["kpd"], floor["kpd_err"])


def test_sparse_energy_bins_get_none(prepared):
    ref, twin = prepared
    res = v.compare(twin, ref, seed=1, bins_gev=(2.0, 3.0, 500.0), n_bootstrap=10)
    low = res["bins"]["2-3 GeV"]
    assert low["n_model"] < 10 and low["auc_low"] is None and low["fpd"] is None and low["n_test_low"] == 0
    assert res["bins"]["3-500 GeV"]["auc_low"] is not None


def test_samples_prepared_differently_are_refused(prepared):
    ref, twin = prepared
    other = v.prepare(twin.showers, twin.energies_gev, hits_threshold_gev=1e-3)
    with pytest.raises(ValueError, match="hits threshold"):
        v.compare(other, ref, seed=1)


def test_cli_validates_an_artefact_against_monte_carlo(tmp_path, capsys):
    pytest.importorskip("keras")
    from gan3d_lib.cli.parser import main
    from gan3d_lib.models.models import build_generator
    from gan3d_lib.precision.quantization import make_artefact
    from gan3d_lib.core.results import read_results

    art = make_artefact("keras-fp32", build_generator("conv2d", size=0.125, seed=11), tmp_path / "fp32", model="conv2d",
                        size=0.125, source="test")
    ref = tmp_path / "mc.h5"
    assert main(["simulate", "--n", "120", "--seed", "5", "--out", str(ref), "--quiet"]) == 0
    out = tmp_path / "validation.json"
    capsys.readouterr()
    assert main(["validate", "--artefact", str(art.path), "--reference", str(ref), "--n", "60", "--seed", "2",
                 "--n-bootstrap", "10", "--out", str(out)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()[:-1]]
    assert "floor" in lines[0] and lines[1]["artefact"] == str(art.path)
    doc = read_results(out)
    res = doc["numbers"]["artefacts"][str(art.path)]
    assert res["backend"] == "keras-fp32" and res["settings"]["n_model"] == 60 and doc["settings"]["n"] == 60
    # an untrained generator is far from the Monte Carlo; two Monte Carlo samples are not
    assert res["bins"]["all"]["auc_high"] > 0.9 > doc["numbers"]["floor"]["bins"]["all"]["auc_high"]
    assert main(["validate", "--artefact", str(art.path), "--reference", str(ref), "--n", "100",
                 "--out", str(out)]) == 2
    assert "2 x --n = 200" in capsys.readouterr().err
