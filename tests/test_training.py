"""Training: a killed run resumes to the same step count; checkpoints are never half-written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from gan3d_lib.datasets import simulate_to_files
from gan3d_lib.training import TrainConfig, latest_checkpoint, load_generator, train

pytestmark = pytest.mark.slow

STEPS, EPOCHS, BATCH = 6, 3, 16


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    train_path = simulate_to_files(root / "train.h5", 128, seed=21, progress=False)[0]
    val_path = simulate_to_files(root / "val.h5", 64, seed=22, progress=False)[0]
    return train_path, val_path


def _cmd(data, out):
    return [sys.executable, "-m", "gan3d_lib.cli", "train", "--model", "conv2d", "--size", "0.125",
            "--epochs", str(EPOCHS), "--batch-size", str(BATCH), "--max-steps-per-epoch", str(STEPS),
            "--n-validation", "64", "--data", str(data[0]), "--validation", str(data[1]), "--out", str(out), "--quiet"]


def _checkpoints_complete(out):
    for d in (out / "checkpoints").iterdir():
        assert not d.name.startswith("."), f"temporary checkpoint left behind: {d}"
        assert {p.name for p in d.iterdir()} == {"variables.npz", "state.json"}, d


def test_killed_run_resumes_to_the_same_step_count(data, tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_cmd(data, killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while latest_checkpoint(killed) is None and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # mid-epoch 2: epoch 1's checkpoint has just been written
    proc.wait(timeout=60)
    state = json.loads((latest_checkpoint(killed) / "state.json").read_text())
    assert state["epoch"] < EPOCHS
    _checkpoints_complete(killed)

    subprocess.run(_cmd(data, killed), env=env, check=True, timeout=600, capture_output=True)
    whole = tmp_path / "whole"
    subprocess.run(_cmd(data, whole), env=env, check=True, timeout=600, capture_output=True)
    _checkpoints_complete(killed)
    h_killed = json.loads((killed / "history.json").read_text())["history"]
    h_whole = json.loads((whole / "history.json").read_text())["history"]
    assert [r["step"] for r in h_killed] == [r["step"] for r in h_whole] == [STEPS * (e + 1) for e in range(EPOCHS)]
    # stateless per-step randomness: the resumed run repeats the uninterrupted one
    for a, b in zip(h_killed, h_whole):
        assert a["d_loss"] == pytest.approx(b["d_loss"], rel=1e-3)
        assert a["g_loss"] == pytest.approx(b["g_loss"], rel=1e-3)


def test_train_in_process_writes_history_and_best_generator(data, tmp_path):
    config = TrainConfig(model="conv3d", size=0.125, epochs=1, batch_size=BATCH, max_steps_per_epoch=2, n_validation=32)
    history = train(config, data[0], data[1], tmp_path, progress=False)
    assert len(history) == 1 and history[0]["step"] == 2
    assert np.isfinite(history[0]["g_loss"]) and history[0]["val_shower_shape_mse"] >= 0
    gen = load_generator(tmp_path)
    assert gen.count_params() > 0
    with pytest.raises(ValueError, match="different config"):
        train(TrainConfig(model="conv3d", size=0.125, epochs=2, batch_size=BATCH, max_steps_per_epoch=2,
                          n_validation=32, seed=5), data[0], data[1], tmp_path, progress=False)


def test_learning_rates_decay_exponentially_from_the_start_epoch():
    cfg = TrainConfig(lr_generator=1e-3, lr_discriminator=2e-3, lr_decay=0.1, lr_decay_start_epoch=3)
    assert cfg.learning_rates(0) == cfg.learning_rates(3) == (1e-3, 2e-3)
    g, d = cfg.learning_rates(5)
    assert g == pytest.approx(1e-3 * np.exp(-0.2)) and d == pytest.approx(2e-3 * np.exp(-0.2))
    with pytest.raises(ValueError, match="lr_decay"):
        TrainConfig(lr_decay=-1.0)


def test_fine_tuning_starts_from_the_given_generator_and_scores_every_energy_bin(data, tmp_path):
    first = TrainConfig(model="conv2d", size=0.125, epochs=1, batch_size=BATCH, max_steps_per_epoch=2, n_validation=64)
    train(first, data[0], data[1], tmp_path / "a", progress=False)
    start = load_generator(tmp_path / "a")
    second = TrainConfig(model="conv2d", size=0.125, epochs=1, batch_size=BATCH, max_steps_per_epoch=1, n_validation=64,
                         init_generator=str(tmp_path / "a"), lr_generator=0.0, lr_discriminator=0.0)
    record = train(second, data[0], data[1], tmp_path / "b", progress=False)[0]
    tuned = load_generator(tmp_path / "b")
    for w0, w1 in zip(start.trainable_weights, tuned.trainable_weights):  # lr 0: BatchNorm statistics may move
        np.testing.assert_allclose(w0.numpy(), w1.numpy(), rtol=1e-6, atol=1e-7)
    bins = {k.removeprefix("val_shower_shape_mse ") for k in record if k.startswith("val_shower_shape_mse ")}
    assert {"20-100 GeV", "100-250 GeV", "250-500 GeV"} <= bins <= {"2-20 GeV", "20-100 GeV", "100-250 GeV", "250-500 GeV"}
    assert np.isfinite(record["val_score"]) and record["val_score"] > 0
