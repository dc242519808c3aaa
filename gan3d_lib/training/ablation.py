"""Leave-one-out ablation of a recipe's components (issue 35).

Every arm starts from one common point (a trained generator and its discriminator), trains for the
same steps with the same seed and differs from the reference arm in one setting: the component it
goes without. Each arm is judged by the same measures on the same held-out Monte Carlo: the
per-bin generator goals met, FPD, and the high- and low-level classifier AUCs
(:func:`evaluate_generator`). The plan is data (``recipes/ablation/*.toml``,
:func:`read_plan`);
each arm's folder keeps its ``config.json``, ``history.json``, ``command.txt`` and
``evaluation.json`` as the record, its weights are dropped once judged.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..core.results import machine_info, package_versions
from ..physics import observables as obs
from ..physics.shower_facts import GENERATOR_GOALS, facts_by_energy_bin, goal_rows
from .checkpoints import atomic_json
from .train_config import TrainConfig, read_recipe

__all__ = ["AblationPlan", "EvaluationSettings", "read_plan", "evaluation_sample", "evaluate_generator",
           "evaluate_at_latent_seeds", "run_arm", "ablation_records"]

EVALUATION_FILE = "evaluation.json"


@dataclass(frozen=True)
class EvaluationSettings:
    """How every arm is judged: ``n_per_bin`` Monte Carlo showers uniform within each energy bin of
    chapter 5 (simulator seed ``mc_seed``), the generator's for the same energies (latent seed
    ``latent_seed``), classifiers seeded ``classifier_seed`` with ``n_bootstrap`` resamples."""

    n_per_bin: int = 250
    mc_seed: int = 91
    latent_seed: int = 92
    classifier_seed: int = 93
    n_bootstrap: int = 20


@dataclass(frozen=True)
class AblationPlan:
    """The reference arm's settings (``reference``: a full TrainConfig dict) and, per arm, what it
    goes without (``what``) and the settings in which it differs."""

    source: str
    reference: dict[str, Any]
    arms: dict[str, dict[str, Any]]
    what: dict[str, str]
    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)

    def config(self, arm: str) -> TrainConfig:
        return TrainConfig(**{**self.reference, **self.arms[arm]})


def read_plan(path: str | os.PathLike) -> AblationPlan:
    """An ablation plan (TOML): ``recipe`` (a recipe file, relative to the plan), ``[reference]``
    (settings that every arm changes from the recipe), ``[evaluation]`` (:class:`EvaluationSettings`)
    and ``[arms.NAME]`` tables (``what`` it goes without, and its settings). ValueError naming the
    file for an unknown key or an arm that TrainConfig refuses."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not TOML: {e}") from None
    unknown = sorted(set(doc) - {"recipe", "reference", "evaluation", "arms"})
    if unknown or "recipe" not in doc or not doc.get("arms"):
        raise ValueError(f"{path}: expected keys recipe, reference, evaluation, arms (got unknown {unknown})")
    reference = {**read_recipe(path.parent / doc["recipe"]), **doc.get("reference", {})}
    try:
        evaluation = EvaluationSettings(**doc.get("evaluation", {}))
    except TypeError as e:
        raise ValueError(f"{path}: [evaluation]: {e}") from None
    arms, what = {}, {}
    for name, table in doc["arms"].items():
        table = dict(table)
        if "what" not in table:
            raise ValueError(f"{path}: [arms.{name}] needs 'what' (the component it goes without)")
        what[name] = table.pop("what")
        arms[name] = table
    plan = AblationPlan(str(path), reference, arms, what, evaluation)
    for name in arms:
        try:
            plan.config(name)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: [arms.{name}]: {e}") from None
    return plan


def evaluation_sample(settings: EvaluationSettings) -> tuple[np.ndarray, np.ndarray]:
    """Held-out Monte Carlo (N, 25, 25, 25) GeV and its energies (N,) GeV: ``n_per_bin`` showers
    uniform within each of chapter 5's energy bins, from the current tuning."""
    from ..data.mc import ShowerSimulator

    edges = obs.DEFAULT_ENERGY_BINS_GEV
    rng = np.random.default_rng(settings.mc_seed)
    energies = np.concatenate([rng.uniform(lo, hi, settings.n_per_bin) for lo, hi in zip(edges[:-1], edges[1:])])
    sim = ShowerSimulator()
    showers = np.concatenate([sim.simulate_block(energies[i:i + 128], np.random.default_rng(settings.mc_seed + i))
                              for i in range(0, len(energies), 128)])
    return showers.astype(np.float32), energies.astype(np.float32)


def evaluate_generator(generator: Any, mc_showers: np.ndarray, mc_energies_gev: np.ndarray,
                       settings: EvaluationSettings) -> dict[str, Any]:
    """The generator against the Monte Carlo sample: goals met (of GENERATOR_GOALS per bin), FPD and
    the classifier AUCs over all energies, each with its bootstrap error."""
    from ..validation import compare, prepare

    gan, goals = _goals(generator, mc_showers, mc_energies_gev, settings.latent_seed)
    row = compare(prepare(gan, mc_energies_gev), prepare(mc_showers, mc_energies_gev), seed=settings.classifier_seed,
                  bins_gev=(2.0, 500.0), n_bootstrap=settings.n_bootstrap)["bins"]["all"]
    keys = ("auc_high", "auc_high_err", "auc_low", "auc_low_err", "fpd", "fpd_err")
    return {"goals_met": sum(r["met"] for r in goals), "goals_total": len(goals), "goals": goals,
            **{k: row[k] for k in keys}}


def _goals(generator: Any, mc_showers: np.ndarray, mc_energies_gev: np.ndarray, latent_seed: int):
    """The generator's showers for the Monte Carlo's energies (latent ``latent_seed``) and its goal rows."""
    from ..models.inference import generate_showers

    gan = generate_showers(generator, mc_energies_gev, seed=latent_seed)
    return gan, goal_rows(facts_by_energy_bin(gan, mc_energies_gev), facts_by_energy_bin(mc_showers, mc_energies_gev),
                          GENERATOR_GOALS)


def evaluate_at_latent_seeds(generator: Any, mc_showers: np.ndarray, mc_energies_gev: np.ndarray,
                             settings: EvaluationSettings, latent_seeds: tuple[int, ...]) -> dict[str, Any]:
    """:func:`evaluate_generator` at ``settings.latent_seed``, and the goals met (of 16) and the goals
    missed at each of ``latent_seeds``: whether the goals hold beyond one latent draw."""
    out = evaluate_generator(generator, mc_showers, mc_energies_gev, settings)
    by_seed = {}
    for seed in latent_seeds:
        goals = out["goals"] if seed == settings.latent_seed else _goals(generator, mc_showers, mc_energies_gev, seed)[1]
        by_seed[str(seed)] = {"met": sum(r["met"] for r in goals),
                              "missed": [f"{r['key']} {r['fact']}" for r in goals if not r["met"]]}
    return {**out, "goals_by_latent_seed": by_seed}


def run_arm(plan: AblationPlan, arm: str, train_path: str | os.PathLike, validation_path: str | os.PathLike,
            out_dir: str | os.PathLike, mc_sample: Callable[[], tuple[np.ndarray, np.ndarray]], *,
            progress: bool = True, command: str = "") -> dict[str, Any]:
    """Train arm ``arm`` in ``out_dir/arm`` (resuming), judge it, write its ``evaluation.json`` and drop
    its weights; an arm already judged is read back, not rerun. Returns the evaluation."""
    from .training import load_generator, train

    folder = Path(out_dir) / arm
    done = folder / EVALUATION_FILE
    if done.exists():
        return json.loads(done.read_text())
    config = plan.config(arm)
    train(config, train_path, validation_path, folder, progress=progress)
    evaluation = evaluate_generator(load_generator(folder), *mc_sample(), plan.evaluation)
    (folder / "command.txt").write_text(command + "\n")
    atomic_json(done, {"arm": arm, "what": plan.what[arm], "changed": plan.arms[arm], "plan": plan.source,
                       "evaluation_settings": asdict(plan.evaluation), **evaluation,
                       "machine": machine_info(), "versions": package_versions()})
    shutil.rmtree(folder / "checkpoints", ignore_errors=True)
    (folder / "generator.weights.h5").unlink(missing_ok=True)
    return json.loads(done.read_text())


def ablation_records(out_dir: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """{arm: its evaluation.json} of every judged arm under ``out_dir``, in the plan's order where the
    records name one plan, else by name."""
    records = {p.parent.name: json.loads(p.read_text()) for p in sorted(Path(out_dir).glob(f"*/{EVALUATION_FILE}"))}
    plans = {r["plan"] for r in records.values()}
    if len(plans) == 1 and Path(next(iter(plans))).exists():
        order = list(read_plan(next(iter(plans))).arms)
        records = dict(sorted(records.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
    return records
