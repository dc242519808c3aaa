"""The GAN game: its settings, the loop, resumable checkpoints, tf.distribute, the stages' records.

Its public names are what the chapters import, each loaded from its module on first use.
"""

from ..core.lazy import storefront

_EXPORTS = {
    "training": ("TrainConfig", "load_generator", "stage_summaries", "train"),
}
_MODULES = ("checkpoints", "distribution", "train_config", "training", "training_records")
__getattr__, __dir__, __all__ = storefront(__name__, _EXPORTS, _MODULES)
