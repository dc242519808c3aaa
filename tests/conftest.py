"""Shared fixtures: hermetic caches, a small seeded Monte Carlo sample."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
_cache = ROOT / ".cache"
for _var, _sub in (("MPLCONFIGDIR", "matplotlib"), ("IPYTHONDIR", "ipython"),
                   ("JUPYTER_CONFIG_DIR", "jupyter/config"), ("JUPYTER_DATA_DIR", "jupyter/data"),
                   ("JUPYTER_RUNTIME_DIR", "jupyter/runtime")):
    os.environ.setdefault(_var, str(_cache / _sub))
    Path(os.environ[_var]).mkdir(parents=True, exist_ok=True)
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def mc_sample():
    """200 Monte Carlo showers, E uniform in 2-500 GeV, seed 3: (showers, energies)."""
    from gan3d_lib.mc import simulate_showers

    return simulate_showers(200, seed=3)
