"""Sampling-calorimeter geometry and the effective material constants GFlash needs.

The default is the 3DGAN electron calorimeter layout: 25 x 25 cells of 5.1 mm x 5.1 mm
silicon pads, 25 layers of 2.4 mm tungsten followed by 0.5 mm silicon, electrons at
normal incidence into the centre of the grid.

Effective-material formulas follow Grindhammer & Peters, hep-ex/0001020, and Geant4's
``GFlashSamplingShowerParameterisation`` (mass-weighted mixture of absorber and active
layer).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np

__all__ = ["ENERGY_RANGE_GEV", "Material", "TUNGSTEN", "SILICON", "CalorimeterGeometry", "HITS_THRESHOLD_GEV"]

#: Primary-energy range of the CERN electron files and of every default here, GeV.
ENERGY_RANGE_GEV: tuple[float, float] = (2.0, 500.0)


@dataclass(frozen=True)
class Material:
    """A pure material.

    Attributes:
        name: human-readable name.
        z: atomic number.
        a: atomic mass in g/mol.
        density_g_cm3: density in g/cm^3.
        radiation_length_mm: X0 in mm.
        critical_energy_mev: critical energy E_c for electrons in MeV.
        mip_dedx_mev_cm2_g: minimum-ionising stopping power in MeV cm^2/g (PDG).
    """

    name: str
    z: float
    a: float
    density_g_cm3: float
    radiation_length_mm: float
    critical_energy_mev: float
    mip_dedx_mev_cm2_g: float


# PDG "Atomic and nuclear properties of materials" values.
TUNGSTEN = Material("W", 74.0, 183.84, 19.30, 3.504, 7.97, 1.145)
SILICON = Material("Si", 14.0, 28.0855, 2.329, 93.70, 40.19, 1.664)

_MOLIERE_SCALE_ENERGY_MEV = 21.2  # E_s as used by GFlash for sampling calorimeters


@dataclass(frozen=True)
class CalorimeterGeometry:
    """A transversely segmented sampling calorimeter of identical layers.

    Each layer is ``absorber_thickness_mm`` of ``absorber`` followed by
    ``active_thickness_mm`` of ``active`` (the read-out layer). Cells are square,
    ``cell_size_mm`` wide, ``n_cells_x`` x ``n_cells_y`` per layer. Axis order of a
    shower array is (x, y, depth) in cell indices, as in the CERN 3DGAN files.
    """

    n_cells_x: int = 25
    n_cells_y: int = 25
    n_layers: int = 25
    cell_size_mm: float = 5.1
    absorber_thickness_mm: float = 2.4
    active_thickness_mm: float = 0.5
    absorber: Material = field(default=TUNGSTEN)
    active: Material = field(default=SILICON)

    def __post_init__(self) -> None:
        for name in ("n_cells_x", "n_cells_y", "n_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"CalorimeterGeometry.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("cell_size_mm", "absorber_thickness_mm", "active_thickness_mm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"CalorimeterGeometry.{name} must be > 0 mm, got {getattr(self, name)}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shower array shape (x, y, depth) in cells."""
        return (self.n_cells_x, self.n_cells_y, self.n_layers)

    @property
    def layer_thickness_mm(self) -> float:
        """Thickness of one absorber + active layer in mm."""
        return self.absorber_thickness_mm + self.active_thickness_mm

    @cached_property
    def _mass_weights(self) -> tuple[float, float]:
        m_abs = self.absorber_thickness_mm * self.absorber.density_g_cm3
        m_act = self.active_thickness_mm * self.active.density_g_cm3
        return m_abs / (m_abs + m_act), m_act / (m_abs + m_act)

    @property
    def z_eff(self) -> float:
        """Mass-weighted effective atomic number."""
        w_abs, w_act = self._mass_weights
        return w_abs * self.absorber.z + w_act * self.active.z

    @property
    def density_eff_g_cm3(self) -> float:
        """Thickness-weighted mean density in g/cm^3."""
        return (
            self.absorber_thickness_mm * self.absorber.density_g_cm3
            + self.active_thickness_mm * self.active.density_g_cm3
        ) / self.layer_thickness_mm

    @property
    def radiation_length_mm(self) -> float:
        """Effective radiation length X0 of the layer mixture in mm."""
        w_abs, w_act = self._mass_weights
        rho = self.density_eff_g_cm3
        inv = w_abs * rho / (self.absorber.radiation_length_mm * self.absorber.density_g_cm3)
        inv += w_act * rho / (self.active.radiation_length_mm * self.active.density_g_cm3)
        return 1.0 / inv

    @property
    def critical_energy_mev(self) -> float:
        """Effective critical energy E_c in MeV (GFlash mixture rule)."""
        w_abs, w_act = self._mass_weights
        per_x0 = (
            w_abs * self.absorber.critical_energy_mev / self.absorber.radiation_length_mm
            + w_act * self.active.critical_energy_mev / self.active.radiation_length_mm
        )
        return self.radiation_length_mm * per_x0

    @property
    def moliere_radius_mm(self) -> float:
        """Effective Moliere radius R_M in mm (E_s = 21.2 MeV)."""
        return self.radiation_length_mm * _MOLIERE_SCALE_ENERGY_MEV / self.critical_energy_mev

    @property
    def sampling_frequency(self) -> float:
        """GFlash F_s = X0_eff / layer thickness (dimensionless)."""
        return self.radiation_length_mm / self.layer_thickness_mm

    @property
    def e_hat(self) -> float:
        """GFlash e-hat = 1 / (1 + 0.007 (Z_abs - Z_act)), the e/mip-like correction."""
        return 1.0 / (1.0 + 0.007 * (self.absorber.z - self.active.z))

    @property
    def mip_sampling_fraction(self) -> float:
        """Fraction of a minimum-ionising particle's energy loss that lands in the active layer."""
        de_act = self.active_thickness_mm * self.active.density_g_cm3 * self.active.mip_dedx_mev_cm2_g
        de_abs = self.absorber_thickness_mm * self.absorber.density_g_cm3 * self.absorber.mip_dedx_mev_cm2_g
        return de_act / (de_act + de_abs)

    @property
    def mip_deposit_mev(self) -> float:
        """Mean energy a minimum-ionising particle leaves in one active layer, MeV."""
        return 0.1 * self.active_thickness_mm * self.active.density_g_cm3 * self.active.mip_dedx_mev_cm2_g

    @property
    def depth_x0(self) -> float:
        """Total depth of the stack in effective radiation lengths."""
        return self.n_layers * self.layer_thickness_mm / self.radiation_length_mm

    def layer_edges_x0(self) -> np.ndarray:
        """(n_layers + 1,) layer boundaries along the shower axis in effective X0."""
        return np.arange(self.n_layers + 1) * (self.layer_thickness_mm / self.radiation_length_mm)

    def cell_edges_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell boundaries in x and y (mm), centred on the grid centre (the beam axis)."""
        x = (np.arange(self.n_cells_x + 1) - self.n_cells_x / 2) * self.cell_size_mm
        y = (np.arange(self.n_cells_y + 1) - self.n_cells_y / 2) * self.cell_size_mm
        return x, y

    def summary(self) -> dict[str, float | int | str]:
        """Plain-dict description with derived constants, for results files and tables."""
        out: dict[str, float | int | str] = {
            k: v for k, v in asdict(self).items() if not isinstance(v, dict)
        }
        out["absorber"] = self.absorber.name
        out["active"] = self.active.name
        out.update(
            layer_thickness_mm=self.layer_thickness_mm,
            radiation_length_mm=self.radiation_length_mm,
            moliere_radius_mm=self.moliere_radius_mm,
            critical_energy_mev=self.critical_energy_mev,
            z_eff=self.z_eff,
            depth_x0=self.depth_x0,
            sampling_frequency=self.sampling_frequency,
            e_hat=self.e_hat,
            mip_sampling_fraction=self.mip_sampling_fraction,
            mip_deposit_mev=self.mip_deposit_mev,
        )
        return out


#: Hits threshold: half the mean energy a minimum-ionising particle leaves in one silicon
#: layer of the default geometry (about 0.1 MeV), so a hit is a cell a charged particle crossed.
HITS_THRESHOLD_GEV = 0.5 * CalorimeterGeometry().mip_deposit_mev * 1e-3
