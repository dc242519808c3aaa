"""The GAN's loss terms in ``keras.ops`` (differentiable, any Keras backend), one home for
each; ``tests/models/test_losses.py`` checks each against the NumPy observables it mirrors.

Showers are (n, 25, 25, 25) cell energies in GeV with depth the last axis; primary energies
E_p (n,) in GeV. Study terms: :func:`mape`, :func:`binary_cross_entropy`, :func:`ecal_target`.
Ours: :func:`depth_error`, :func:`profile_error`, :func:`transverse_error`, :func:`hits_error`, and what the
discriminator sees (:func:`discriminator_view`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from ..physics import observables as obs

__all__ = ["mape", "binary_cross_entropy", "polyval", "ecal_target", "longitudinal_shares", "depth_error",
           "energy_bin_onehot", "per_bin_means", "profile_error", "transverse_shares", "transverse_error",
           "discriminator_view", "soft_hits", "hits_error", "shower_moments", "moments_error",
           "sampling_fraction_spread_error", "depth_spread_error", "cell_spectrum_error",
           "ring_sums", "ring_error", "transverse_log_error",
           "CELL_SPECTRUM_THRESHOLDS_GEV"]

ops = keras.ops
#: inner edges (GeV) of the primary-energy bins the per-bin terms use
_INNER_EDGES_GEV = np.asarray(obs.DEFAULT_ENERGY_BINS_GEV[1:-1], dtype=np.float32)
_N_BINS = len(obs.DEFAULT_ENERGY_BINS_GEV) - 1


def mape(y: Any, y_hat: Any) -> Any:
    """Mean absolute percentage error, 100 * mean(|y - y_hat| / |y|) (%)."""
    return 100.0 * ops.mean(ops.abs(y - y_hat) / ops.maximum(ops.abs(y), 1e-7))


def binary_cross_entropy(labels: Any, probs: Any) -> Any:
    """Mean binary cross-entropy of probabilities (clipped to [1e-7, 1 - 1e-7]) against labels."""
    probs = ops.clip(ops.cast(probs, "float32"), 1e-7, 1 - 1e-7)
    return -ops.mean(labels * ops.log(probs) + (1 - labels) * ops.log(1 - probs))


def polyval(coeffs: Sequence[float], x: Any) -> Any:
    """sum_i coeffs[i] x^(deg - i), highest power first (as ``np.polyval``)."""
    out = ops.zeros_like(x)
    for c in coeffs:
        out = out * x + float(c)
    return out


def ecal_target(energies_gev: Any, sf_coeffs: Sequence[float]) -> Any:
    """E_cal target (GeV) of a shower: E_p * SF(E_p / 100 GeV), SF a polynomial fit
    (``observables.fit_sampling_fraction``)."""
    return energies_gev * polyval(sf_coeffs, energies_gev / 100.0)


def longitudinal_shares(showers: Any) -> Any:
    """(n, 25) percent of each shower's energy in each layer."""
    per_layer = ops.sum(showers, axis=(1, 2))
    return 100.0 * per_layer / ops.maximum(ops.sum(per_layer, axis=1, keepdims=True), 1e-6)


def depth_error(energies_gev: Any, showers: Any, depth_coeffs: Sequence[float]) -> Any:
    """Mean |longitudinal barycentre - fit(ln(E_p / 100 GeV))| in layers
    (fit: ``observables.fit_longitudinal_centre``)."""
    layer = ops.arange(showers.shape[-1], dtype="float32")
    centre = ops.sum(longitudinal_shares(showers) * layer, axis=1) / 100.0
    return ops.mean(ops.abs(centre - polyval(depth_coeffs, ops.log(energies_gev / 100.0))))


def energy_bin_onehot(energies_gev: Any) -> Any:
    """(n, n_bins) one-hot primary-energy bin (``observables.DEFAULT_ENERGY_BINS_GEV``)."""
    index = ops.sum(ops.cast(energies_gev[:, None] >= _INNER_EDGES_GEV[None, :], "int32"), axis=1)
    return ops.one_hot(index, _N_BINS)


def per_bin_means(energies_gev: Any, *values: Any) -> Any:
    """(counts (n_bins,), [per-bin mean (n_bins,) or (n_bins, k) of each value (n,) or (n, k)])."""
    which = energy_bin_onehot(energies_gev)
    counts = ops.sum(which, axis=0)
    return counts, [ops.matmul(ops.transpose(which), v) / ops.reshape(ops.maximum(counts, 1.0), (-1,) + (1,) * (len(v.shape) - 1))
                    for v in values]


def transverse_shares(showers: Any, axis: int) -> Any:
    """(n, 25) percent of each shower's energy in each cell row along x (``axis`` 1) or y (2)."""
    other = 2 if axis == 1 else 1
    per_row = ops.sum(showers, axis=(other, 3))
    return 100.0 * per_row / ops.maximum(ops.sum(per_row, axis=1, keepdims=True), 1e-6)


def _shape_error(energies_gev, fake_shares, real_shares):
    counts, (f, r) = per_bin_means(energies_gev, fake_shares, real_shares)
    return ops.sum(counts * ops.mean((f - r) ** 2, axis=1)) / ops.sum(counts)


def profile_error(energies_gev: Any, fake: Any, real: Any) -> Any:
    """Squared difference (%^2, mean over layers) of the mean longitudinal shapes of the fake
    and the real showers of each primary-energy bin, weighted by the bin's share of the batch
    (fakes are made for the real showers' energies, so each bin compares like with like)."""
    return _shape_error(energies_gev, longitudinal_shares(fake), longitudinal_shares(real))


def transverse_error(energies_gev: Any, fake: Any, real: Any) -> Any:
    """:func:`profile_error` for the x and the y shapes (%^2, mean of the two)."""
    return 0.5 * sum(_shape_error(energies_gev, transverse_shares(fake, a), transverse_shares(real, a)) for a in (1, 2))


def _log_shape_error(energies_gev, fake_shares, real_shares, floor_pct):
    counts, (f, r) = per_bin_means(energies_gev, fake_shares, real_shares)
    return ops.sum(counts * ops.mean(ops.log((f + floor_pct) / (r + floor_pct)) ** 2, axis=1)) / ops.sum(counts)


def transverse_log_error(energies_gev: Any, fake: Any, real: Any, floor_pct: float = 1e-3) -> Any:
    """Squared log ratio of the per-bin mean x and y shapes (each row's share, plus ``floor_pct``
    %), fake over real, mean over rows, x and y, weighted by the bins' counts: the halo and
    edge rows, which hold a thousandth of the energy, count as much as the core."""
    return 0.5 * sum(_log_shape_error(energies_gev, transverse_shares(fake, a), transverse_shares(real, a), floor_pct)
                     for a in (1, 2))


def profile_log_error(energies_gev: Any, fake: Any, real: Any, floor_pct: float = 1e-3) -> Any:
    """:func:`transverse_log_error` for the longitudinal shape (each layer's share, mean over the
    25 layers): a layer 10 % above or below the real mean costs as much at the shower maximum
    as in the first or the last layer."""
    return _log_shape_error(energies_gev, longitudinal_shares(fake), longitudinal_shares(real), floor_pct)


def discriminator_view(showers: Any, power: float, unit_gev: float, eps: float = 1e-4) -> Any:
    """What the discriminator sees: the GeV cells for ``power`` 1, else
    ``unit_gev * ((E / unit_gev + eps)^power - eps^power)``, which lifts the small cells."""
    if power == 1.0:
        return showers
    return unit_gev * (ops.power(showers / unit_gev + eps, power) - eps**power)


def _hit_weights(showers: Any, threshold_gev: float, width: float) -> Any:
    """Per cell sigmoid(ln(E / threshold) / width): 1 well above ``threshold_gev``, 0 well below."""
    return ops.sigmoid((ops.log(showers + 1e-9) - float(np.log(threshold_gev))) / width)


def soft_hits(showers: Any, threshold_gev: float, width: float = 0.3, axis: tuple[int, ...] = (1, 2, 3)) -> Any:
    """(n,) differentiable number of cells above ``threshold_gev``: the sum of
    sigmoid(ln(E / threshold) / width) over cells (over ``axis``: (1, 2) gives (n, 25) per layer)."""
    return ops.sum(_hit_weights(showers, threshold_gev, width), axis=axis)


def hits_error(energies_gev: Any, fake: Any, real: Any, threshold_gev: float, width: float = 0.3) -> Any:
    """Squared relative error of the per-bin mean :func:`soft_hits` (of ``width``), weighted by the bins' counts."""
    counts, (h_fake, h_real) = per_bin_means(energies_gev, soft_hits(fake, threshold_gev, width),
                                             soft_hits(real, threshold_gev, width))
    rel = h_fake / ops.maximum(h_real, 1.0) - 1.0
    return ops.sum(counts * rel**2) / ops.sum(counts)


#: thresholds (GeV) of :func:`cell_spectrum_error`: 0.3, 1, 3 and 10 MeV
CELL_SPECTRUM_THRESHOLDS_GEV = (3e-4, 1e-3, 3e-3, 1e-2)


def cell_spectrum_error(energies_gev: Any, fake: Any, real: Any,
                        thresholds_gev: Sequence[float] = CELL_SPECTRUM_THRESHOLDS_GEV) -> Any:
    """Mean over ``thresholds_gev`` of the squared log ratio of the per-bin mean numbers of cells
    above the threshold (:func:`soft_hits`), fake over real, weighted by the bins' counts: the
    cell-energy spectrum above the hits threshold, from the halo's 0.3 MeV cells to the core's."""
    total = 0.0
    for t in thresholds_gev:
        counts, (n_fake, n_real) = per_bin_means(energies_gev, soft_hits(fake, t), soft_hits(real, t))
        total = total + ops.sum(counts * ops.log((n_fake + 1.0) / (n_real + 1.0)) ** 2) / ops.sum(counts)
    return total / len(thresholds_gev)


def ring_sums(values: Any, n_rings: int = 13) -> Any:
    """(n, n_rings) sums of (n, n_x, n_y) ``values`` over the rings of cells around the beam axis:
    ring r holds the cells whose centre lies r cell widths from it (rounded); the last ring all beyond."""
    ring = np.minimum(np.rint(obs.radial_distance_cells(values.shape[1], values.shape[2])).astype(int), n_rings - 1)
    members = np.eye(n_rings, dtype=np.float32)[ring.ravel()]  # (n_x n_y, n_rings)
    return ops.matmul(ops.reshape(values, (-1, values.shape[1] * values.shape[2])), members)


def ring_error(energies_gev: Any, fake: Any, real: Any, threshold_gev: float, width: float = 0.3,
               floor_gev: float = 1e-5, n_rings: int = 13) -> Any:
    """Sum of two squared log ratios per ring of cells around the beam axis (:func:`ring_sums`), fake
    over real, of the per-bin means: the ring's energy (GeV, plus ``floor_gev``) and its (soft) hits
    (plus 1), mean over rings, weighted by the bins' counts. Together they fix the mean energy per hit
    cell in each ring: a halo painted in too few, too hot cells costs in both. ``n_rings`` as in
    :func:`ring_sums`: 18 gives every ring of the 25 x 25 grid its own terms, the corners (r >= 14 cells) included."""
    columns = [ops.sum(s, axis=3) for s in (fake, real)] + [soft_hits(s, threshold_gev, width, axis=3) for s in (fake, real)]
    counts, (e_f, e_r, h_f, h_r) = per_bin_means(energies_gev, *(ring_sums(v, n_rings) for v in columns))
    per_ring = ops.log((e_f + floor_gev) / (e_r + floor_gev)) ** 2 + ops.log((h_f + 1.0) / (h_r + 1.0)) ** 2
    return ops.sum(counts * ops.mean(per_ring, axis=1)) / ops.sum(counts)


def _per_bin_spread(energies_gev: Any, values: Any) -> Any:
    """(counts, per-bin standard deviation) of ``values`` (n,) or (n, k) over the batch's primary-energy bins."""
    counts, (m, q) = per_bin_means(energies_gev, values, values**2)
    return counts, ops.sqrt(ops.maximum(q - m**2, 0.0) + 1e-8)


def sampling_fraction_spread_error(energies_gev: Any, fake: Any, real: Any, sf_coeffs: Sequence[float]) -> Any:
    """Squared log ratio of the per-bin relative spreads (standard deviation) of
    E_cal / (E_p SF(E_p)), fake over real, weighted by the bins' counts: the energy
    resolution, which the mean-seeking E_cal term leaves free."""
    target = ecal_target(energies_gev, sf_coeffs)
    counts, spread_fake = _per_bin_spread(energies_gev, ops.sum(fake, axis=(1, 2, 3)) / target)
    _, spread_real = _per_bin_spread(energies_gev, ops.sum(real, axis=(1, 2, 3)) / target)
    return ops.sum(counts * ops.log(spread_fake / spread_real) ** 2) / ops.sum(counts)


def depth_spread_error(energies_gev: Any, fake: Any, real: Any, depth_coeffs: Sequence[float]) -> Any:
    """Mean over the longitudinal barycentre (its offset from the fit ``depth_coeffs`` in
    ln(E_p / 100 GeV), layers) and the longitudinal width (layers) of the squared log ratio of
    their per-bin spreads (standard deviation), fake over real, weighted by the bins' counts:
    the shower-to-shower fluctuation of the depth, which mean-seeking shape terms leave free."""
    layer = ops.arange(fake.shape[-1], dtype="float32")
    expected = polyval(depth_coeffs, ops.log(energies_gev / 100.0))

    def spreads(showers):  # (counts, (n_bins, 2) spreads of the barycentre's offset and of the width)
        shares = longitudinal_shares(showers) / 100.0
        centre = ops.sum(shares * layer, axis=1)
        width = ops.sqrt(ops.sum(shares * (layer - centre[:, None]) ** 2, axis=1) + 1e-6)
        return _per_bin_spread(energies_gev, ops.stack([centre - expected, width], axis=1))

    counts, s_fake = spreads(fake)
    _, s_real = spreads(real)
    return ops.sum(counts * ops.mean(ops.log(s_fake / s_real) ** 2, axis=1)) / ops.sum(counts)


def shower_moments(showers: Any) -> Any:
    """(n, 3) per-shower energy-weighted x width and y width (cells) and first-layer share (%)."""
    widths = []
    for axis in (1, 2):
        shares = transverse_shares(showers, axis) / 100.0
        index = ops.arange(shares.shape[-1], dtype="float32")
        centre = ops.sum(shares * index, axis=1, keepdims=True)
        widths.append(ops.sqrt(ops.sum(shares * (index - centre) ** 2, axis=1) + 1e-6))
    return ops.stack([*widths, longitudinal_shares(showers)[:, 0]], axis=1)


def moments_error(energies_gev: Any, fake: Any, real: Any) -> Any:
    """Mean over x width, y width and first-layer share of the squared log ratio of their per-bin
    means, fake over real, weighted by the bins' counts (a factor e off costs 1)."""
    m_fake, m_real = shower_moments(fake), shower_moments(real)
    counts, means = per_bin_means(energies_gev, *(m_fake[:, k] for k in range(3)), *(m_real[:, k] for k in range(3)))
    total = 0.0
    for k in range(3):
        total = total + ops.sum(counts * ops.log((means[k] + 1e-3) / (means[3 + k] + 1e-3)) ** 2)
    return total / (3.0 * ops.sum(counts))
