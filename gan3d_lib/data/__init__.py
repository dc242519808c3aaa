"""Shower files in the CERN 3DGAN layout, the GFlash Monte Carlo and its fit to Geant4, data sets and streams.

Its public names are what the chapters import, each loaded from its module on first use.
"""

from ..core.lazy import storefront

_EXPORTS = {
    "datasets": ("ensure_mc_dataset", "simulate_to_files"),
    "io": ("ShowerFileError", "read_showers", "write_showers"),
    "mc": ("ShowerSimulator",),
    "mc_tuning": ("FIRST_FIT", "TOLERANCES", "named_tuning", "parameter_table", "residual_table"),
    "reference": ("GEANT4_REFERENCE", "GEANT4_SHOWER_FACTS", "compare_to_geant4", "geant4_cpu_s_per_shower",
                  "geant4_showers_per_s"),
}
_MODULES = ("datasets", "io", "mc", "mc_tuning", "reference", "shower_stream")
__getattr__, __dir__, __all__ = storefront(__name__, _EXPORTS, _MODULES)
