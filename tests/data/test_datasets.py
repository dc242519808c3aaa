import numpy as np
import pytest

from gan3d_lib.data.datasets import ensure_mc_dataset
from gan3d_lib.data.io import read_showers
from gan3d_lib.data.mc import simulate_showers
from gan3d_lib.data.reference import geant4_cpu_s_per_shower


def test_ensure_mc_dataset_reuses_only_an_identical_file(tmp_path):
    path = ensure_mc_dataset(tmp_path / "d.h5", 20, seed=1, progress=False)
    stamp = path.stat().st_mtime_ns
    assert ensure_mc_dataset(path, 20, seed=1, progress=False).stat().st_mtime_ns == stamp
    ensure_mc_dataset(path, 20, seed=2, progress=False)
    showers, _ = read_showers(path)
    assert showers.tobytes() == simulate_showers(20, seed=2)[0].tobytes()
    path.write_text("corrupt")
    ensure_mc_dataset(path, 20, seed=2, progress=False)
    assert read_showers(path)[0].shape == (20, 25, 25, 25)


def test_geant4_cpu_time_interpolation():
    assert geant4_cpu_s_per_shower(np.array([10.0, 500.0])) == pytest.approx([0.07, 2.91])
    assert geant4_cpu_s_per_shower(75.0) == pytest.approx((0.35 + 0.67) / 2)
