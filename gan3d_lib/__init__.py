"""gan3d: reproducible reduced-precision calorimeter GANs.

Subpackages, in import order (each imports only from those above it; imported on first use,
so ``import gan3d_lib`` does no work):

* ``core``: files written atomically, results JSON with versions, Markdown tables
* ``physics``: the calorimeter, its observables, the per-energy shower facts
* ``data``: CERN-layout HDF5 files, the GFlash Monte Carlo and its fit, data sets, streams
* ``validation``: generated showers against a reference (separation, classifier, FPD/KPD)
* ``models``: Keras generators and discriminators, loss terms, inference
* ``training``: the GAN game, its settings, checkpoints, ``tf.distribute``
* ``precision``: the backends, export, quantization, OpenVINO, the physics gate
* ``speed``: stream runner, throughput, GEMM peaks, rooflines, profiles, Dask generation
* ``book``: the book runner, presets, claims, chapter rows and sentences, plotting
* ``cli``: the ``gan3d`` command
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"
#: the subpackages, lowest layer first (tests/test_import_graph.py holds imports to this order)
LAYERS = ("core", "physics", "data", "validation", "models", "training", "precision", "speed", "book", "cli")
__all__ = ("__version__", "LAYERS", *LAYERS)


def __getattr__(name: str) -> Any:
    if name in LAYERS:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'gan3d_lib' has no attribute {name!r}; subpackages: {', '.join(LAYERS)}")


def __dir__() -> list[str]:
    return list(__all__)
