"""Physics observables of calorimeter showers: one implementation for every chapter.

All functions take ``showers`` as (N, x, y, depth) arrays of cell energies in GeV (axis
order as in :mod:`gan3d_lib.data.io`) and primary ``energies`` as (N,) arrays in GeV. Positions
are in cell indices (0..24); convert with the geometry's cell size or layer thickness.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "AXES",
    "DEFAULT_ENERGY_BINS_GEV",
    "total_energy",
    "sampling_fraction",
    "profile",
    "profiles",
    "longitudinal_profile",
    "normalised_profile_mean",
    "moments",
    "hits",
    "hits_by_layer",
    "radial_distance_cells",
    "hits_by_radius",
    "energy_by_radius",
    "transverse_variance_by_radius",
    "cell_energy_spectrum",
    "energy_bin_labels",
    "energy_bin_index",
    "binned_response",
    "fit_sampling_fraction",
    "fit_longitudinal_centre",
    "mean_shower_shapes",
    "shower_shape_mse",
]

AXES = ("x", "y", "z")
DEFAULT_ENERGY_BINS_GEV = (2.0, 20.0, 100.0, 250.0, 500.0)
_SUM_AXES = {"x": (2, 3), "y": (1, 3), "z": (1, 2)}


def _as_showers(showers: np.ndarray) -> np.ndarray:
    showers = np.asarray(showers)
    if showers.ndim != 4:
        raise ValueError(f"showers must be (N, x, y, depth), got shape {showers.shape}")
    return showers


def total_energy(showers: np.ndarray) -> np.ndarray:
    """(N,) total visible energy per shower in GeV (float64)."""
    return _as_showers(showers).sum(axis=(1, 2, 3), dtype=np.float64)


def sampling_fraction(showers: np.ndarray, energies_gev: np.ndarray) -> np.ndarray:
    """(N,) sampling fraction E_cal / E_primary (dimensionless)."""
    e = np.asarray(energies_gev, dtype=np.float64).reshape(-1)
    if e.shape[0] != np.shape(showers)[0]:
        raise ValueError(f"{e.shape[0]} energies for {np.shape(showers)[0]} showers")
    if (e <= 0).any():
        raise ValueError("primary energies must be > 0 GeV")
    return total_energy(showers) / e


def profile(showers: np.ndarray, axis: str) -> np.ndarray:
    """(N, n_bins) energy profile in GeV along ``axis`` ('x', 'y' transverse; 'z' depth)."""
    if axis not in _SUM_AXES:
        raise ValueError(f"axis must be one of {AXES}, got {axis!r}")
    return _as_showers(showers).sum(axis=_SUM_AXES[axis], dtype=np.float64)


def profiles(showers: np.ndarray) -> dict[str, np.ndarray]:
    """Profiles along x, y and z: {'x': (N, 25), 'y': (N, 25), 'z': (N, 25)} in GeV."""
    return {a: profile(showers, a) for a in AXES}


def longitudinal_profile(showers: np.ndarray) -> np.ndarray:
    """(N, n_layers) energy per layer in GeV (the z profile)."""
    return profile(showers, "z")


def normalised_profile_mean(showers: np.ndarray, axis: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean per-shower profile along ``axis``, each shower normalised to unit sum.

    Returns:
        (mean (n_bins,), standard error of the mean (n_bins,)), fractions of the shower
        energy per slice. Empty showers are left out.
    """
    p = profile(showers, axis)
    tot = p.sum(axis=1)
    p = p[tot > 0] / tot[tot > 0, None]
    if len(p) == 0:
        nan = np.full(p.shape[1], np.nan)
        return nan, nan
    sem = p.std(axis=0, ddof=1) / np.sqrt(len(p)) if len(p) > 1 else np.full(p.shape[1], np.nan)
    return p.mean(axis=0), sem


def moments(profiles_gev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First moment (barycentre) and second central moment of per-shower profiles.

    Args:
        profiles_gev: (N, n_bins) energy per bin.

    Returns:
        centre (N,) in cell index units and width^2 (N,) in cell index^2; NaN for empty
        showers.
    """
    p = np.asarray(profiles_gev, dtype=np.float64)
    k = np.arange(p.shape[-1], dtype=np.float64)
    tot = p.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (p * k).sum(axis=-1) / tot
        second = (p * (k[None, :] - centre[:, None]) ** 2).sum(axis=-1) / tot
    return centre, second


def hits(showers: np.ndarray, threshold_gev: float = 0.0) -> np.ndarray:
    """(N,) number of cells with energy strictly above ``threshold_gev``."""
    return (_as_showers(showers) > threshold_gev).sum(axis=(1, 2, 3))


def hits_by_layer(showers: np.ndarray, threshold_gev: float = 0.0) -> np.ndarray:
    """(depth,) mean number of cells above ``threshold_gev`` per shower in each layer."""
    return (_as_showers(showers) > threshold_gev).sum(axis=(1, 2)).mean(axis=0)


def radial_distance_cells(n_x: int, n_y: int) -> np.ndarray:
    """(n_x, n_y) distance (cell widths) of each cell's centre from the grid's centre, the beam axis."""
    x, y = np.meshgrid(np.arange(n_x) - (n_x - 1) / 2, np.arange(n_y) - (n_y - 1) / 2, indexing="ij")
    return np.hypot(x, y)


def _by_ring(per_cell: np.ndarray) -> np.ndarray:
    """(n_rings,) sums of (n_x, n_y) ``per_cell`` over the rings r = 0, 1, ... cell widths from the axis (rounded)."""
    ring = np.rint(radial_distance_cells(*per_cell.shape)).astype(int)
    return np.bincount(ring.ravel(), weights=per_cell.ravel(), minlength=int(ring.max()) + 1)


def hits_by_radius(showers: np.ndarray, threshold_gev: float = 0.0) -> np.ndarray:
    """(n_rings,) mean number of cells above ``threshold_gev`` per shower whose centre lies at
    distance r from the beam axis, rounded to the nearest cell width (ring r = 0, 1, ...)."""
    return _by_ring((_as_showers(showers) > threshold_gev).sum(axis=3).mean(axis=0))


def energy_by_radius(showers: np.ndarray) -> np.ndarray:
    """(n_rings,) mean energy (GeV) per shower in the cells of each ring of :func:`hits_by_radius`."""
    return _by_ring(_as_showers(showers).sum(axis=3).mean(axis=0))


def transverse_variance_by_radius(showers: np.ndarray, axis: str = "x") -> np.ndarray:
    """(n_rings,) mean over non-empty showers of each ring's share (cell widths^2) of the shower's
    energy-weighted variance along transverse ``axis`` ('x' or 'y'), rings as in :func:`hits_by_radius`:
    the shares sum to each shower's width^2 of :func:`moments`, so a ring far out weighs by its distance^2."""
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y' (transverse), got {axis!r}")
    s = _as_showers(showers)
    xy = s.sum(axis=3, dtype=np.float64)  # (N, n_x, n_y) GeV
    total = xy.sum(axis=(1, 2))
    xy, total = xy[total > 0], total[total > 0]
    if axis == "y":
        xy = xy.transpose(0, 2, 1)
    centre, _ = moments(xy.sum(axis=2))
    k = np.arange(xy.shape[1], dtype=np.float64)
    shares = xy * (k[None, :, None] - centre[:, None, None]) ** 2 / total[:, None, None]
    if len(shares) == 0:
        return np.full(int(np.rint(radial_distance_cells(*s.shape[1:3]).max())) + 1, np.nan)
    return _by_ring(shares.mean(axis=0))  # the rings are symmetric in x and y


def cell_energy_spectrum(
    showers: np.ndarray, *, bins_gev: np.ndarray | None = None, threshold_gev: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of non-zero cell energies, normalised per shower.

    Returns:
        (counts per shower per bin (n_bins,), bin edges (n_bins + 1,) in GeV). Default
        bins: 50 logarithmic bins from 1e-6 to 10 GeV.
    """
    if bins_gev is None:
        bins_gev = np.logspace(-6, 1, 51)
    s = _as_showers(showers)
    cells = s[s > threshold_gev]
    counts, edges = np.histogram(cells, bins=bins_gev)
    return counts / max(1, s.shape[0]), edges


def energy_bin_labels(bins_gev: Sequence[float]) -> list[str]:
    """Labels such as '2-20 GeV' for consecutive bin edges."""
    return [f"{lo:g}-{hi:g} GeV" for lo, hi in zip(bins_gev[:-1], bins_gev[1:])]


def energy_bin_index(energies_gev: np.ndarray, bins_gev: Sequence[float]) -> np.ndarray:
    """(N,) index of each primary energy's bin (edges ``bins_gev``, last edge inclusive); -1 or
    ``len(bins_gev) - 1`` outside."""
    e = np.asarray(energies_gev, dtype=np.float64).reshape(-1)
    idx = np.searchsorted(np.asarray(bins_gev), e, side="right") - 1
    idx[e == bins_gev[-1]] = len(bins_gev) - 2  # upper edge is inclusive
    return idx


def binned_response(
    showers: np.ndarray, energies_gev: np.ndarray, bins_gev: Sequence[float]
) -> dict[str, np.ndarray]:
    """Sampling fraction and relative resolution per primary-energy bin.

    Returns a dict of (n_bins,) arrays: ``energy_gev`` (mean E_p in the bin), ``count``,
    ``sampling_fraction`` (mean E_cal/E_p), ``sampling_fraction_err`` (error of the mean),
    ``resolution`` (std/mean of E_cal/E_p).
    """
    sf = sampling_fraction(showers, energies_gev)
    e = np.asarray(energies_gev, dtype=np.float64).reshape(-1)
    idx = energy_bin_index(e, bins_gev)
    n_bins = len(bins_gev) - 1
    out = {k: np.full(n_bins, np.nan) for k in ("energy_gev", "sampling_fraction", "sampling_fraction_err", "resolution")}
    out["count"] = np.zeros(n_bins, dtype=int)
    for b in range(n_bins):
        sel = idx == b
        n = int(sel.sum())
        out["count"][b] = n
        if n == 0:
            continue
        out["energy_gev"][b] = e[sel].mean()
        out["sampling_fraction"][b] = sf[sel].mean()
        if n > 1:
            out["sampling_fraction_err"][b] = sf[sel].std(ddof=1) / np.sqrt(n)
            out["resolution"][b] = sf[sel].std(ddof=1) / sf[sel].mean()
    return out


def fit_sampling_fraction(showers: np.ndarray, energies_gev: np.ndarray, *, degree: int = 3) -> np.ndarray:
    """Polynomial fit of the sampling fraction E_cal/E_p against x = E_p / 100 GeV.

    Returns the coefficients, highest power first (``numpy.polyval(coeffs, E_p / 100)``
    gives the expected sampling fraction). Replaces the hard-coded 3DGAN ``GetEcalFit``
    polynomial with one made from the training data.
    """
    e = np.asarray(energies_gev, dtype=np.float64).reshape(-1)
    if e.shape[0] <= degree:
        raise ValueError(f"need more than {degree} showers to fit a degree-{degree} polynomial, got {e.shape[0]}")
    return np.polyfit(e / 100.0, sampling_fraction(showers, e), degree)


def fit_longitudinal_centre(showers: np.ndarray, energies_gev: np.ndarray, *, degree: int = 2) -> np.ndarray:
    """Polynomial fit of the longitudinal barycentre (layer index) against x = ln(E_p / 100 GeV).

    The shower maximum of an electromagnetic shower moves as ln(E_p), so a low-degree
    polynomial in ln(E_p) describes the mean depth over 2-500 GeV. Returns the coefficients,
    highest power first (``numpy.polyval(coeffs, log(E_p / 100))`` is the expected
    barycentre in layer-index units). Empty showers are left out.
    """
    e = np.asarray(energies_gev, dtype=np.float64).reshape(-1)
    centre, _ = moments(longitudinal_profile(showers))
    keep = np.isfinite(centre)
    if keep.sum() <= degree:
        raise ValueError(f"need more than {degree} non-empty showers to fit a degree-{degree} polynomial, "
                         f"got {int(keep.sum())}")
    return np.polyfit(np.log(e[keep] / 100.0), centre[keep], degree)


def mean_shower_shapes(showers: np.ndarray) -> np.ndarray:
    """(3, n_bins) normalised mean shower shapes along x, y, z, in percent.

    Each row is the mean profile of the sample along one axis divided by its sum, times
    100: the percentage of the sample's energy in each slice.
    """
    rows = []
    for a in AXES:
        mean = profile(showers, a).mean(axis=0)
        rows.append(100.0 * mean / mean.sum())
    return np.stack(rows)


def shower_shape_mse(
    showers_a: np.ndarray,
    showers_b: np.ndarray,
    *,
    energies_a_gev: np.ndarray | None = None,
    energies_b_gev: np.ndarray | None = None,
    bins_gev: Sequence[float] | None = None,
) -> dict[str, float]:
    r"""Mean squared error between the normalised mean shower shapes of two samples.

    Definition (used throughout the book): for a sample, the mean shower shape along axis
    a in {x, y, z} is :math:`S_a[k] = 100\,\bar P_a[k] / \sum_j \bar P_a[j]` (percent of the
    energy in slice k, :math:`\bar P_a` the mean profile). Then

    .. math:: \mathrm{MSE}(A, B) = \frac{1}{3 \cdot 25} \sum_{a} \sum_{k} (S^A_a[k] - S^B_a[k])^2

    in percent squared. With ``bins_gev`` and both energy arrays, the same quantity is also
    computed within each primary-energy bin (showers of A and B selected by their own
    energies). The study's MSE definition was not published, so compare ratios, not
    absolute values, with its table.

    Returns:
        {'all': mse} plus one entry per energy bin label (NaN where a bin is empty).
    """
    out = {"all": float(np.mean((mean_shower_shapes(showers_a) - mean_shower_shapes(showers_b)) ** 2))}
    if bins_gev is not None:
        if energies_a_gev is None or energies_b_gev is None:
            raise ValueError("per-bin shower_shape_mse needs energies_a_gev and energies_b_gev")
        ia, ib = energy_bin_index(energies_a_gev, bins_gev), energy_bin_index(energies_b_gev, bins_gev)
        for b, label in enumerate(energy_bin_labels(bins_gev)):
            sa, sb = ia == b, ib == b
            if not sa.any() or not sb.any():
                out[label] = float("nan")
                continue
            diff = mean_shower_shapes(np.asarray(showers_a)[sa]) - mean_shower_shapes(np.asarray(showers_b)[sb])
            out[label] = float(np.mean(diff**2))
    return out
