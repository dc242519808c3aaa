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
