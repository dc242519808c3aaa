"""Training: a killed run resumes to the same step count; checkpoints are never half-written."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from gan3d_lib.data.datasets import simulate_to_files
from gan3d_lib.physics import observables as obs
from gan3d_lib.data.io import read_showers
from gan3d_lib.models.models import DEPTH_SHIFT_INIT_LN, DEPTH_STRETCH_INIT_LN
from gan3d_lib.physics.geometry import HITS_THRESHOLD_GEV
from gan3d_lib.models.inference import generate_showers
from gan3d_lib.training.training import TrainConfig, build_training, latest_checkpoint, load_generator, train, training_stages

pytestmark = pytest.mark.slow

STEPS, EPOCHS, BATCH = 6, 3, 16


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    train_path = simulate_to_files(root / "train.h5", 128, seed=21, progress=False)[0]
    val_path = simulate_to_files(root / "val.h5", 64, seed=22, progress=False)[0]
    return train_path, val_path


def _cmd(data, out):
    return [sys.executable, "-m", "gan3d_lib.cli.parser", "train", "--model", "conv2d", "--size", "0.125",
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
    with pytest.raises(TypeError, match="hits_softness"):  # retired (config_from_record reads old records)
        TrainConfig(hits_softness=0.3)
    with pytest.raises(ValueError, match="ring_count"):
        TrainConfig(ring_count=1)


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


def test_a_small_cell_head_stage_starts_from_a_generator_without_one(data, tmp_path):
    first = TrainConfig(model="conv2d", size=0.125, epochs=1, batch_size=BATCH, max_steps_per_epoch=1, n_validation=32)
    train(first, data[0], data[1], tmp_path / "a", progress=False)
    second = TrainConfig(model="conv2d", size=0.125, epochs=1, batch_size=BATCH, max_steps_per_epoch=1, n_validation=32,
                         init_generator=str(tmp_path / "a"), small_cell_head=True, lr_generator=0.0,
                         lr_discriminator=0.0, generator_as_deployed=True)
    train(second, data[0], data[1], tmp_path / "b", progress=False)
    start, headed = load_generator(tmp_path / "a"), load_generator(tmp_path / "b")
    assert headed.get_layer("small_cells_ln_mev") is not None
    energies = np.array([10.0, 200.0])
    added_gev = generate_showers(headed, energies, seed=1) - generate_showers(start, energies, seed=1)
    np.testing.assert_allclose(added_gev, np.exp(-10.0) * 1e-3, rtol=1e-3, atol=1e-9)


def test_head_stages_train_only_their_head(data, tmp_path):
    first = TrainConfig(model="conv2d", size=0.125, epochs=1, batch_size=BATCH, max_steps_per_epoch=1, n_validation=32)
    train(first, data[0], data[1], tmp_path / "a", progress=False)
    second = TrainConfig(model="conv2d", size=0.125, epochs=1, batch_size=BATCH, max_steps_per_epoch=3, n_validation=32,
                         init_generator=str(tmp_path / "a"), energy_scale_head=True, train_only_heads=["energy_scale_head"],
                         lr_generator=0.05, generator_as_deployed=True, weight_sf_spread=10.0)
    train(second, data[0], data[1], tmp_path / "b", progress=False)
    start, scaled = load_generator(tmp_path / "a"), load_generator(tmp_path / "b")
    head = scaled.get_layer("energy_scale")
    assert np.abs(head.kernel.numpy()).max() > 0.01  # the head learned
    rest = [v.numpy() for layer in scaled.layers if layer is not head for v in layer.weights]
    np.testing.assert_array_equal(np.concatenate([r.ravel() for r in rest]),
                                  np.concatenate([v.numpy().ravel() for v in start.weights]))
    with pytest.raises(ValueError, match="does not have"):
        TrainConfig(model="conv2d", size=0.125, train_only_heads=["energy_scale_head"])
    # then a depth-fluctuation head (stage 14's recipe: the depth-spread term, the per-shower depth term off)
    third = dataclasses.replace(second, init_generator=str(tmp_path / "b"), depth_fluctuation_head=True,
                                train_only_heads=["depth_fluctuation_head"], weight_depth=0.0, weight_depth_spread=10.0)
    train(third, data[0], data[1], tmp_path / "c", progress=False)
    fluctuating = load_generator(tmp_path / "c")
    head = fluctuating.get_layer("depth_fluctuation")
    start_kernel = [DEPTH_SHIFT_INIT_LN, 0.0, DEPTH_STRETCH_INIT_LN, 0.0]
    assert np.abs(head.kernel.numpy() - start_kernel).max() > 0.01  # the head learned
    rest = [v.numpy() for layer in fluctuating.layers if layer is not head for v in layer.weights]
    np.testing.assert_array_equal(np.concatenate([r.ravel() for r in rest]),
                                  np.concatenate([v.numpy().ravel() for v in scaled.weights]))


def _depth_error(gen, energies, coeffs, real):
    centre = obs.moments(obs.longitudinal_profile(generate_showers(gen, energies, seed=5)))[0]
    return float(np.nanmean(np.abs(centre - np.polyval(coeffs, np.log(energies / 100.0)))))


def _profile_error(gen, energies, coeffs, real):
    fake = generate_showers(gen, energies, seed=5)
    return float(np.mean((obs.mean_shower_shapes(fake)[2] - obs.mean_shower_shapes(real)[2]) ** 2))


def _transverse_error(gen, energies, coeffs, real):
    fake = generate_showers(gen, energies, seed=5)
    return float(np.mean([(obs.mean_shower_shapes(fake)[i] - obs.mean_shower_shapes(real)[i]) ** 2 for i in (0, 1)]))


def _moments_error(gen, energies, coeffs, real):
    from gan3d_lib.physics.shower_facts import shower_facts

    fake, real_facts = shower_facts(generate_showers(gen, energies, seed=5), energies), shower_facts(real, energies)
    keys = ("x_width_cells", "y_width_cells", "layer0_pct")  # what the term compares
    return float(sum(np.log((fake[k] + 1e-3) / (real_facts[k] + 1e-3)) ** 2 for k in keys))


def _hits_error(gen, energies, coeffs, real):
    fake = generate_showers(gen, energies, seed=5)
    return abs(float((fake > HITS_THRESHOLD_GEV).sum() / (real > HITS_THRESHOLD_GEV).sum()) - 1.0)


_TERMS = {"depth": ("weight_depth", "g_depth_layers", _depth_error),
          "profile": ("weight_profile", "g_profile_mse", _profile_error),
          "hits": ("weight_hits", "g_hits_rel_sq", _hits_error),
          "transverse": ("weight_transverse", "g_transverse_mse", _transverse_error),
          "moments": ("weight_moments", "g_moments_logsq", _moments_error)}


@pytest.mark.parametrize("term", list(_TERMS))
def test_physics_terms_move_the_deployed_generator_toward_their_targets(data, term):
    showers, energies = read_showers(data[0])
    sf = obs.fit_sampling_fraction(showers, energies)
    target = np.array([4.0])  # depth: every barycentre in layer 4, far from what a fresh G paints
    weight_name, loss_name, error = _TERMS[term]
    weights = {weight_name: 5.0 if term == "moments" else 1.0}  # the moments term is a mean of squared logs
    config = TrainConfig(model="conv2d", size=0.125, batch_size=BATCH, lr_generator=3e-3, lr_discriminator=0.0,
                         weight_bce=0.0, weight_aux=0.0, weight_ecal=0.0, generator_as_deployed=True, **weights)
    gen, _, _, _, step = build_training(config, sf, target)
    real, e_real = showers[:BATCH], energies[:BATCH]
    before = error(gen, e_real, target, real)
    for i in range(25):
        losses = step(real, e_real, np.int64(i))
    after = error(gen, e_real, target, real)
    assert np.isfinite(float(losses[loss_name]))
    assert after < 0.5 * before, (before, after)  # measured as deployed, like the loss
    if term == "depth":
        with pytest.raises(ValueError, match="depth_coeffs"):
            build_training(config, sf)


def test_discriminator_starts_from_a_checkpoint_of_the_same_model(data, tmp_path):
    config = TrainConfig(model="conv2d", size=0.125, epochs=1, batch_size=BATCH, max_steps_per_epoch=1, n_validation=32)
    train(config, data[0], data[1], tmp_path / "a", progress=False)
    ckpt = latest_checkpoint(tmp_path / "a")
    second = TrainConfig(model="conv2d", size=0.125, epochs=1, batch_size=BATCH, max_steps_per_epoch=1, n_validation=32,
                         lr_generator=0.0, lr_discriminator=0.0, init_discriminator=str(ckpt))
    train(second, data[0], data[1], tmp_path / "b", progress=False)
    with np.load(ckpt / "variables.npz") as a, np.load(latest_checkpoint(tmp_path / "b") / "variables.npz") as b:
        d_keys = [k for k in a.files if k.startswith("d_") and k[2:].isdigit()]  # not d_opt_*
        assert d_keys
        for k in d_keys:  # lr 0: D's weights are the checkpoint's (BatchNorm statistics may move)
            if a[k].ndim > 1:
                np.testing.assert_allclose(a[k], b[k], rtol=1e-6)
    # a checkpoint without its run's config.json cannot be widened: its shapes must match
    orphan = tmp_path / "orphan" / "checkpoints" / ckpt.name
    shutil.copytree(ckpt, orphan)
    wrong = TrainConfig(model="conv2d", size=0.25, epochs=1, batch_size=BATCH, max_steps_per_epoch=1, n_validation=32,
                        init_discriminator=str(orphan))
    with pytest.raises(ValueError, match="another model or size"):
        train(wrong, data[0], data[1], tmp_path / "c", progress=False)


def test_a_run_from_before_a_setting_existed_resumes_with_its_default(data, tmp_path):
    config = TrainConfig(model="conv2d", size=0.125, epochs=1, batch_size=BATCH, max_steps_per_epoch=1, n_validation=32)
    train(config, data[0], data[1], tmp_path, progress=False)
    old = json.loads((tmp_path / "config.json").read_text())
    for added in ("weight_depth", "weight_profile", "generator_as_deployed", "init_discriminator"):
        del old[added]
    (tmp_path / "config.json").write_text(json.dumps(old))
    config.epochs = 2
    assert [r["epoch"] for r in train(config, data[0], data[1], tmp_path, progress=False)] == [1, 2]
    config.weight_depth = 0.5
    with pytest.raises(ValueError, match="different config"):
        train(config, data[0], data[1], tmp_path, progress=False)


def test_training_stages_follow_init_generator_back_to_the_first_run(tmp_path):
    for name, init in (("a", None), ("b", "a"), ("c", "b")):
        (tmp_path / name).mkdir()
        cfg = {"model": "conv2d", "init_generator": None if init is None else str(tmp_path / init)}
        (tmp_path / name / "config.json").write_text(json.dumps(cfg))
    assert training_stages(tmp_path / "c") == [str(tmp_path / n) for n in "abc"]
    (tmp_path / "a" / "config.json").write_text(json.dumps({"init_generator": str(tmp_path / "c")}))
    with pytest.raises(ValueError, match="cycle"):
        training_stages(tmp_path / "c")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        training_stages(tmp_path / "missing")


def test_streamed_and_in_memory_training_give_the_same_first_epoch(data, tmp_path):
    cfg = TrainConfig(model="conv2d", size=0.125, epochs=1, batch_size=BATCH, max_steps_per_epoch=4, n_validation=64,
                      chunk_showers=16, shuffle_buffer_chunks=3)  # 8 chunks > 3: the grouped, streamable order
    streamed = train(cfg, data[0], data[1], tmp_path / "streamed", progress=False, max_in_memory_gb=0.0)
    in_memory = train(cfg, data[0], data[1], tmp_path / "memory", progress=False)
    for key in ("d_loss", "g_loss", "val_score"):
        assert streamed[0][key] == in_memory[0][key], key


def test_the_streamed_order_keeps_at_most_two_groups_and_visits_every_shower(data):
    from gan3d_lib.data.shower_stream import TrainingShowers, epoch_order

    order = epoch_order(128, 1, 0, chunk_showers=16, buffer_chunks=3)
    assert sorted(order) == list(range(128))
    first_group = order[:48] // 16  # the chunk of each of the first 48 showers: one group of 3 whole chunks
    assert len(set(first_group)) == 3 and all((first_group == c).sum() == 16 for c in set(first_group))
    assert list(epoch_order(128, 1, 0, chunk_showers=16, buffer_chunks=8)) == list(np.random.default_rng([1, 0]).permutation(128))
    ds = TrainingShowers(data[0], chunk_showers=16, buffer_chunks=3, max_in_memory_gb=0.0)
    mem = TrainingShowers(data[0], chunk_showers=16, buffer_chunks=3)
    assert not ds.in_memory and mem.in_memory
    for (a, ea), (b, eb) in zip(ds.batches(16, 8, seed=1, epoch=0), mem.batches(16, 8, seed=1, epoch=0)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ea, eb)
        assert len(ds._cache) <= 6  # noqa: SLF001 - at most two groups of 3 chunks


def test_select_epoch_last_keeps_the_last_epochs_generator(data, tmp_path):
    config = TrainConfig(model="conv2d", size=0.125, epochs=3, batch_size=BATCH, max_steps_per_epoch=1, n_validation=32,
                         weight_rings=1.0, weight_cell_spectrum=1.0, select_epoch="last")
    history = train(config, data[0], data[1], tmp_path, progress=False)
    assert {"g_rings_logsq", "g_cell_spectrum_logsq"} <= set(history[0])  # the terms ran in the compiled step
    assert json.loads((tmp_path / "history.json").read_text())["best"]["epoch"] == 3
    kept = load_generator(tmp_path)
    with np.load(latest_checkpoint(tmp_path) / "variables.npz") as z:
        np.testing.assert_array_equal(kept.variables[0].numpy(), z["g_0"])
    with pytest.raises(ValueError, match="select_epoch"):
        TrainConfig(select_epoch="first")


