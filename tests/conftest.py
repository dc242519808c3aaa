"""Shared fixtures: hermetic caches, a small seeded Monte Carlo sample."""

from __future__ import annotations

import os
from pathlib import Path

from gan3d_lib.book.runner import hermetic_environment

ROOT = Path(__file__).resolve().parents[1]
hermetic_environment(ROOT)  # matplotlib, IPython and Jupyter caches under .cache/, before they load
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib  # noqa: E402
import pytest  # noqa: E402

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def mc_sample():
    """200 Monte Carlo showers, E uniform in 2-500 GeV, seed 3: (showers, energies)."""
    from gan3d_lib.data.mc import simulate_showers

    return simulate_showers(200, seed=3)
