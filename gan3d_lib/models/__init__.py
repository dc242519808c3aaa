"""Keras generators and discriminators, their heads, the GAN's loss terms and inference.

Its public names are what the chapters import, each loaded from its module on first use.
"""

from ..core.lazy import storefront

_EXPORTS = {
    "inference": ("generate_showers",),
    "models": ("build_discriminator", "build_generator", "generator_options", "latent_vectors",
               "multiply_accumulates", "widen_weights"),
}
_MODULES = ("inference", "layers", "losses", "models")
__getattr__, __dir__, __all__ = storefront(__name__, _EXPORTS, _MODULES)
