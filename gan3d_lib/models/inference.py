"""A Keras generator's showers for given primary energies, in batches."""

from __future__ import annotations

from typing import Any

import numpy as np

from .models import latent_vectors

__all__ = ["generate_showers"]


def generate_showers(generator: Any, energies_gev: np.ndarray, *, seed: int, batch_size: int = 256,
                     latent_norm: str = "sphere") -> np.ndarray:
    """(N, 25, 25, 25) float32 GeV showers for the energies, latents ``models.latent_vectors(seed, latent_norm)``."""
    import keras

    z = latent_vectors(energies_gev, seed=seed, norm=latent_norm)
    out = [keras.ops.convert_to_numpy(generator(z[i:i + batch_size], training=False)).astype(np.float32)
           for i in range(0, len(z), batch_size)]
    return np.concatenate(out) if out else np.empty((0, 25, 25, 25), np.float32)
