import json

import numpy as np

from gan3d_lib.cli.parser import main
from gan3d_lib.data.io import read_showers


def test_simulate_then_inspect(tmp_path, capsys):
    out = tmp_path / "mc" / "train.h5"
    assert main(["simulate", "--n", "20", "--energy", "2", "500", "--seed", "1", "--out", str(out), "--quiet"]) == 0
    showers, energies = read_showers(out)
    assert showers.shape == (20, 25, 25, 25)
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_showers"] == 20 and 0.02 < summary["sampling_fraction_mean"] < 0.035


def test_sharded_simulation(tmp_path):
    assert main(["simulate", "--n", "300", "--seed", "4", "--out", str(tmp_path / "s.h5"),
                 "--shard-size", "128", "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s_000.h5", "s_001.h5", "s_002.h5"]


def test_bad_file_gives_one_line_error_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.h5"
    bad.write_text("nope")
    assert main(["inspect", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.h5" in err and "not a readable HDF5 file" in err


def test_quantize_writes_an_artefact_and_tunes_only_int8(tmp_path, capsys):
    import pytest

    pytest.importorskip("onnxruntime")
    out = tmp_path / "onnx"
    assert main(["quantize", "--size", "0.125", "--backend", "onnx-fp32", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["backend"] == "onnx-fp32" and summary["bytes"] > 0 and (out / "manifest.json").exists()
    assert main(["quantize", "--size", "0.125", "--backend", "onnx-int8", "--energy-buckets", "2,50,500",
                 "--n-calibration", "16", "--out", str(tmp_path / "o8")]) == 0
    capsys.readouterr()
    settings = json.loads((tmp_path / "o8" / "manifest.json").read_text())["settings"]
    assert settings["energy_buckets"] == [2.0, 50.0, 500.0] and (tmp_path / "o8" / "model.e1.onnx").exists()
    assert main(["quantize", "--size", "0.125", "--backend", "onnx-fp32", "--tune", "--out", str(tmp_path / "t")]) == 2
    assert "INT8 backend" in capsys.readouterr().err
    assert main(["quantize", "--size", "0.125", "--backend", "openvino-int8", "--tune", "--gate-n", "200",
                 "--n-calibration", "16", "--max-trials", "3", "--quiet", "--out", str(tmp_path / "ov8")]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines() if line.startswith("{")]
    # the budget is checked before each probe; a probe that passes the quick screen adds its full gate
    assert lines[0]["trials"] in (3, 4) and lines[0]["budget_hit"] == "3 trials"
    assert isinstance(lines[1]["gate_passed"], bool) and lines[2]["runtime_precision"] == "f32"
    assert json.loads((tmp_path / "ov8" / "manifest.json").read_text())["int8_search"]["search"]["trials"]
    # the artefact just written benchmarks through the command line, records and all
    assert main(["bench", "--artefacts", str(out), "--batch", "1,2", "--seconds", "0.1", "--quiet",
                 "--out", str(tmp_path / "bench.json")]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "showers/s" in line]
    assert len(lines) == 2 and "batch    2" in lines[1]
    records = json.loads((tmp_path / "bench.json").read_text())["numbers"]["records"]
    assert [r["batch_size"] for r in records] == [1, 2] and all(r["showers_per_s"] > 0 for r in records)
    assert main(["bench", "--artefacts", str(tmp_path), "--batch", "1"]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def _train_args(argv):
    from gan3d_lib.cli.parser import build_parser

    return build_parser().parse_args(["train", "--data", "x.h5", "--validation", "y.h5", "--out", "out", *argv])


def test_every_training_setting_is_a_flag_whose_default_is_the_dataclass_one():
    import dataclasses

    from gan3d_lib.cli.commands import train_config
    from gan3d_lib.training.train_config import TrainConfig, config_defaults

    assert dataclasses.asdict(train_config(_train_args([]))) == config_defaults()
    changed = {"size": 0.5, "epochs": 3, "lr_generator": 2e-3, "weight_rings": 7.5, "ring_count": 18,
               "select_epoch": "last", "small_cell_head": True, "energy_scale_head": True,
               "train_only_heads": ["energy_scale_head", "small_cell_head"], "latent_norm": "sphere",
               "init_generator": "a/b", "max_steps_per_epoch": 9}
    argv = []
    for key, value in changed.items():
        flag = "--" + key.replace("_", "-")
        argv += [flag] if value is True else [flag, *value] if isinstance(value, list) else [flag, str(value)]
    config = dataclasses.asdict(train_config(_train_args(argv)))
    assert {k: config[k] for k in changed} == changed
    assert {k: v for k, v in config.items() if k not in changed} == {
        k: v for k, v in config_defaults().items() if k not in changed}
    assert {f.name for f in dataclasses.fields(TrainConfig)} <= set(vars(_train_args(argv))) | set(config_defaults())


def test_a_recipe_sets_every_setting_and_a_flag_overrides_it(tmp_path, capsys):
    from gan3d_lib.cli.commands import train_config
    from gan3d_lib.cli.parser import main

    recipe = tmp_path / "stage.toml"
    recipe.write_text('epochs = 4\nweight_hits = 60.0\nsmall_cell_head = true\nlatent_norm = "sphere"\n')
    config = train_config(_train_args(["--config", str(recipe), "--epochs", "2", "--no-small-cell-head"]))
    assert (config.epochs, config.weight_hits, config.small_cell_head, config.latent_norm) == (2, 60.0, False, "sphere")
    recipe.write_text("weight_feature_critic = 6.0\n")
    argv = ["train", "--config", str(recipe), "--data", "x.h5", "--validation", "y.h5", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert f"{recipe}: unknown training settings ['weight_feature_critic']" in capsys.readouterr().err
    recipe.write_text('latent_norm = "cube"\n')
    assert main(argv) == 2 and "latent_norm must be one of sphere, normal, got 'cube'" in capsys.readouterr().err


def test_simulate_with_a_named_tuning(tmp_path):
    from gan3d_lib.data.mc import ShowerSimulator
    from gan3d_lib.data.mc_tuning import FIRST_FIT

    out = tmp_path / "first_fit.h5"
    assert main(["simulate", "--n", "16", "--seed", "5", "--tuning", "first-fit", "--out", str(out), "--quiet"]) == 0
    showers, energies = read_showers(out)
    expected, expected_e = ShowerSimulator(tuning=FIRST_FIT).simulate(16, seed=5)
    assert np.array_equal(showers, expected) and np.allclose(energies, expected_e)
