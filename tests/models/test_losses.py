"""The loss terms (keras.ops) against the NumPy observables they mirror."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("keras")

from gan3d_lib.models import losses  # noqa: E402
from gan3d_lib.physics import observables as obs  # noqa: E402
from gan3d_lib.data.mc import simulate_showers  # noqa: E402
from gan3d_lib.physics.geometry import HITS_THRESHOLD_GEV  # noqa: E402


@pytest.fixture(scope="module")
def sample():
    showers, energies = simulate_showers(48, seed=9, spectrum="log-uniform")
    return showers.astype(np.float32), energies.astype(np.float32)


def _np(x):
    return np.asarray(losses.ops.convert_to_numpy(x), dtype=np.float64)


def test_longitudinal_shares_and_depth_error_match_the_observables(sample):
    showers, energies = sample
    z = obs.longitudinal_profile(showers)
    np.testing.assert_allclose(_np(losses.longitudinal_shares(showers)), 100 * z / z.sum(axis=1, keepdims=True), rtol=1e-4)
    coeffs = obs.fit_longitudinal_centre(showers, energies)
    centre = obs.moments(z)[0]
    expected = np.mean(np.abs(centre - np.polyval(coeffs, np.log(energies / 100.0))))
    assert float(_np(losses.depth_error(energies, showers, coeffs))) == pytest.approx(expected, rel=1e-4)


def test_ecal_target_is_the_sampling_fraction_fit(sample):
    showers, energies = sample
    coeffs = obs.fit_sampling_fraction(showers, energies)
    np.testing.assert_allclose(_np(losses.ecal_target(energies, coeffs)), energies * np.polyval(coeffs, energies / 100.0),
                               rtol=1e-5)
    assert float(_np(losses.mape(np.array([2.0, 4.0]), np.array([1.0, 5.0])))) == pytest.approx(37.5)


def test_profile_error_is_zero_for_the_same_showers_and_per_bin_otherwise(sample):
    showers, energies = sample
    assert float(_np(losses.profile_error(energies, showers, showers))) == pytest.approx(0.0, abs=1e-9)
    shifted = np.roll(showers, 1, axis=-1)
    which = obs.energy_bin_index(energies, obs.DEFAULT_ENERGY_BINS_GEV)
    shares = lambda s: 100 * obs.longitudinal_profile(s) / obs.longitudinal_profile(s).sum(axis=1, keepdims=True)  # noqa: E731
    expected = sum((which == b).sum() * np.mean((shares(shifted)[which == b].mean(0) - shares(showers)[which == b].mean(0)) ** 2)
                   for b in np.unique(which)) / len(energies)
    assert float(_np(losses.profile_error(energies, shifted, showers))) == pytest.approx(expected, rel=1e-4)


def test_soft_hits_count_cells_far_from_the_threshold(sample):
    showers, _ = sample
    far = np.where(showers > 10 * HITS_THRESHOLD_GEV, showers, 0.0).astype(np.float32)
    np.testing.assert_allclose(_np(losses.soft_hits(far, HITS_THRESHOLD_GEV)), (far > HITS_THRESHOLD_GEV).sum(axis=(1, 2, 3)),
                               rtol=1e-3)


def test_hits_error_and_the_discriminator_view(sample):
    showers, energies = sample
    assert float(_np(losses.hits_error(energies, showers, showers, HITS_THRESHOLD_GEV))) == pytest.approx(0.0, abs=1e-12)
    empty = np.zeros_like(showers)
    assert float(_np(losses.hits_error(energies, empty, showers, HITS_THRESHOLD_GEV))) == pytest.approx(1.0, abs=0.01)
    assert losses.discriminator_view(showers, 1.0, 1e-3) is showers
    view = _np(losses.discriminator_view(np.array([0.0, 1e-3, 1.0], np.float32), 0.5, 1e-3))
    np.testing.assert_allclose(view, 1e-3 * (np.sqrt(np.array([0.0, 1.0, 1000.0]) + 1e-4) - 1e-2), rtol=1e-5)


def test_transverse_error_matches_the_x_and_y_profiles(sample):
    showers, energies = sample
    assert float(_np(losses.transverse_error(energies, showers, showers))) == pytest.approx(0.0, abs=1e-9)
    for axis, name in ((1, "x"), (2, "y")):
        p = obs.profile(showers, name)
        np.testing.assert_allclose(_np(losses.transverse_shares(showers, axis)), 100 * p / p.sum(axis=1, keepdims=True),
                                   rtol=1e-4, atol=1e-6)
    wider = 0.5 * (showers + np.roll(showers, 2, axis=1))
    assert float(_np(losses.transverse_error(energies, wider, showers))) > 1.0


def test_shower_moments_match_the_shower_facts(sample):
    from gan3d_lib.physics.shower_facts import shower_facts

    showers, energies = sample
    m = _np(losses.shower_moments(showers)).mean(axis=0)
    f = shower_facts(showers, energies)
    assert m[0] == pytest.approx(f["x_width_cells"], rel=1e-3) and m[1] == pytest.approx(f["y_width_cells"], rel=1e-3)
    assert m[2] == pytest.approx(f["layer0_pct"], rel=1e-3)
    assert float(_np(losses.moments_error(energies, showers, showers))) == pytest.approx(0.0, abs=1e-9)
    wider = 0.5 * (showers + np.roll(showers, 3, axis=1))
    assert float(_np(losses.moments_error(energies, wider, showers))) > 0.01


def test_sampling_fraction_spread_error_reads_the_log_ratio_of_the_per_bin_spreads(sample):
    showers, energies = sample
    coeffs = obs.fit_sampling_fraction(showers, energies)
    assert float(_np(losses.sampling_fraction_spread_error(energies, showers, showers, coeffs))) == pytest.approx(0.0, abs=1e-9)
    # scale each shower's energy about its bin's mean ratio by 2: every bin's spread doubles
    ratio = showers.sum(axis=(1, 2, 3)) / (energies * np.polyval(coeffs, energies / 100.0))
    which = np.searchsorted(np.asarray(obs.DEFAULT_ENERGY_BINS_GEV[1:-1]), energies, side="right")
    bin_mean = np.array([ratio[which == b].mean() for b in which])
    wider = showers * ((bin_mean + 2.0 * (ratio - bin_mean)) / ratio)[:, None, None, None]
    counts = np.bincount(which)
    multi = counts[which] > 1  # a bin with one shower has no spread
    expected = np.log(2.0) ** 2 * multi.mean()
    got = float(_np(losses.sampling_fraction_spread_error(energies, wider.astype(np.float32), showers, coeffs)))
    assert got == pytest.approx(expected, rel=1e-2)


def test_depth_spread_error_reads_the_log_ratio_of_the_per_bin_depth_spreads(sample):
    showers, energies = sample
    coeffs = obs.fit_longitudinal_centre(showers, energies)
    assert float(_np(losses.depth_spread_error(energies, showers, showers, coeffs))) == pytest.approx(0.0, abs=1e-9)
    # each shower averaged with another of its bin: the showers' depths fluctuate less
    which = np.searchsorted(np.asarray(obs.DEFAULT_ENERGY_BINS_GEV[1:-1]), energies, side="right")
    partner = np.arange(len(energies))
    for b in np.unique(which):
        rows = np.flatnonzero(which == b)
        partner[rows] = np.roll(rows, 1)
    blurred = (0.5 * (showers + showers[partner])).astype(np.float32)

    def spreads(s):  # per bin: std of the barycentre's offset from the fit, std of the longitudinal width
        centre, width2 = obs.moments(obs.longitudinal_profile(s))
        offset = centre - np.polyval(coeffs, np.log(energies / 100.0))
        return np.array([[np.std(v[which == b]) for b in range(which.max() + 1)] for v in (offset, np.sqrt(width2))])

    counts = np.bincount(which)
    log_ratio_sq = np.log((spreads(blurred) + 1e-12) / (spreads(showers) + 1e-12)) ** 2
    expected = np.sum(counts * np.where(counts > 1, log_ratio_sq.mean(axis=0), 0.0)) / counts.sum()
    got = float(_np(losses.depth_spread_error(energies, blurred, showers, coeffs)))
    assert expected > 0.1
    assert got == pytest.approx(expected, rel=2e-2)


def test_cell_spectrum_error_is_zero_for_the_same_showers_and_grows_when_cells_move_up(sample):
    showers, energies = sample
    assert float(_np(losses.cell_spectrum_error(energies, showers, showers))) == pytest.approx(0.0, abs=1e-9)
    brighter = showers * 3.0  # every cell three times brighter: more cells above each threshold
    small = float(_np(losses.cell_spectrum_error(energies, showers * 1.1, showers)))
    large = float(_np(losses.cell_spectrum_error(energies, brighter, showers)))
    assert 0.0 < small < large


def test_transverse_log_error_sees_a_thousandth_of_the_energy_moved_to_the_edge(sample):
    showers, energies = sample
    assert float(_np(losses.transverse_log_error(energies, showers, showers))) == pytest.approx(0.0, abs=1e-9)
    edge = showers.copy()
    edge[:, 0, 12, 10] += 1e-3 * showers.sum(axis=(1, 2, 3))  # 0.1 % of each shower in the first x row
    assert float(_np(losses.transverse_log_error(energies, edge, showers))) > 0.05
    assert float(_np(losses.transverse_error(energies, edge, showers))) < 0.01  # the %^2 term barely moves


def test_profile_log_error_counts_a_dip_at_the_maximum_as_much_as_one_in_the_first_layer(sample):
    showers, energies = sample
    assert float(_np(losses.profile_log_error(energies, showers, showers))) == pytest.approx(0.0, abs=1e-9)

    def dip(layer):  # 10 % less energy in one layer of every shower
        out = showers.copy()
        out[..., layer] *= 0.9
        return out

    at_max, at_first = (float(_np(losses.profile_log_error(energies, dip(layer), showers))) for layer in (12, 0))
    assert at_max == pytest.approx(np.log(0.9) ** 2 / 25, rel=0.25)
    assert at_first == pytest.approx(np.log(0.9) ** 2 / 25, rel=0.25)
    mse_max, mse_first = (float(_np(losses.profile_error(energies, dip(layer), showers))) for layer in (12, 0))
    assert mse_max > 10 * mse_first  # the %^2 term hardly sees the first layer


def test_soft_hits_per_layer_sum_to_the_shower(sample):
    showers, energies = sample
    per_layer = _np(losses.soft_hits(showers, HITS_THRESHOLD_GEV, axis=(1, 2)))
    assert per_layer.shape == (len(energies), 25)
    np.testing.assert_allclose(per_layer.sum(axis=1), _np(losses.soft_hits(showers, HITS_THRESHOLD_GEV)), rtol=1e-4)


def test_a_wider_hits_sigmoid_pulls_cells_far_below_the_threshold(sample):
    import tensorflow as tf

    showers, energies = sample
    faint = np.where(showers > HITS_THRESHOLD_GEV, HITS_THRESHOLD_GEV * np.exp(-3.0), 0.0).astype(np.float32)  # hits e^3 below
    pulls = {}
    for width in (0.3, 1.0):
        cells = tf.Variable(faint)
        with tf.GradientTape() as tape:
            error = losses.hits_error(energies, cells, showers, HITS_THRESHOLD_GEV, width)
        pulls[width] = float(-tf.reduce_sum(tape.gradient(error, cells)))  # > 0: raising the cells lowers the error
    assert pulls[0.3] > 0 and pulls[1.0] > 100 * pulls[0.3]


def test_ring_sums_cover_the_grid_and_ring_error_sees_an_emptied_ring(sample):
    showers, energies = sample
    per_ring = _np(losses.ring_sums(np.ones((1, 25, 25), np.float32)))[0]
    assert per_ring.sum() == 625 and per_ring[0] == 1 and per_ring[1] == 8  # the axis cell, then its 8 neighbours
    assert float(_np(losses.ring_error(energies, showers, showers, HITS_THRESHOLD_GEV))) == pytest.approx(0.0, abs=1e-9)
    ring = np.rint(obs.radial_distance_cells(25, 25))
    emptied = np.where((ring == 6)[None, :, :, None], 0.0, showers).astype(np.float32)
    bins = np.digitize(energies, obs.DEFAULT_ENERGY_BINS_GEV[1:-1])
    hits = _np(losses.soft_hits(showers, HITS_THRESHOLD_GEV, axis=3))
    expected, counts = [], []
    for b in np.unique(bins):
        e_ring = showers[bins == b][:, ring == 6].sum(axis=(1, 2)).mean()
        h_ring = hits[bins == b][:, ring == 6].sum(axis=1).mean()
        expected.append((np.log(1e-5 / (e_ring + 1e-5)) ** 2 + np.log(1.0 / (h_ring + 1.0)) ** 2) / 13)
        counts.append(np.sum(bins == b))
    got = float(_np(losses.ring_error(energies, emptied, showers, HITS_THRESHOLD_GEV)))
    assert got == pytest.approx(np.average(expected, weights=counts), rel=1e-3) and got > 1.0



def test_ring_error_with_every_ring_sees_energy_moved_into_the_corners(sample):
    """13 rings lump the cells 12-17 widths from the axis; 18 give each ring its own terms."""
    showers, energies = sample
    ring = np.rint(obs.radial_distance_cells(25, 25))
    moved = showers.copy()
    for i in range(len(moved)):  # ring 12's energy put into the corner cells (ring 17), same sum beyond 11.5 widths
        e12 = moved[i][ring == 12].sum(axis=0)
        moved[i][ring == 12] = 0.0
        moved[i][ring == 17] += e12 / (ring == 17).sum()
    lumped = float(_np(losses.ring_error(energies, moved, showers, HITS_THRESHOLD_GEV, n_rings=13)))
    every = float(_np(losses.ring_error(energies, moved, showers, HITS_THRESHOLD_GEV, n_rings=18)))
    assert every > 1.0 and every > 10 * lumped

