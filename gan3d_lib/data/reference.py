"""Geant4 reference measurements for the default W/Si geometry, and the MC comparison.

Source: Geant4 11.4, standard-like EM physics, 0.7 mm production cut, electrons at normal
incidence into the centre of the default :class:`~gan3d_lib.physics.geometry.CalorimeterGeometry`
(25 layers of 2.4 mm W + 0.5 mm Si, 25 x 25 cells of 5.1 mm). External measurement quoted
in the project's foundation issue; not produced by this project.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..physics import observables as obs
from ..physics.geometry import ENERGY_RANGE_GEV
from .mc import ShowerSimulator

__all__ = ["GEANT4_SHOWER_FACTS", "GEANT4_SHOWER_FACTS_SOURCE", "Geant4Point", "GEANT4_REFERENCE", "GEANT4_PROFILE_100GEV_MEV",
           "geant4_cpu_s_per_shower", "geant4_showers_per_s",
           "compare_to_geant4"]


@dataclass(frozen=True)
class Geant4Point:
    """One Geant4 reference energy point."""

    energy_gev: float
    sampling_fraction: float  # E_Si / E_primary
    peak_layer: int  # 0-based layer of the maximum of the mean longitudinal profile
    cells_hit: float  # mean number of Si cells with a deposit
    cpu_s_per_shower: float  # Geant4 CPU time per shower on one core, seconds


GEANT4_REFERENCE: tuple[Geant4Point, ...] = (
    Geant4Point(10.0, 0.0286, 9, 217, 0.07),
    Geant4Point(50.0, 0.0277, 11, 558, 0.35),
    Geant4Point(100.0, 0.0265, 12, 791, 0.67),
    Geant4Point(200.0, 0.0261, 12, 1147, 1.27),
    Geant4Point(500.0, 0.0248, 14, 1704, 2.91),
)

#: Mean longitudinal profile of 100 GeV electrons, MeV per layer (layers 0..24).
GEANT4_PROFILE_100GEV_MEV = np.array([
    1.2, 4.7, 13.5, 23.6, 42.5, 68.8, 96.5, 125.2, 152.9, 171.4, 183.4, 178.2, 188.4,
    180.0, 174.8, 163.5, 148.0, 140.3, 123.0, 117.1, 94.9, 87.4, 73.0, 62.2, 34.0,
])


GEANT4_SHOWER_FACTS_SOURCE = (
    "Geant4 11.4, EM physics from data-free models (relativistic bremsstrahlung, Bethe-Heitler 5D / relativistic "
    "pair production, Urban / WentzelVI multiple scattering), 0.7 mm production cut, the default geometry, electrons "
    "at the centre of the front face, 60 showers per energy; shared/reference/geant4_shower_facts.md (external run, "
    "not produced by this project). Precision: about 1 % on widths and fractions, 1-2 % on hits, 10-15 % on the SF rms.")

#: Geant4 per-energy shower facts, keys as :data:`gan3d_lib.physics.shower_facts.FACTS` ({energy GeV: {fact: value}}).
GEANT4_SHOWER_FACTS: dict[float, dict[str, float]] = {
    e: dict(zip(("sf_mean_pct", "sf_rms_over_mean", "x_width_cells", "y_width_cells", "core_3x3", "core_5x5",
                 "layer0_pct", "last_layer_pct", "hits", "hottest_cell"), values))
    for e, values in {
        10.0: (2.89, 0.047, 1.13, 1.12, 0.859, 0.932, 0.34, 0.43, 192, 0.066),
        25.0: (2.82, 0.046, 1.13, 1.12, 0.862, 0.933, 0.19, 0.62, 340, 0.058),
        50.0: (2.76, 0.036, 1.13, 1.12, 0.862, 0.934, 0.10, 0.92, 503, 0.055),
        100.0: (2.71, 0.051, 1.09, 1.10, 0.868, 0.938, 0.06, 1.09, 723, 0.052),
        200.0: (2.62, 0.057, 1.08, 1.08, 0.873, 0.940, 0.04, 1.51, 1014, 0.049),
        400.0: (2.55, 0.066, 1.06, 1.07, 0.876, 0.942, 0.03, 1.81, 1405, 0.048),
    }.items()
}


def geant4_cpu_s_per_shower(energies_gev: np.ndarray) -> np.ndarray:
    """Geant4 CPU seconds per shower (one core) at the given energies, GeV.

    Linear interpolation of :data:`GEANT4_REFERENCE` (CPU time grows about linearly with
    energy); constant extrapolation outside 10-500 GeV.
    """
    return np.interp(np.asarray(energies_gev, dtype=float), [p.energy_gev for p in GEANT4_REFERENCE],
                     [p.cpu_s_per_shower for p in GEANT4_REFERENCE])


def geant4_showers_per_s(cores: int, energy_range_gev: tuple[float, float] = ENERGY_RANGE_GEV) -> float:
    """Geant4 showers per second on ``cores`` cores (one shower per core at a time), primary
    energies uniform in ``energy_range_gev``: cores / mean CPU seconds per shower."""
    if cores < 1:
        raise ValueError(f"cores must be >= 1, got {cores}")
    energies = np.linspace(*energy_range_gev, 1001)
    return cores / float(geant4_cpu_s_per_shower(energies).mean())


def compare_to_geant4(
    simulator: ShowerSimulator | None = None, *, n_per_energy: int = 500, seed: int = 1
) -> dict:
    """Simulate showers at each Geant4 reference energy and compare.

    Returns:
        {'rows': [per-energy dict with MC value, Geant4 value and relative/absolute
        difference for sampling fraction, peak layer and cells hit, and the MC mean
        longitudinal profile in MeV], 'profile_100gev': {'mc_mev', 'geant4_mev'}}.
        Seeds: energy point i uses ``seed + i``.
    """
    sim = simulator or ShowerSimulator()
    rows = []
    profile_100 = None
    for i, ref in enumerate(GEANT4_REFERENCE):
        showers, energies = sim.simulate(n_per_energy, seed=seed + i, energy_range_gev=(ref.energy_gev, ref.energy_gev))
        sf = obs.sampling_fraction(showers, energies)
        mean_profile_mev = 1e3 * obs.longitudinal_profile(showers).mean(axis=0)
        n_hit = obs.hits(showers, sim.tuning.threshold_gev)
        row = {
            "energy_gev": ref.energy_gev,
            "n_showers": n_per_energy,
            "sampling_fraction_mc": float(sf.mean()),
            "sampling_fraction_geant4": ref.sampling_fraction,
            "sampling_fraction_rel_diff": float(sf.mean() / ref.sampling_fraction - 1),
            "resolution_mc": float(sf.std(ddof=1) / sf.mean()),
            "peak_layer_mc": int(np.argmax(mean_profile_mev)),
            "peak_layer_geant4": ref.peak_layer,
            "peak_layer_diff": int(np.argmax(mean_profile_mev)) - ref.peak_layer,
            "cells_hit_mc": float(n_hit.mean()),
            "cells_hit_geant4": ref.cells_hit,
            "cells_hit_rel_diff": float(n_hit.mean() / ref.cells_hit - 1),
            "mean_profile_mev": mean_profile_mev.tolist(),
        }
        rows.append(row)
        if ref.energy_gev == 100.0:
            profile_100 = mean_profile_mev
    return {
        "rows": rows,
        "profile_100gev": {
            "mc_mev": None if profile_100 is None else profile_100.tolist(),
            "geant4_mev": GEANT4_PROFILE_100GEV_MEV.tolist(),
        },
    }
