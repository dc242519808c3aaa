import hashlib

import numpy as np
import pytest
from scipy.integrate import dblquad

from gan3d_lib.physics import observables as obs
from gan3d_lib.data.datasets import shard_plan, simulate_to_files
from gan3d_lib.data.io import read_showers
from gan3d_lib.data.mc import BLOCK_SIZE, ShowerSimulator, _corner_integral, cell_fractions, simulate_showers
from gan3d_lib.data.reference import GEANT4_REFERENCE, compare_to_geant4


def test_corner_integral_matches_numerical_integration():
    r = 4.0
    density = lambda y, x: r**2 / (np.pi * (x * x + y * y + r * r) ** 2)  # noqa: E731
    numeric = dblquad(density, 1.0, 3.0, lambda x: -2.0, lambda x: 5.0)[0]
    closed = (_corner_integral(3.0, 5.0, r) - _corner_integral(1.0, 5.0, r)
              - _corner_integral(3.0, -2.0, r) + _corner_integral(1.0, -2.0, r))
    assert closed == pytest.approx(numeric, rel=1e-7)


def test_cell_fractions_sum_to_containment():
    edges = np.linspace(-1e5, 1e5, 11)
    assert cell_fractions(np.array(3.0), edges, edges).sum() == pytest.approx(1.0, abs=1e-4)
    small = np.linspace(-5.0, 5.0, 11)
    # fraction of f(r) = 2rR^2/(r^2+R^2)^2 inside radius a is a^2/(a^2+R^2): square lies between circles
    inside = cell_fractions(np.array(5.0), small, small).sum()
    assert 25 / 50 < inside < 50 / 75


def test_same_seed_gives_identical_bytes():
    a, ea = simulate_showers(40, seed=11)
    b, eb = simulate_showers(40, seed=11)
    assert a.tobytes() == b.tobytes() and ea.tobytes() == eb.tobytes()
    c, _ = simulate_showers(40, seed=12)
    assert a.tobytes() != c.tobytes()


def test_same_seed_gives_identical_files(tmp_path):
    digests = []
    for name in ("a.h5", "b.h5"):
        path = simulate_to_files(tmp_path / name, 30, seed=5, progress=False)[0]
        digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_prefix_and_shards_reproduce_a_single_run(tmp_path):
    full, e_full = simulate_showers(2 * BLOCK_SIZE + 10, seed=2)
    head, _ = simulate_showers(7, seed=2)
    assert head.tobytes() == full[:7].tobytes()
    paths = simulate_to_files(tmp_path / "s.h5", 2 * BLOCK_SIZE + 10, seed=2, shard_size=BLOCK_SIZE, progress=False)
    assert [p.name for p in paths] == ["s_000.h5", "s_001.h5", "s_002.h5"]
    joined, e_joined = read_showers(str(tmp_path / "s_*.h5"))
    assert joined.tobytes() == full.tobytes() and e_joined.tobytes() == e_full.tobytes()


def test_shard_plan_covers_every_shower_once():
    plan = shard_plan(1000, 300)
    assert sum(n for _, n in plan) == 1000
    assert [b for b, _ in plan] == [0, 3, 6]


def test_showers_are_physical(mc_sample):
    showers, energies = mc_sample
    assert showers.shape == (200, 25, 25, 25) and showers.dtype == np.float32
    assert (showers >= 0).all() and np.isfinite(showers).all()
    assert ((showers == 0) | (showers >= 1e-6)).all()  # read-out threshold
    assert energies.min() >= 2.0 and energies.max() <= 500.0
    sf = obs.sampling_fraction(showers, energies)
    assert 0.02 < sf.mean() < 0.035


def test_fixed_energy_and_bad_arguments():
    _, e = simulate_showers(5, seed=1, energy_range_gev=(50.0, 50.0))
    assert (e == 50.0).all()
    for kwargs in ({"energy_range_gev": (0.0, 10.0)}, {"energy_range_gev": (10.0, 5.0)}, {"seed": -1}):
        with pytest.raises(ValueError):
            simulate_showers(5, **{"seed": 1, **kwargs})


def test_monte_carlo_reproduces_geant4_table():
    """Sampling fraction within 10 % and peak layer within +-1 at every reference energy."""
    rows = compare_to_geant4(ShowerSimulator(), n_per_energy=300, seed=1)["rows"]
    assert [r["energy_gev"] for r in rows] == [p.energy_gev for p in GEANT4_REFERENCE]
    for r in rows:
        assert abs(r["sampling_fraction_rel_diff"]) < 0.10, r
        assert abs(r["peak_layer_diff"]) <= 1, r
    # hits are not a stated requirement; guard against a gross regression of the occupancy
    for r in rows:
        assert abs(r["cells_hit_rel_diff"]) < 0.35, r


def test_log_uniform_spectrum_is_flat_in_log_energy_and_seeded():
    from gan3d_lib.data.mc import ShowerSimulator

    sim = ShowerSimulator()
    a, e = sim.simulate(512, seed=8, spectrum="log-uniform")
    b, e2 = sim.simulate(512, seed=8, spectrum="log-uniform")
    assert a.tobytes() == b.tobytes() and e.tobytes() == e2.tobytes()
    assert e.min() >= 2.0 and e.max() <= 500.0
    # as many showers below sqrt(2 * 500) = 31.6 GeV as above it, within 4 sigma
    assert abs(int((e < np.sqrt(1000.0)).sum()) - 256) < 4 * np.sqrt(128)
    with pytest.raises(ValueError, match="spectrum"):
        sim.simulate(4, seed=1, spectrum="gaussian")


def test_depth_spread_power_scales_the_spread_about_100_gev():
    """The per-shower spread of ln T_max runs as (E / 100 GeV)^depth_spread_power: unchanged at
    100 GeV, 4^power times larger at 400 GeV than with GFlash's energy dependence."""
    from dataclasses import replace

    def spread_of_ln_t_max(tuning, energy_gev):
        t_max, _ = ShowerSimulator(tuning=tuning).profile_parameters(np.full(20000, energy_gev), np.random.default_rng(3))
        return np.log(t_max).std()

    gflash = replace(ShowerSimulator().tuning, depth_spread_power=0.0)
    powered = replace(gflash, depth_spread_power=0.2)
    assert spread_of_ln_t_max(powered, 100.0) == pytest.approx(spread_of_ln_t_max(gflash, 100.0), rel=1e-9)
    assert spread_of_ln_t_max(powered, 400.0) / spread_of_ln_t_max(gflash, 400.0) == pytest.approx(4.0**0.2, rel=0.02)
