"""Parametrised electromagnetic shower Monte Carlo (GFlash / Grindhammer-Peters).

Each shower is built in four steps, vectorised over a block of showers:

1. **Longitudinal profile**: per-shower (T, alpha) drawn from the correlated log-normal
   of hep-ex/0001020 with the sampling-calorimeter corrections; the fraction of the
   energy absorbed in layer l is ``P(alpha, beta t_{l+1}) - P(alpha, beta t_l)`` with
   ``P`` the regularised lower incomplete gamma function and ``t`` in effective X0.
2. **Radial profile**: two-component (core + tail) profile in Moliere radii with the
   sampling corrections, integrated *exactly* over each square cell (closed form).
3. **Spots**: the absorbed energy of a layer is carried by ``N_spot ~ E^0.876`` spots
   whose number per cell is Poisson distributed (GFlash's lateral fluctuations).
4. **Sampling**: the visible energy of a cell is carried by charged-particle crossings
   of the silicon, Poisson distributed, each with a Landau-like Gamma fluctuation.
   Cells below the read-out threshold are set to zero.

Output cell energies are *visible* energies in GeV, so ``sum / E_primary`` is the
sampling fraction, as in the CERN 3DGAN files. Randomness is organised in blocks of
``BLOCK_SIZE`` showers with seed ``SeedSequence(seed, spawn_key=(block,))``: the same seed
gives byte-identical showers however the work is split or chunked, and the first m showers
of a larger run equal a run of m showers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.special import gammainc

from ..physics.geometry import ENERGY_RANGE_GEV, CalorimeterGeometry

__all__ = ["ShowerTuning", "ShowerSimulator", "simulate_showers", "cell_fractions", "BLOCK_SIZE"]

BLOCK_SIZE = 128
SPECTRA = ("uniform", "log-uniform")  # primary-energy distributions


@dataclass(frozen=True)
class ShowerTuning:
    """Free constants of the Monte Carlo, calibrated once against Geant4.

    Attributes:
        e_over_mip: visible-energy scale relative to a minimum-ionising particle; sets the
            sampling fraction (calibrated to the Geant4 sampling fraction at 10 GeV).
        depth_shift_x0: added to GFlash's T_max (in X0); calibrated on the Geant4 peak layers.
        crossing_energy_mip: mean visible energy per charged-particle crossing of a cell,
            in units of the MIP deposit; sets the number of hit cells.
        crossing_gamma_shape: shape k of the Gamma fluctuation per crossing
            (relative spread 1/sqrt(k)), a stand-in for Landau fluctuations.
        spot_n1, spot_n2: N_spot = spot_n1 * (E/GeV)^spot_n2 (Geant4 sampling defaults).
        depth_spread_scale: multiplies GFlash's per-shower spread of ln T_max and ln alpha
            at 100 GeV (sets the leakage fluctuations, hence the SF spread at high energy).
        depth_spread_power: the spread's factor runs as ``depth_spread_scale * (E / 100 GeV)^power``
            (0 = GFlash's energy dependence).
        core_radius_scale, tail_radius_scale: multiply GFlash's core and tail radii R_C, R_T
            (1 = GFlash); set the 3x3 core fraction and the shower width.
        core_probability_scale: multiplies GFlash's core probability p (clipped to [0, 1]).
        first_layer_gev, first_layer_power: energy absorbed in layer 0 beyond the Gamma
            profile, ``first_layer_gev * (E/GeV)^first_layer_power`` GeV, spread like layer 0
            (the primary and its first secondaries cross the first silicon before the shower
            develops; the Gamma profile starts at zero slope and misses it).
        last_layer_factor: multiplies the last layer's absorbed energy (its silicon has no
            absorber behind it, so it misses the energy scattered back into the others).
        threshold_gev: read-out threshold per cell in GeV (3DGAN convention: 1e-6).

    The defaults are fitted against the Geant4 facts (:mod:`gan3d_lib.data.mc_tuning`).
    """

    # response: visible energy, silicon crossings, spots (fitted: data/mc_tuning_first_fit.json;
    # the depth spread's scale and power refitted: data/mc_tuning.json)
    e_over_mip: float = 0.854669
    depth_shift_x0: float = 0.45
    crossing_energy_mip: float = 1.7057
    crossing_gamma_shape: float = 1.16031
    spot_n1: float = 93.0 / 0.11
    spot_n2: float = 0.876
    depth_spread_scale: float = 0.894811
    depth_spread_power: float = 0.2
    # shape: radial profile, first and last layer
    core_radius_scale: float = 0.690499
    tail_radius_scale: float = 1.12559
    core_probability_scale: float = 0.863211
    first_layer_gev: float = 0.0099505
    first_layer_power: float = 0.364529
    last_layer_factor: float = 0.540008
    threshold_gev: float = 1e-6


def _corner_integral(x: np.ndarray, y: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Integral of the 2-D density R^2 / (pi (x^2 + y^2 + R^2)^2) over [0, x] x [0, y].

    Broadcasts x, y and r (all in the same length unit). Odd in x and in y; tends to 1/4
    for x, y -> +inf, so the density integrates to 1 over the plane.
    """
    sx = np.sqrt(x * x + r * r)
    sy = np.sqrt(y * y + r * r)
    return (x / sx * np.arctan(y / sx) + y / sy * np.arctan(x / sy)) / (2.0 * np.pi)


def cell_fractions(radius_mm: np.ndarray, x_edges_mm: np.ndarray, y_edges_mm: np.ndarray) -> np.ndarray:
    """Fraction of a radial profile f(r) = 2 r R^2 / (r^2 + R^2)^2 falling in each cell.

    Args:
        radius_mm: (...) profile radius R in mm.
        x_edges_mm: (nx + 1,) cell boundaries in x, mm, relative to the shower axis.
        y_edges_mm: (ny + 1,) cell boundaries in y, mm.

    Returns:
        (..., nx, ny) fractions; they sum to the contained fraction (< 1).
    """
    r = np.asarray(radius_mm)[..., None, None]
    g = _corner_integral(x_edges_mm[:, None], y_edges_mm[None, :], r)
    return g[..., 1:, 1:] - g[..., :-1, 1:] - g[..., 1:, :-1] + g[..., :-1, :-1]


@dataclass
class ShowerSimulator:
    """GFlash-style electron shower generator for a :class:`CalorimeterGeometry`."""

    geometry: CalorimeterGeometry = field(default_factory=CalorimeterGeometry)
    tuning: ShowerTuning = field(default_factory=ShowerTuning)

    def settings(self) -> dict:
        """Geometry and tuning as a plain dict, for results files."""
        return {"geometry": self.geometry.summary(), "tuning": asdict(self.tuning)}

    # --- longitudinal -------------------------------------------------------------------
    def profile_parameters(self, energies_gev: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Per-shower Gamma-profile parameters (T_max in X0, alpha), shape (n,) each."""
        g, tun = self.geometry, self.tuning
        ln_y = np.log(energies_gev * 1000.0 / g.critical_energy_mev)
        z = g.z_eff
        mean_t_hom = np.maximum(ln_y - 0.812, 0.1)
        mean_a_hom = np.maximum(0.81 + (0.458 + 2.26 / z) * ln_y, 0.1)
        mean_ln_t = np.log(np.maximum(
            mean_t_hom - 0.55 / g.sampling_frequency - 0.69 * (1 - g.e_hat) + tun.depth_shift_x0, 0.1))
        mean_ln_a = np.log(np.maximum(mean_a_hom - 0.476 / g.sampling_frequency, 0.1))
        spread = tun.depth_spread_scale * (energies_gev / 100.0) ** tun.depth_spread_power
        sig_ln_t = np.minimum(1.0 / np.maximum(-2.5 + 1.25 * ln_y, 1e-3), 0.5) * spread
        sig_ln_a = np.minimum(1.0 / np.maximum(-0.82 + 0.79 * ln_y, 1e-3), 0.5) * spread
        rho = np.clip(0.784 - 0.023 * ln_y, -1.0, 1.0)
        z1 = rng.standard_normal(energies_gev.shape)
        z2 = rng.standard_normal(energies_gev.shape)
        cp, cm = np.sqrt((1 + rho) / 2), np.sqrt((1 - rho) / 2)
        t_max = np.maximum(np.exp(mean_ln_t + sig_ln_t * (cp * z1 + cm * z2)), 1.0)
        alpha = np.maximum(np.exp(mean_ln_a + sig_ln_a * (cp * z1 - cm * z2)), 1.1)
        return t_max, alpha

    def layer_fractions(self, energies_gev: np.ndarray, t_max: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """(n, n_layers) fraction of the primary energy absorbed in each layer: the Gamma
        profile with the first-layer excess and the last-layer factor of the tuning."""
        tun = self.tuning
        beta = (alpha - 1.0) / t_max
        edges = self.geometry.layer_edges_x0()
        cdf = gammainc(alpha[:, None], beta[:, None] * edges[None, :])
        frac = np.diff(cdf, axis=1)
        first = np.minimum(tun.first_layer_gev * energies_gev ** tun.first_layer_power / energies_gev, 0.5)
        frac *= (1.0 - first)[:, None]
        frac[:, 0] += first
        frac[:, -1] *= tun.last_layer_factor
        return frac

    # --- radial -------------------------------------------------------------------------
    def radial_parameters(
        self, energies_gev: np.ndarray, t_max: np.ndarray, alpha: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Core radius R_C, tail radius R_T (mm) and core probability p, each (n, n_layers)."""
        g = self.geometry
        z, fs, one_m_e = g.z_eff, g.sampling_frequency, 1.0 - g.e_hat
        t_mid = 0.5 * (g.layer_edges_x0()[1:] + g.layer_edges_x0()[:-1])
        tau = t_mid[None, :] / t_max[:, None]
        ln_e = np.log(energies_gev)[:, None]
        r_core = (0.0251 + 0.00319 * ln_e) + (0.1162 - 0.000381 * z) * tau
        r_core = r_core - 0.0203 * one_m_e + 0.0397 / fs * np.exp(-tau)
        k1, k2, k3, k4 = 0.659 - 0.00309 * z, 0.645, -2.59, 0.3585 + 0.0412 * ln_e
        r_tail = k1 * (np.exp(k3 * (tau - k2)) + np.exp(k4 * (tau - k2)))
        r_tail = r_tail - 0.14 * one_m_e - 0.495 / fs * np.exp(-tau)
        p1, p2, p3 = 2.632 - 0.00094 * z, 0.401 + 0.00187 * z, 1.313 - 0.0686 * ln_e
        u = (p2 - tau) / p3
        p_core = p1 * np.exp(u - np.exp(u)) + one_m_e * (0.348 - 0.642 / fs * np.exp(-((tau - 1.0) ** 2)))
        tun = self.tuning
        r_core = np.maximum(r_core, 0.005) * (tun.core_radius_scale * g.moliere_radius_mm)
        r_tail = np.maximum(r_tail, 0.05) * (tun.tail_radius_scale * g.moliere_radius_mm)
        return r_core, r_tail, np.clip(p_core * tun.core_probability_scale, 0.0, 1.0)

    def expected_cell_fractions(
        self, energies_gev: np.ndarray, t_max: np.ndarray, alpha: np.ndarray
    ) -> np.ndarray:
        """(n, nx, ny, n_layers) fraction of E_primary absorbed per cell, given (T, alpha)."""
        r_core, r_tail, p_core = self.radial_parameters(energies_gev, t_max, alpha)
        xe, ye = self.geometry.cell_edges_mm()
        lateral = p_core[..., None, None] * cell_fractions(r_core, xe, ye)
        lateral += (1.0 - p_core)[..., None, None] * cell_fractions(r_tail, xe, ye)
        frac = self.layer_fractions(energies_gev, t_max, alpha)[..., None, None] * lateral  # (n, L, nx, ny)
        return np.moveaxis(frac, 1, -1)

    # --- one block ----------------------------------------------------------------------
    def simulate_block(self, energies_gev: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Showers for the given primary energies.

        Args:
            energies_gev: (n,) primary electron energies in GeV, > 0.
            rng: the random generator consumed by this block.

        Returns:
            (n, nx, ny, n_layers) float32 visible cell energies in GeV.
        """
        g, tun = self.geometry, self.tuning
        energies_gev = np.asarray(energies_gev, dtype=np.float64)
        t_max, alpha = self.profile_parameters(energies_gev, rng)
        frac = self.expected_cell_fractions(energies_gev, t_max, alpha)
        e = energies_gev[:, None, None, None]
        n_spots = tun.spot_n1 * energies_gev ** tun.spot_n2  # per shower
        spots = rng.poisson(frac * n_spots[:, None, None, None])
        absorbed_gev = spots * (e / n_spots[:, None, None, None])
        crossing_gev = tun.crossing_energy_mip * g.mip_deposit_mev * 1e-3
        visible_mean_gev = absorbed_gev * (tun.e_over_mip * g.mip_sampling_fraction)
        crossings = rng.poisson(visible_mean_gev / crossing_gev)
        k = tun.crossing_gamma_shape
        visible = rng.standard_gamma(crossings * k) * (crossing_gev / k)
        visible[visible < tun.threshold_gev] = 0.0
        return visible.astype(np.float32)

    def simulate(
        self,
        n: int,
        *,
        seed: int,
        energy_range_gev: tuple[float, float] = ENERGY_RANGE_GEV,
        spectrum: str = "uniform",
        first_block: int = 0,
        progress: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Simulate ``n`` showers with primary energies drawn from ``spectrum`` in ``energy_range_gev``.

        Args:
            n: number of showers (>= 0).
            seed: non-negative integer seed; same seed -> identical bytes.
            energy_range_gev: (low, high) in GeV; low == high gives a fixed energy.
            spectrum: 'uniform' (flat in E, as the CERN files) or 'log-uniform' (flat in
                log E, as CaloChallenge data set 2: as many 2-20 GeV as 50-500 GeV showers).
            first_block: index of the first random block (for shards that continue a run).
            progress: show a tqdm progress bar.

        Returns:
            showers (n, nx, ny, n_layers) float32 GeV, energies (n,) float32 GeV.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        low, high = (float(v) for v in energy_range_gev)
        if not (0 < low <= high):
            raise ValueError(f"energy_range_gev must satisfy 0 < low <= high (GeV), got {energy_range_gev}")
        if spectrum not in SPECTRA:
            raise ValueError(f"spectrum must be one of {SPECTRA}, got {spectrum!r}")
        showers = np.empty((n, *self.geometry.shape), dtype=np.float32)
        energies = np.empty(n, dtype=np.float32)
        n_blocks = -(-n // BLOCK_SIZE)
        blocks = range(n_blocks)
        if progress:
            from tqdm.auto import tqdm

            blocks = tqdm(blocks, desc="Monte Carlo", unit="block", total=n_blocks)
        for b in blocks:
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(first_block + b,)))
            if spectrum == "uniform":
                e_block = rng.uniform(low, high, BLOCK_SIZE).astype(np.float32)
            else:
                e_block = np.exp(rng.uniform(np.log(low), np.log(high), BLOCK_SIZE)).astype(np.float32)
            lo, hi = b * BLOCK_SIZE, min(n, (b + 1) * BLOCK_SIZE)
            m = hi - lo
            # Simulate the full block so a shower's bytes never depend on n.
            showers[lo:hi] = self.simulate_block(e_block.astype(np.float64), rng)[:m]
            energies[lo:hi] = e_block[:m]
        return showers, energies


def simulate_showers(
    n: int,
    *,
    seed: int,
    energy_range_gev: tuple[float, float] = ENERGY_RANGE_GEV,
    spectrum: str = "uniform",
    geometry: CalorimeterGeometry | None = None,
    tuning: ShowerTuning | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Convenience wrapper: ``ShowerSimulator(geometry, tuning).simulate(...)``.

    Returns showers (n, 25, 25, 25) float32 visible cell energies in GeV and the
    primary energies (n,) float32 in GeV.
    """
    sim = ShowerSimulator(geometry or CalorimeterGeometry(), tuning or ShowerTuning())
    return sim.simulate(n, seed=seed, energy_range_gev=energy_range_gev, spectrum=spectrum, progress=progress)
