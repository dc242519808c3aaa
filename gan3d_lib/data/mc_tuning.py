"""Fit of the Monte Carlo's free constants (:class:`~gan3d_lib.data.mc.ShowerTuning`) to the
Geant4 shower facts (:data:`~gan3d_lib.data.reference.GEANT4_SHOWER_FACTS`).

Two groups of parameters, each fitted to the facts it drives, by least squares on residuals
normalised by the tolerance the book holds the Monte Carlo to (:data:`TOLERANCES`):

* **shape** (:data:`SHAPE_PARAMETERS` -> :data:`SHAPE_FACTS`): radial radii and core
  probability, the first-layer excess and the last-layer factor, fitted on the *expected*
  showers (per-shower Gamma parameters drawn, no spot or sampling fluctuations), which makes
  the objective smooth; the small bias of expected against simulated showers is measured
  with the full simulation after each round and folded into the targets of the next.
* **response** (:data:`RESPONSE_PARAMETERS` -> :data:`RESPONSE_FACTS`): visible-energy scale,
  energy per silicon crossing, its fluctuation and the depth-fluctuation scale, fitted on fully
  simulated showers with common random numbers (Nelder-Mead, since the Poisson draws make it
  step-wise).

That first fit keeps GFlash's energy dependence of the depth spread; :func:`fit_depth_spread`
then refits only the spread's scale and its own power of the energy (:data:`DEPTH_SPREAD_PARAMETERS`)
against the response facts, every other constant held at the first fit's (:data:`FIRST_FIT`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from scipy.optimize import least_squares, minimize

from .mc import ShowerSimulator, ShowerTuning
from .reference import GEANT4_SHOWER_FACTS
from ..physics.shower_facts import facts_at_energies, goal_rows

__all__ = ["START", "FIRST_FIT", "TUNINGS", "named_tuning", "TOLERANCES", "SHAPE_PARAMETERS", "SHAPE_FACTS",
           "RESPONSE_PARAMETERS", "RESPONSE_FACTS", "DEPTH_SPREAD_PARAMETERS", "TuningFit", "mc_facts", "normalised_residuals",
           "residual_table", "fit_tuning", "fit_depth_spread", "parameter_table"]

#: fact -> (kind, tolerance): 'relative' (|MC / Geant4 - 1| <= tol) or 'absolute'
#: (|MC - Geant4| <= tol); the goals of issue 14 for the Monte Carlo against Geant4.
TOLERANCES: dict[str, tuple[str, float]] = {
    "sf_mean_pct": ("relative", 0.02), "sf_rms_over_mean": ("relative", 0.20),
    "x_width_cells": ("relative", 0.03), "y_width_cells": ("relative", 0.03),
    "core_3x3": ("absolute", 0.01), "core_5x5": ("absolute", 0.01),
    "layer0_pct": ("relative", 0.30), "last_layer_pct": ("relative", 0.30), "hits": ("relative", 0.10),
}
SHAPE_PARAMETERS = ("core_radius_scale", "tail_radius_scale", "core_probability_scale",
                    "first_layer_gev", "first_layer_power", "last_layer_factor")
SHAPE_FACTS = ("x_width_cells", "y_width_cells", "core_3x3", "core_5x5", "layer0_pct", "last_layer_pct")
RESPONSE_PARAMETERS = ("e_over_mip", "crossing_energy_mip", "crossing_gamma_shape", "depth_spread_scale")
RESPONSE_FACTS = ("sf_mean_pct", "hits", "sf_rms_over_mean")
#: The start of the fit: GFlash's parametrisation as published (all scales 1, no first-layer
#: excess, no last-layer factor) with the earlier hand calibration of SF, depth and hits.
START = ShowerTuning(e_over_mip=0.85, depth_shift_x0=0.45, crossing_energy_mip=1.15, crossing_gamma_shape=1.5,
                     depth_spread_scale=1.0, depth_spread_power=0.0, core_radius_scale=1.0, tail_radius_scale=1.0,
                     core_probability_scale=1.0, first_layer_gev=0.0, first_layer_power=1.0, last_layer_factor=1.0)
#: The first fit (GFlash's energy dependence of the depth spread, ``depth_spread_power`` 0): the
#: Monte Carlo that stages 4-12 of ``make weights`` trained on (``gan3d simulate --tuning first-fit``).
FIRST_FIT = ShowerTuning(e_over_mip=0.854669, depth_shift_x0=0.45, crossing_energy_mip=1.7057,
                         crossing_gamma_shape=1.16031, depth_spread_scale=0.988919, depth_spread_power=0.0,
                         core_radius_scale=0.690499, tail_radius_scale=1.12559, core_probability_scale=0.863211,
                         first_layer_gev=0.0099505, first_layer_power=0.364529, last_layer_factor=0.540008)
#: ``gan3d simulate --tuning`` name -> tuning: the current fit (the defaults), the first fit, the fit's start
TUNINGS = {"fitted": ShowerTuning(), "first-fit": FIRST_FIT, "start": START}


def named_tuning(name: str) -> ShowerTuning:
    """:data:`TUNINGS` entry ``name``; an unknown name is a ValueError listing the known ones."""
    if name not in TUNINGS:
        raise ValueError(f"unknown Monte Carlo tuning {name!r}: expected one of {', '.join(TUNINGS)}")
    return TUNINGS[name]

_SHAPE_BOUNDS = {"core_radius_scale": (0.3, 3.0), "tail_radius_scale": (0.3, 3.0), "core_probability_scale": (0.3, 1.5),
                 "first_layer_gev": (0.0, 0.5), "first_layer_power": (0.0, 1.5), "last_layer_factor": (0.1, 1.5)}


@dataclass
class TuningFit:
    """Result of :func:`fit_tuning`: the fitted tuning, the start, the residual table of the
    final full simulation and one record per round."""

    tuning: ShowerTuning
    start: ShowerTuning
    table: list[dict]
    rounds: list[dict] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"tuning": asdict(self.tuning), "start": asdict(self.start), "table": self.table,
                "rounds": self.rounds, "settings": self.settings}


def mc_facts(tuning: ShowerTuning, energies_gev: Sequence[float], *, n_per_energy: int, seed: int,
             expected: bool = False) -> dict[float, dict]:
    """{E (GeV): :func:`~gan3d_lib.physics.shower_facts.shower_facts`} of the Monte Carlo with ``tuning``
    at fixed primary energies; energy point i uses seed ``seed + i``. ``expected=True`` uses
    the expected showers (Gamma parameters drawn, no spot or sampling fluctuations; SF, its
    spread and hits are then meaningless)."""
    sim = ShowerSimulator(tuning=tuning)

    def expected_showers(energies: np.ndarray, seed_i: int) -> np.ndarray:
        e = np.asarray(energies, dtype=np.float64)
        t_max, alpha = sim.profile_parameters(e, np.random.default_rng(seed_i))
        return sim.expected_cell_fractions(e, t_max, alpha) * e[:, None, None, None]

    def simulated_showers(energies: np.ndarray, seed_i: int) -> np.ndarray:
        e = float(energies[0])
        return sim.simulate(len(energies), seed=seed_i, energy_range_gev=(e, e))[0]

    return facts_at_energies(expected_showers if expected else simulated_showers, energies_gev,
                             n_per_energy=n_per_energy, seed=seed)


def _residual(kind_tol: tuple[str, float], value: float, target: float) -> float:
    kind, tol = kind_tol
    if kind == "absolute":
        return (value - target) / tol
    if kind == "relative" and tol >= 0.25:  # wide relative goals: log ratio, symmetric in up/down
        return float(np.log(max(value, 1e-12) / target) / np.log1p(tol))
    return (value / target - 1.0) / tol


def normalised_residuals(facts: Mapping[float, Mapping[str, float]], targets: Mapping[float, Mapping[str, float]],
                         keys: Sequence[str]) -> np.ndarray:
    """(n_energies * n_keys,) residuals in units of :data:`TOLERANCES` (|r| <= 1 meets the goal)."""
    return np.array([_residual(TOLERANCES[k], facts[e][k], targets[e][k]) for e in targets for k in keys])


def residual_table(facts: Mapping[float, Mapping[str, float]],
                   reference: Mapping[float, Mapping[str, float]] = GEANT4_SHOWER_FACTS) -> list[dict]:
    """One row per (energy, fact of :data:`TOLERANCES`): Monte Carlo, Geant4, the deviation
    (relative or absolute, as the goal is stated), the goal and whether it is met."""
    return [{"energy_gev": r["key"], "fact": r["fact"], "monte_carlo": r["sample"], "geant4": r["reference"],
             "deviation": r["deviation"], "kind": r["kind"], "goal": r["goal"], "met": r["met"]}
            for r in goal_rows(facts, reference, TOLERANCES)]


def _with(tuning: ShowerTuning, names: Sequence[str], values: Sequence[float]) -> ShowerTuning:
    return replace(tuning, **{k: float(v) for k, v in zip(names, values)})


def fit_tuning(
    start: ShowerTuning | None = None,
    *,
    reference: Mapping[float, Mapping[str, float]] = GEANT4_SHOWER_FACTS,
    n_expected: int = 200,
    n_simulated: int = 150,
    n_check: int = 400,
    rounds: int = 2,
    max_response_evals: int = 60,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> TuningFit:
    """Fit :data:`SHAPE_PARAMETERS` and :data:`RESPONSE_PARAMETERS` of ``start`` (default:
    :data:`START`) to ``reference`` ({E GeV: facts}); ``rounds`` alternations of the two fits,
    then a check with ``n_check`` fully simulated showers per energy (seed ``seed + 1000``)."""
    start = start or START
    energies = list(reference)
    say = progress or (lambda msg: None)
    tuning, records = start, []
    shape_targets = {e: dict(reference[e]) for e in energies}
    for r in range(rounds):
        def shape_res(x, base=tuning):
            f = mc_facts(_with(base, SHAPE_PARAMETERS, x), energies, n_per_energy=n_expected, seed=seed, expected=True)
            return normalised_residuals(f, shape_targets, SHAPE_FACTS)

        x0 = np.array([getattr(tuning, k) for k in SHAPE_PARAMETERS])
        lo, hi = np.array([_SHAPE_BOUNDS[k] for k in SHAPE_PARAMETERS]).T
        sol = least_squares(shape_res, np.clip(x0, lo, hi), bounds=(lo, hi), diff_step=1e-3, max_nfev=60)
        tuning = _with(tuning, SHAPE_PARAMETERS, sol.x)
        say(f"round {r + 1}: shape fit cost {sol.cost:.3g} after {sol.nfev} evaluations")

        def response_cost(logx, base=tuning):
            f = mc_facts(_with(base, RESPONSE_PARAMETERS, np.exp(logx)), energies, n_per_energy=n_simulated, seed=seed)
            return float(np.sum(normalised_residuals(f, reference, RESPONSE_FACTS) ** 2))

        x0 = np.log([getattr(tuning, k) for k in RESPONSE_PARAMETERS])
        simplex = x0 + np.vstack([np.zeros(len(x0)), 0.1 * np.eye(len(x0))])
        opt = minimize(response_cost, x0, method="Nelder-Mead",
                       options={"maxfev": max_response_evals, "initial_simplex": simplex})
        tuning = _with(tuning, RESPONSE_PARAMETERS, np.exp(opt.x))
        say(f"round {r + 1}: response fit cost {opt.fun:.3g} after {opt.nfev} evaluations")

        # Fold the expected-vs-simulated bias of the shape facts into the next round's targets.
        simulated = mc_facts(tuning, energies, n_per_energy=n_simulated, seed=seed)
        expected = mc_facts(tuning, energies, n_per_energy=n_expected, seed=seed, expected=True)
        for e in energies:
            for k in SHAPE_FACTS:
                if simulated[e][k] > 0:
                    shape_targets[e][k] = reference[e][k] * expected[e][k] / simulated[e][k]
        records.append({"round": r + 1, "shape_cost": float(sol.cost), "shape_evaluations": int(sol.nfev),
                        "response_cost": float(opt.fun), "response_evaluations": int(opt.nfev),
                        "tuning": asdict(tuning)})
    return _checked_fit(tuning, start, reference, records,
                        {"n_expected": n_expected, "n_simulated": n_simulated, "n_check": n_check, "rounds": rounds,
                         "max_response_evals": max_response_evals, "seed": seed})


def _checked_fit(tuning: ShowerTuning, start: ShowerTuning, reference: Mapping[float, Mapping[str, float]],
                 records: list[dict], settings: dict) -> TuningFit:
    """The fit's result with its residual table on ``settings['n_check']`` fully simulated showers
    per energy (seed ``settings['seed'] + 1000``); the energies and tolerances join ``settings``."""
    energies = list(reference)
    check = mc_facts(tuning, energies, n_per_energy=settings["n_check"], seed=settings["seed"] + 1000)
    settings = {**settings, "energies_gev": energies, "tolerances": {k: list(v) for k, v in TOLERANCES.items()}}
    return TuningFit(tuning=tuning, start=start, table=residual_table(check, reference), rounds=records, settings=settings)


#: what :func:`fit_depth_spread` varies: the depth spread's scale at 100 GeV and its energy power
DEPTH_SPREAD_PARAMETERS = ("depth_spread_scale", "depth_spread_power")


def fit_depth_spread(
    start: ShowerTuning = FIRST_FIT,
    *,
    reference: Mapping[float, Mapping[str, float]] = GEANT4_SHOWER_FACTS,
    n_simulated: int = 400,
    n_check: int = 400,
    max_evals: int = 40,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> TuningFit:
    """Refit only :data:`DEPTH_SPREAD_PARAMETERS` of ``start`` (default: the first fit) against
    :data:`RESPONSE_FACTS` on fully simulated showers with common random numbers (Nelder-Mead on
    ln scale and power), then check with ``n_check`` showers per energy (seed ``seed + 1000``).
    Every other constant, the shape ones included, stays ``start``'s."""
    energies = list(reference)
    say = progress or (lambda msg: None)

    def tuning_at(u):
        return replace(start, depth_spread_scale=float(np.exp(u[0])), depth_spread_power=float(u[1]))

    def cost(u):
        f = mc_facts(tuning_at(u), energies, n_per_energy=n_simulated, seed=seed)
        return float(np.sum(normalised_residuals(f, reference, RESPONSE_FACTS) ** 2))

    x0 = np.array([np.log(start.depth_spread_scale), start.depth_spread_power])
    opt = minimize(cost, x0, method="Nelder-Mead",
                   options={"maxfev": max_evals, "initial_simplex": x0 + np.array([[0, 0], [0.1, 0], [0, 0.1]])})
    tuning = tuning_at(opt.x)
    say(f"depth-spread fit cost {opt.fun:.3g} after {opt.nfev} evaluations")
    records = [{"round": 1, "response_cost": float(opt.fun), "response_evaluations": int(opt.nfev), "tuning": asdict(tuning)}]
    return _checked_fit(tuning, start, reference, records,
                        {"fitted": list(DEPTH_SPREAD_PARAMETERS), "n_simulated": n_simulated, "n_check": n_check,
                         "max_evals": max_evals, "seed": seed})


def parameter_table(first: Mapping, refit: Mapping) -> list[dict]:
    """Rows (parameter, group, start, first_fit, fitted, now) from the records of :func:`fit_tuning`
    (``data/mc_tuning_first_fit.json``) and :func:`fit_depth_spread` (``data/mc_tuning.json``):
    'now' is :class:`ShowerTuning`'s default, which must be the refitted value rounded
    (tests/data/test_mc_tuning.py checks it)."""
    now = asdict(ShowerTuning())
    groups = {**{k: "shape" for k in SHAPE_PARAMETERS}, **{k: "response" for k in RESPONSE_PARAMETERS},
              **{k: "response (refit)" for k in DEPTH_SPREAD_PARAMETERS}}
    return [{"parameter": k, "group": groups[k], "start": first["start"][k], "first_fit": first["tuning"][k],
             "fitted": refit["tuning"][k], "now": now[k]}
            for k in (*SHAPE_PARAMETERS, *RESPONSE_PARAMETERS, "depth_spread_power")]
