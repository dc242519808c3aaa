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


def test_train_passes_every_loss_weight_flag_to_its_config(tmp_path, monkeypatch):
    from gan3d_lib.cli import parser as cli
    from gan3d_lib.training import training

    seen = {}
    monkeypatch.setattr(training, "train", lambda config, *a, **k: seen.setdefault("config", config) and [])
    flags = [f"--weight-{term}" for term, _ in cli._BIN_TERMS]
    argv = ["train", "--data", "x.h5", "--validation", "y.h5", "--out", str(tmp_path), "--select-epoch", "last",
            "--weight-feature-critic", "6", "--small-cell-head", "--energy-scale-head", "--depth-fluctuation-head",
            "--train-only-heads", "energy_scale_head", "small_cell_head", "depth_fluctuation_head", "--ring-count", "18"]
    for i, flag in enumerate(flags):
        argv += [flag, str(i + 1.5)]
    assert cli.main(argv) == 0
    config = seen["config"]
    assert [getattr(config, f[2:].replace("-", "_")) for f in flags] == [i + 1.5 for i in range(len(flags))]
    assert config.select_epoch == "last" and config.weight_feature_critic == 6.0
    assert config.energy_scale_head and config.depth_fluctuation_head
    assert config.train_only_heads == ["energy_scale_head", "small_cell_head", "depth_fluctuation_head"]
    assert config.ring_count == 18


def test_simulate_with_a_named_tuning(tmp_path):
    from gan3d_lib.data.mc import ShowerSimulator
    from gan3d_lib.data.mc_tuning import FIRST_FIT

    out = tmp_path / "first_fit.h5"
    assert main(["simulate", "--n", "16", "--seed", "5", "--tuning", "first-fit", "--out", str(out), "--quiet"]) == 0
    showers, energies = read_showers(out)
    expected, expected_e = ShowerSimulator(tuning=FIRST_FIT).simulate(16, seed=5)
    assert np.array_equal(showers, expected) and np.allclose(energies, expected_e)
