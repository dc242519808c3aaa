"""The recipes (recipes/*.toml): each is the committed run's settings, and `make weights` (the from-scratch recipe) and
`make weights-stage14` (the shipped lineage) run them."""

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gan3d_lib.training.train_config import RETIRED_SETTINGS, config_from_record, read_recipe

ROOT = Path(__file__).resolve().parents[2]
RUNS = sorted(p.parent for p in (ROOT / "data" / "weights").glob("conv2d_*/config.json"))


def _recorded(run: Path) -> dict:
    path = run / "config.json"
    return config_from_record(json.loads(path.read_text()), path)


def test_every_shipped_run_has_a_recipe_and_every_recipe_a_run():
    assert RUNS and sorted(p.stem for p in (ROOT / "recipes").glob("*.toml")) == [run.name for run in RUNS]


@pytest.mark.parametrize("run", RUNS, ids=lambda p: p.name)
def test_a_recipe_holds_the_settings_its_committed_run_recorded(run):
    recipe = ROOT / "recipes" / f"{run.name}.toml"
    assert config_from_record(read_recipe(recipe), recipe) == _recorded(run)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make to print the Makefile's commands")
def test_make_weights_runs_each_recipe_from_the_stage_before_it():
    """`make -n` prints the commands of every stage; parsed by the real CLI with WEIGHTS_ROOT=data/weights,
    each gives exactly its committed run's settings (starting points included)."""
    from gan3d_lib.cli.commands import train_config
    from gan3d_lib.cli.parser import build_parser

    targets = ["weights", "weights-stage14", "weights-paper"]
    printed = subprocess.run(["make", "-n", "-B", "WEIGHTS_ROOT=data/weights", *targets], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.replace("\\\n", " ")
    commands = [shlex.split(line)[1:] for line in printed.splitlines() if "gan3d train" in line]
    ran = {}
    for argv in commands:
        args = build_parser().parse_args(argv)
        ran[Path(args.out).name] = config_from_record(vars(train_config(args)), args.out)
    assert ran == {run.name: _recorded(run) for run in RUNS}


def test_a_record_with_a_retired_setting_switched_on_is_refused_and_at_its_neutral_value_loads():
    neutral = config_from_record({"epochs": 3, **RETIRED_SETTINGS}, "old/config.json")
    assert neutral["epochs"] == 3 and not set(RETIRED_SETTINGS) & set(neutral)
    with pytest.raises(ValueError, match=r"old/config.json: uses retired settings \{'weight_ranked_cells': 10.0\}"):
        config_from_record({"weight_ranked_cells": 10.0}, "old/config.json")
    with pytest.raises(ValueError, match="old/config.json: unknown training settings \\['weight_typo'\\]"):
        config_from_record({"weight_typo": 1.0}, "old/config.json")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make to run the Makefile's stage")
def test_make_weights_runs_the_recipes_first_stage(tmp_path):
    """`make weights-recipe1` (the first stage of `make weights`) on a clean checkout, at a tiny width for two
    steps: the recipe's settings, the flags' overrides."""
    from gan3d_lib.data.datasets import ensure_mc_dataset

    train = ensure_mc_dataset(tmp_path / "train.h5", 64, seed=1, progress=False)
    val = ensure_mc_dataset(tmp_path / "val.h5", 32, seed=2, progress=False)
    flags = "--size 0.125 --epochs 1 --batch-size 16 --max-steps-per-epoch 2 --n-validation 32 --quiet"
    subprocess.run(["make", "-o", "setup", "-o", str(train), "-o", str(val), "weights-recipe1",
                    f"WEIGHTS_ROOT={tmp_path}", f"TRAIN_FITTED_MC={train}", f"VAL_FITTED_MC={val}", f"TRAIN_FLAGS={flags}",
                    f"BIN={Path(sys.executable).parent}"], cwd=ROOT, check=True, timeout=900)
    run = tmp_path / "conv2d_lite_recipe1"
    ran = _recorded(run)
    expected = {**_recorded(ROOT / "data" / "weights" / "conv2d_lite_recipe1"), "size": 0.125, "epochs": 1,
                "batch_size": 16, "max_steps_per_epoch": 2, "n_validation": 32}
    assert ran == expected
    assert len(json.loads((run / "history.json").read_text())["history"]) == 1 and (run / "generator.weights.h5").exists()
