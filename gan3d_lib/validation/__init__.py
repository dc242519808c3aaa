"""Generated showers against a reference: separation power, classifier AUC, FPD/KPD, per-epoch metrics.

Its public names are what the chapters import, each loaded from its module on first use.
"""

from ..core.lazy import storefront

_EXPORTS = {
    "auc_breakdown": ("group_aucs", "layer_moment_matched", "single_feature_aucs"),
    "evaluation": ("compare_at_energies", "score_artefacts", "shape_mse_metric"),
    "validation": ("compare", "prepare", "roc_auc"),
}
_MODULES = ("auc_breakdown", "distances", "evaluation", "validation")
__getattr__, __dir__, __all__ = storefront(__name__, _EXPORTS, _MODULES)
