"""The calorimeter, its observables and the per-energy shower facts (NumPy only).

Its public names are what the chapters import, each loaded from its module on first use.
"""

from ..core.lazy import storefront

_EXPORTS = {
    "geometry": ("HITS_THRESHOLD_GEV",),
    "observables": ("longitudinal_profile", "sampling_fraction", "shower_shape_mse", "total_energy"),
    "shower_facts": ("CLASSIFIER_AUC_GOAL", "FACTS", "GENERATOR_GOALS", "barycentre_spread_rows",
                     "facts_at_energies", "facts_by_energy_bin", "facts_table", "goal_rows", "resolution_rows",
                     "sampling_fraction_by_bin"),
}
_MODULES = ("geometry", "observables", "shower_facts")
__getattr__, __dir__, __all__ = storefront(__name__, _EXPORTS, _MODULES)
