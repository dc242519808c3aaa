"""gan3d: reproducible reduced-precision calorimeter GANs.

Submodules (imported on first use, so ``import gan3d_lib`` does no work):

* ``geometry``: the sampling calorimeter and its effective material constants
* ``mc``: the parametrised (GFlash) shower Monte Carlo
* ``io``: shower files in the CERN 3DGAN HDF5 layout
* ``observables``: physics observables and the shower-shape MSE
* ``reference``: Geant4 reference values and the Monte Carlo comparison
* ``datasets``: seeded, sharded Monte Carlo data sets on disk
* ``generation``: seeded shards of Monte Carlo or GAN showers made on Dask, checksummed
* ``models``: Keras Conv3D and Conv2D generators and discriminators
* ``training``: the GAN training loop, checkpoints and resume
* ``evaluation``: a generator (or any artefact) against the Monte Carlo
* ``validation``: CaloChallenge-style physics validation (separation power, classifier AUC, FPD/KPD)
* ``export``: frozen inference graphs (with INT8-ready transposed convolutions)
* ``artefacts``: one loader and ``generate(energies, seed)`` for every precision
* ``quantization``: INC, TFLite, ONNX Runtime and BF16 artefacts, accuracy-driven tuning
* ``atomic``: files and folders written atomically
* ``bench``: throughput measurements
* ``plotting``, ``tables``: figures and Markdown tables
* ``results``: results JSON files with versions and settings
* ``presets``, ``book``, ``cli``: notebook sizes, the book build, the command line
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
_SUBMODULES = ("geometry", "mc", "io", "observables", "reference", "datasets", "generation", "models", "training",
               "evaluation", "validation", "export", "artefacts",
               "quantization", "atomic", "bench", "plotting",
               "tables", "results", "presets", "book", "cli")
__all__ = ("__version__", *_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'gan3d_lib' has no attribute {name!r}; submodules: {', '.join(_SUBMODULES)}")


def __dir__() -> list[str]:
    return list(__all__)
