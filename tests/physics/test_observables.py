import numpy as np
import pytest

from gan3d_lib.physics import observables as obs


def _point_showers():
    """Two showers with all energy in single cells: (12,12,3) 2 GeV, and split over z=4,6."""
    s = np.zeros((2, 25, 25, 25), np.float32)
    s[0, 12, 12, 3] = 2.0
    s[1, 10, 12, 4] = 1.0
    s[1, 10, 12, 6] = 1.0
    return s, np.array([100.0, 50.0])


def test_sums_and_sampling_fraction():
    s, e = _point_showers()
    assert obs.total_energy(s) == pytest.approx([2.0, 2.0])
    assert obs.sampling_fraction(s, e) == pytest.approx([0.02, 0.04])
    with pytest.raises(ValueError, match="energies"):
        obs.sampling_fraction(s, e[:1])


def test_profiles_and_moments_by_hand():
    s, _ = _point_showers()
    p = obs.profiles(s)
    assert p["z"][1, 4] == 1.0 and p["z"][1, 6] == 1.0 and p["x"][1, 10] == 2.0
    centre, second = obs.moments(p["z"])
    assert centre == pytest.approx([3.0, 5.0])
    assert second == pytest.approx([0.0, 1.0])
    c, w = obs.moments(np.zeros((1, 25)))
    assert np.isnan(c[0]) and np.isnan(w[0])


def test_hits_and_spectrum():
    s, _ = _point_showers()
    assert list(obs.hits(s)) == [1, 2]
    assert list(obs.hits(s, threshold_gev=1.5)) == [1, 0]
    counts, edges = obs.cell_energy_spectrum(s, bins_gev=np.array([0.5, 1.5, 2.5]))
    assert counts == pytest.approx([1.0, 0.5])  # per shower


def test_shower_shape_mse_identical_and_known_difference():
    s, e = _point_showers()
    assert obs.shower_shape_mse(s, s)["all"] == 0.0
    a, b = s[:1], s[1:]
    # x: 100% at 12 vs 100% at 10 -> 2 * 100^2; y: equal; z: 100 at 3 vs 50,50 at 4,6 -> 100^2 + 2*50^2
    expected = (2 * 100**2 + 100**2 + 2 * 50**2) / 75
    assert obs.shower_shape_mse(a, b)["all"] == pytest.approx(expected)


def test_shower_shape_mse_per_energy_bin(mc_sample):
    showers, energies = mc_sample
    out = obs.shower_shape_mse(showers, showers, energies_a_gev=energies, energies_b_gev=energies,
                               bins_gev=(2.0, 100.0, 500.0))
    assert out == {"all": 0.0, "2-100 GeV": 0.0, "100-500 GeV": 0.0}
    half = len(energies) // 2
    split = obs.shower_shape_mse(showers[:half], showers[half:], energies_a_gev=energies[:half],
                                 energies_b_gev=energies[half:], bins_gev=(2.0, 100.0, 500.0))
    assert 0 < split["all"] < 0.1
    with pytest.raises(ValueError, match="energies"):
        obs.shower_shape_mse(showers, showers, bins_gev=(2.0, 500.0))


def test_binned_response_counts_and_edges(mc_sample):
    showers, energies = mc_sample
    r = obs.binned_response(showers, energies, [2.0, 250.0, 500.0])
    assert r["count"].sum() == len(energies)
    assert (r["sampling_fraction"] > 0.02).all() and (r["resolution"] < 0.2).all()
    assert obs.energy_bin_labels([2, 20.5, 500]) == ["2-20.5 GeV", "20.5-500 GeV"]


def test_normalised_profile_mean_and_bin_index():
    s, _ = _point_showers()
    mean, sem = obs.normalised_profile_mean(s, "z")
    assert mean[3] == pytest.approx(0.5) and mean[4] == pytest.approx(0.25) and mean.sum() == pytest.approx(1.0)
    assert sem[3] == pytest.approx(0.5)  # std of (1, 0) with ddof=1 is 0.707, / sqrt(2)
    assert list(obs.energy_bin_index(np.array([2.0, 19.9, 20.0, 500.0, 501.0]), (2, 20, 500))) == [0, 0, 1, 1, 2]


def test_fit_longitudinal_centre_recovers_a_logarithmic_depth():
    e = np.geomspace(2, 500, 40)
    centre = 12.0 + 1.5 * np.log(e / 100)  # layers 6.1 ... 14.4
    s = np.zeros((40, 25, 25, 25))
    low = np.floor(centre).astype(int)
    upper = centre - low  # split between two layers so the barycentre is exactly `centre`
    s[np.arange(40), 12, 12, low] = e * (1 - upper)
    s[np.arange(40), 12, 12, low + 1] = e * upper
    coeffs = obs.fit_longitudinal_centre(s, e, degree=1)
    assert coeffs == pytest.approx([1.5, 12.0], abs=1e-9)
    s[:38] = 0  # empty showers are left out, leaving too few for the fit
    with pytest.raises(ValueError, match="non-empty"):
        obs.fit_longitudinal_centre(s, e, degree=2)


def test_fit_sampling_fraction_recovers_a_known_polynomial():
    e = np.linspace(2, 500, 50)
    sf = 0.03 - 0.002 * (e / 100)
    s = np.zeros((50, 25, 25, 25))
    s[:, 12, 12, 10] = sf * e
    coeffs = obs.fit_sampling_fraction(s, e, degree=1)
    assert coeffs == pytest.approx([-0.002, 0.03], abs=1e-9)
    with pytest.raises(ValueError, match="more than 3"):
        obs.fit_sampling_fraction(s[:2], e[:2])


def test_hits_by_layer_and_by_radius_count_cells_above_threshold_where_they_are():
    showers = np.zeros((2, 25, 25, 25), dtype=np.float32)
    showers[0, 12, 12, 3] = 1.0  # on the axis, layer 3
    showers[0, 12, 15, 3] = 1e-3  # 3 cells out
    showers[1, 16, 15, 7] = 1e-3  # 5 cells out (3, 4 triangle), layer 7
    showers[1, 0, 12, 7] = 1e-6  # below the threshold
    layer = obs.hits_by_layer(showers, 1e-5)
    assert layer.shape == (25,) and layer[3] == 1.0 and layer[7] == 0.5 and layer.sum() == 1.5
    ring = obs.hits_by_radius(showers, 1e-5)
    assert ring.shape == (18,)  # the corners are 12 sqrt(2) = 17 cell widths out
    assert ring[0] == 0.5 and ring[3] == 0.5 and ring[5] == 0.5 and ring.sum() == 1.5
    assert obs.radial_distance_cells(25, 25)[12, 12] == 0.0
    energy = obs.energy_by_radius(showers)  # GeV per shower, the sub-threshold cell included
    np.testing.assert_allclose(energy[[0, 3, 5, 12]], [0.5, 5e-4, 5e-4, 5e-7], rtol=1e-6)
    assert energy.sum() == pytest.approx(showers.sum() / 2)


def test_transverse_variance_by_radius_splits_each_showers_width_squared_over_the_rings():
    showers = np.zeros((3, 25, 25, 25), dtype=np.float32)
    showers[0, 12, 12, 3] = 1.0  # on the axis, x = 12: no width
    showers[0, 16, 15, 5] = 1.0  # ring 5, x = 16: centre 14, each cell 2 cells from it
    showers[1, 12, 12, 0] = 3.0
    showers[1, 12, 0, 0] = 1.0  # ring 12, same x: adds nothing to the x variance; y centre 9
    rings = obs.transverse_variance_by_radius(showers, "x")
    assert rings.shape == (18,)  # the empty third shower is left out
    np.testing.assert_allclose(rings[[0, 5]], [2.0 / 2, 2.0 / 2])  # 0.5 x 2^2 in each ring, mean over 2 showers
    assert rings[12] == 0.0
    _, width_sq = obs.moments(obs.profile(showers[:2], "x"))
    assert rings.sum() == pytest.approx(width_sq.mean())
    y = obs.transverse_variance_by_radius(showers, "y")
    assert y[12] == pytest.approx(1 / 4 * 9 ** 2 / 2) and y[0] == pytest.approx((0.5 * 1.5 ** 2 + 3 / 4 * 3 ** 2) / 2)
    assert y.sum() == pytest.approx(obs.moments(obs.profile(showers[:2], "y"))[1].mean())
    with pytest.raises(ValueError, match="transverse"):
        obs.transverse_variance_by_radius(showers, "z")
