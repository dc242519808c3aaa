"""The ablation plan (recipes/ablation/*.toml) and its records (data/ablation)."""

import json
import re
import tomllib
from pathlib import Path

import pytest

from gan3d_lib.training.ablation import ablation_records, read_plan
from gan3d_lib.training.train_config import config_from_record, read_recipe

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "recipes" / "ablation" / "leave_one_out.toml"
RECORDS = ROOT / "data" / "ablation"
#: the recipe's components and the setting that takes each away
COMPONENT_OFF = {"cell_power": 1.0, "latent_norm": "normal", "generator_as_deployed": False, "small_cell_head": False,
                 "energy_scale_head": False, "depth_fluctuation_head": False}


def test_every_component_of_the_recipe_has_one_arm_without_it():
    plan = read_plan(PLAN)
    reference = plan.config("reference")
    components = {k for k, v in vars(reference).items() if k.startswith("weight_") and v > 0}
    components |= {k for k, off in COMPONENT_OFF.items() if getattr(reference, k) != off}
    taken_away = {}
    for arm, changed in plan.arms.items():
        if arm.startswith("reference"):
            assert set(changed) <= {"seed"}, arm
            continue
        assert len(changed) == 1, (arm, changed)
        (key, value), = changed.items()
        assert value == (0.0 if key.startswith("weight_") else COMPONENT_OFF[key]), arm
        taken_away[key] = arm
    assert set(taken_away) == components


def test_every_arm_starts_from_the_same_point_with_the_same_budget():
    plan = read_plan(PLAN)
    shared = ("init_generator", "init_discriminator", "epochs", "max_steps_per_epoch", "batch_size", "lr_generator")
    assert len({tuple(getattr(plan.config(arm), k) for k in shared) for arm in plan.arms}) == 1
    assert (ROOT / plan.reference["init_generator"] / "generator.weights.h5").exists()


@pytest.mark.parametrize("text,message", [
    ("recipe = 'x.toml'\n", "expected keys"),
    ("recipe = '../conv2d_lite_stage14.toml'\nextra = 1\n[arms.a]\nwhat = 'x'\n", "unknown \\['extra'\\]"),
    ("recipe = '../conv2d_lite_stage14.toml'\n[arms.a]\nweight_bce = 0.0\n", "\\[arms.a\\] needs 'what'"),
    ("recipe = '../conv2d_lite_stage14.toml'\n[arms.a]\nwhat = 'x'\nweight_bce = -1.0\n", "\\[arms.a\\]: loss weights"),
    ("recipe = '../conv2d_lite_stage14.toml'\n[evaluation]\nn = 3\n[arms.a]\nwhat = 'x'\n", "\\[evaluation\\]"),
])
def test_a_bad_plan_is_refused_naming_the_file(tmp_path, text, message):
    (tmp_path / "recipes" / "ablation").mkdir(parents=True)
    (tmp_path / "recipes" / "conv2d_lite_stage14.toml").write_text((ROOT / "recipes" / "conv2d_lite_stage14.toml").read_text())
    plan = tmp_path / "recipes" / "ablation" / "bad.toml"
    plan.write_text(text)
    with pytest.raises(ValueError, match=f"bad.toml.*{message}"):
        read_plan(plan)


def test_each_recorded_arm_ran_the_plan_and_was_judged_alike():
    plan, records = read_plan(PLAN), ablation_records(RECORDS)
    assert list(records) == list(plan.arms)
    settings = {json.dumps(r["evaluation_settings"], sort_keys=True) for r in records.values()}
    assert len(settings) == 1
    for arm, record in records.items():
        assert record["changed"] == plan.arms[arm] and record["what"] == plan.what[arm]
        config_path = RECORDS / arm / "config.json"
        assert config_from_record(json.loads(config_path.read_text()), config_path) == config_from_record(
            vars(plan.config(arm)), PLAN)
        assert record["goals_total"] == 16 and 0 <= record["goals_met"] <= 16
        assert f"--arms {arm}" in (RECORDS / arm / "command.txt").read_text()


def test_the_reference_arm_is_the_recipe_with_the_plans_reference_changes():
    changes = tomllib.loads(PLAN.read_text())["reference"]
    assert read_plan(PLAN).reference == {**read_recipe(ROOT / "recipes" / "conv2d_lite_stage14.toml"), **changes}


def test_a_generator_is_judged_at_each_latent_seed_and_fully_at_the_settings_one():
    from gan3d_lib.training.ablation import EvaluationSettings, evaluate_at_latent_seeds, evaluation_sample
    from gan3d_lib.training.training import load_generator

    settings = EvaluationSettings(n_per_bin=40, n_bootstrap=2)
    mc, energies = evaluation_sample(settings)
    judged = evaluate_at_latent_seeds(load_generator(ROOT / "data" / "weights" / "conv2d_lite_stage14"), mc, energies,
                                      settings, (92, 93))
    by_seed = judged["goals_by_latent_seed"]
    assert list(by_seed) == ["92", "93"] and by_seed["92"]["met"] == judged["goals_met"]
    for goals in by_seed.values():
        assert goals["met"] + len(goals["missed"]) == 16
        assert all(re.fullmatch(r"\d+-\d+ GeV \w+", m) for m in goals["missed"])
    assert 0.5 <= judged["auc_high"] <= 1.0 and judged["fpd"] > 0
