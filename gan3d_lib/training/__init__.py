"""The GAN game: its settings, the loop, resumable checkpoints, tf.distribute, the stages' records.

Its public names are what the chapters import, each loaded from its module on first use.
"""

from ..core.lazy import storefront

_EXPORTS = {
    "ablation": ("ablation_records", "read_plan", "EvaluationSettings", "evaluate_at_latent_seeds"),
    "training": ("TrainConfig", "load_generator", "stage_summaries", "train"),
}
_MODULES = ("ablation", "checkpoints", "distribution", "train_config", "training", "training_records")
__getattr__, __dir__, __all__ = storefront(__name__, _EXPORTS, _MODULES)
