"""Training the 3DGAN game: compiled custom loop, physics validation, atomic resumable checkpoints.

Losses (the study's Conv2D training, F. Rehm): the discriminator minimises
``w_bce * BCE(real/fake) + w_aux * MAPE(E_p/100)``; the generator minimises
``w_bce * BCE(fake -> real) + w_aux * MAPE(E_p/100) + w_ecal * MAPE(E_cal)``, where the
E_cal target of a generated shower is ``E_p * SF(E_p)`` from a polynomial fit of the
training data's sampling fraction. An optional term of our own (``weight_depth``, 0 in the
study) adds ``w_depth * |z_c - z_c(E_p)|``: the generated shower's longitudinal barycentre
against a fit, in ln(E_p), of the training data's (layer-index units), the same kind of
physics constraint for the depth of the shower as MAPE(E_cal) is for its energy, and
``weight_profile`` the squared difference of the mean longitudinal shapes of the fake and
the real showers of each primary-energy bin of the batch. BCE uses
smoothed labels (real 0.9, fake 0.1) with 5 % of the discriminator's labels flipped. Adam,
learning rates 5e-4 (G) and 1e-4 (D).

Every random draw of step ``s`` is a stateless function of ``(seed, s)`` and each epoch's
shuffle of ``(seed, epoch)``, so a run resumed from a checkpoint repeats exactly what
the uninterrupted run would have done (up to TensorFlow's own op determinism).

Under ``tf.distribute`` (``strategy`` 'mirrored': the GPUs of one machine, or its CPU;
'multi-worker': the machines named in ``TF_CONFIG``) the global batch is split into equal
slices, one per replica; each replica draws the global batch's latent vectors and label
flips and keeps its slice, and its losses are scaled by 1/replicas so the summed gradients
are those of the global mean. Dropout masks and BatchNorm statistics are per replica, so a
distributed run agrees with a single-process run statistically, not bit for bit. Only the
chief writes; every worker resumes from the chief's checkpoints, so ``out_dir`` must be on
a file system all workers share.

Output folder::

    config.json              the TrainConfig
    history.json             one record per finished epoch (losses, validation metric)
    generator.weights.h5     generator of the best validation epoch
    checkpoints/epoch_NNNN/  variables.npz (networks, optimizers, dropout RNG states), state.json
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from . import observables as obs
from .atomic import atomic_dir, atomic_file
from .io import read_showers
from .shower_stream import TrainingShowers

__all__ = ["TrainConfig", "train", "build_training", "load_generator", "latest_checkpoint", "generate_showers",
           "training_stages",
           "make_strategy", "STRATEGIES"]

_CKPT_PREFIX = "epoch_"
STRATEGIES = ("default", "mirrored", "multi-worker")


@dataclass
class TrainConfig:
    """Settings of one training run (all written to ``config.json``)."""

    model: str = "conv2d"
    size: str = "lite"
    epochs: int = 30
    batch_size: int = 128
    lr_generator: float = 5e-4
    lr_discriminator: float = 1e-4
    weight_bce: float = 6.0
    weight_aux: float = 0.2
    weight_ecal: float = 0.1
    weight_depth: float = 0.0  # per layer of barycentre error; not in the study
    label_real: float = 0.9
    label_fake: float = 0.1
    label_flip: float = 0.05
    seed: int = 1
    precision: str = "float32"  # or "mixed_bfloat16"
    n_validation: int = 512
    sf_fit_degree: int = 3
    depth_fit_degree: int = 2
    keep_checkpoints: int = 2
    max_steps_per_epoch: int | None = None  # for quick runs; None = full epochs
    # Learning rates times exp(-lr_decay * (epoch - lr_decay_start_epoch)) from that epoch on
    # (the study: 0.012 per epoch after epoch 80 of a longer run).
    lr_decay: float = 0.0
    lr_decay_start_epoch: int = 0
    # Start the generator from these weights (a training folder or .weights.h5 of the same
    # model and size) instead of a random initialisation: fine-tuning in a second stage.
    init_generator: str | None = None
    # Start the discriminator from a checkpoint folder (checkpoints/epoch_NNNN) of a run of
    # the same model and size, so that a fine-tuning stage does not begin against a blind one.
    init_discriminator: str | None = None
    weight_profile: float = 0.0  # per %^2 of mean longitudinal-shape error; not in the study
    # The discriminator sees cell energies to this power (1 = the study: linear in E):
    # E_cell^0.5 lifts the 0.1-3 MeV cells, invisible beside GeV cells in linear units,
    # into the range the discriminator resolves. The generator still outputs GeV.
    cell_power: float = 1.0
    # Per-energy-bin term of our own, fake vs real showers of the same bin: squared relative
    # error of the mean (soft) number of hits above HITS_THRESHOLD_GEV; 0 = not in the loss.
    weight_hits: float = 0.0
    # Run the generator as it is deployed (BatchNorm with its moving statistics, no dropout)
    # in both updates, so that the discriminator and the losses judge exactly the showers
    # users get: training-mode dropout and batch statistics shift the inference-mode output.
    # For a fine-tuning stage (the moving statistics are no longer updated).
    generator_as_deployed: bool = False
    # tf.distribute strategy (see make_strategy); a run may resume under another one.
    strategy: str = "default"
    # Training order (gan3d_lib.shower_stream): showers in chunks, shuffled within groups of
    # chunks; a set of at most chunk_showers * shuffle_buffer_chunks showers is one plain
    # permutation per epoch. Whether the cells sit in memory or are streamed does not change it.
    chunk_showers: int = 1024
    shuffle_buffer_chunks: int = 20
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.precision not in ("float32", "mixed_bfloat16"):
            raise ValueError(f"precision must be 'float32' or 'mixed_bfloat16', got {self.precision!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be >= 1")
        if min(self.weight_depth, self.weight_profile, self.weight_hits) < 0:
            raise ValueError("weight_depth, weight_profile and weight_hits must be >= 0, got "
                             f"{self.weight_depth}, {self.weight_profile}, {self.weight_hits}")
        if not 0 < self.cell_power <= 1:
            raise ValueError(f"cell_power must be in (0, 1], got {self.cell_power}")
        if self.lr_decay < 0:
            raise ValueError(f"lr_decay must be >= 0, got {self.lr_decay}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")

    def learning_rates(self, epoch: int) -> tuple[float, float]:
        """(generator, discriminator) Adam learning rates during 0-based ``epoch``."""
        factor = float(np.exp(-self.lr_decay * max(0, epoch - self.lr_decay_start_epoch)))
        return self.lr_generator * factor, self.lr_discriminator * factor


def _atomic_json(path: Path, doc: Any) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=2))


def _defaults() -> dict[str, Any]:
    return {f.name: f.default for f in fields(TrainConfig) if f.default is not MISSING}


def latest_checkpoint(out_dir: str | os.PathLike) -> Path | None:
    """The newest complete checkpoint folder under ``out_dir/checkpoints`` (None if none)."""
    root = Path(out_dir) / "checkpoints"
    done = sorted(p for p in root.glob(f"{_CKPT_PREFIX}*") if (p / "state.json").exists()) if root.exists() else []
    return done[-1] if done else None


def make_strategy(name: str):
    """None for 'default' (no tf.distribute), a ``MirroredStrategy`` over the local GPUs (or,
    without GPUs, the logical CPU devices: one unless configured) for 'mirrored', a
    ``MultiWorkerMirroredStrategy`` over the cluster in the ``TF_CONFIG`` environment variable
    for 'multi-worker' (create it before any other TensorFlow work in the process)."""
    import tensorflow as tf

    if name == "default":
        return None
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "multi-worker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError("strategy 'multi-worker' needs the TF_CONFIG environment variable "
                             '({"cluster": {"worker": [...]}, "task": {"type": "worker", "index": i}})')
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"strategy must be one of {STRATEGIES}, got {name!r}")


def _per_replica(strategy, showers: np.ndarray, energies: np.ndarray):
    """The global batch as tensors, or split into equal per-replica slices (by global replica id)."""
    import tensorflow as tf

    if strategy is None:
        return tf.constant(showers), tf.constant(energies)
    n = len(energies) // strategy.num_replicas_in_sync

    def part(array):
        return strategy.experimental_distribute_values_from_function(
            lambda ctx: tf.constant(array[ctx.replica_id_in_sync_group * n:(ctx.replica_id_in_sync_group + 1) * n]))

    return part(showers), part(energies)


def _check_same_on_all_workers(strategy, value: int, what: str) -> None:
    """Raise on every worker unless all replicas hold the same ``value``."""
    import tensorflow as tf

    if strategy is None or strategy.num_replicas_in_sync == 1:
        return
    v = strategy.experimental_distribute_values_from_function(lambda ctx: tf.constant([value, value * value], tf.float64))
    mean, mean_sq = strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None).numpy()
    if mean != value or mean_sq != value * value:
        raise ValueError(f"workers disagree on {what} (this worker: {value}, mean {mean:g}); "
                         "the output folder must be on a file system shared by all workers")


def _set_precision(precision: str):
    import keras

    keras.mixed_precision.set_global_policy(precision)


def _build(config: TrainConfig):
    import keras

    from .models import build_discriminator, build_generator

    _set_precision(config.precision)
    try:
        gen = build_generator(config.model, size=config.size, seed=config.seed)
        disc = build_discriminator(config.model, size=config.size, seed=config.seed + 1)
    finally:
        _set_precision("float32")
    g_opt = keras.optimizers.Adam(config.lr_generator, name="adam_generator")
    d_opt = keras.optimizers.Adam(config.lr_discriminator, name="adam_discriminator")
    g_opt.build(gen.trainable_variables)
    d_opt.build(disc.trainable_variables)
    return gen, disc, g_opt, d_opt


def build_training(config: TrainConfig, sf_coeffs: np.ndarray, depth_coeffs: np.ndarray | None = None):
    """(generator, discriminator, g_optimizer, d_optimizer, step) for ``config``;
    ``step(showers, energies, step_index)`` runs one D and one G update and returns the losses.
    ``depth_coeffs`` (see ``observables.fit_longitudinal_centre``) is needed when
    ``config.weight_depth > 0``."""
    gen, disc, g_opt, d_opt = _build(config)
    return gen, disc, g_opt, d_opt, _make_step(config, gen, disc, g_opt, d_opt, sf_coeffs, depth_coeffs)


def _stateful(gen, disc, g_opt, d_opt):
    return (("g", gen), ("d", disc), ("g_opt", g_opt), ("d_opt", d_opt))


def _save_checkpoint(out_dir: Path, gen, disc, g_opt, d_opt, state: dict, keep: int) -> Path:
    root = out_dir / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{_CKPT_PREFIX}{state['epoch']:04d}"
    with atomic_dir(final) as tmp:
        # All variables, not only weights: the Dropout seed-generator states make resuming exact.
        np.savez(tmp / "variables.npz", **{f"{prefix}_{i}": v.numpy() for prefix, obj in _stateful(gen, disc, g_opt, d_opt)
                                           for i, v in enumerate(obj.variables)})
        _atomic_json(tmp / "state.json", state)
    complete = sorted(p for p in root.glob(f"{_CKPT_PREFIX}*") if (p / "state.json").exists())
    for old in complete[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def _load_checkpoint(path: Path, gen, disc, g_opt, d_opt) -> dict:
    with np.load(path / "variables.npz") as z:
        for prefix, obj in _stateful(gen, disc, g_opt, d_opt):
            for i, v in enumerate(obj.variables):
                v.assign(z[f"{prefix}_{i}"])
    return json.loads((path / "state.json").read_text())


def _load_discriminator(checkpoint: Path, disc) -> None:
    """The discriminator's variables from a checkpoint folder (``variables.npz``)."""
    path = checkpoint / "variables.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint to take the discriminator from "
                                "(expected a folder such as out/checkpoints/epoch_0010)")
    with np.load(path) as z:
        for i, v in enumerate(disc.variables):
            key = f"d_{i}"
            if key not in z or z[key].shape != tuple(v.shape):
                raise ValueError(f"{path}: {key} missing or shaped {z[key].shape if key in z else None}, "
                                 f"the discriminator needs {tuple(v.shape)}: another model or size?")
            v.assign(z[key])


def _make_step(config: TrainConfig, gen, disc, g_opt, d_opt, sf_coeffs: np.ndarray,
               depth_coeffs: np.ndarray | None = None, strategy=None):
    import tensorflow as tf

    from .models import LATENT_SIZE, NET_UNIT_GEV
    from .validation import HITS_THRESHOLD_GEV

    if config.weight_depth > 0 and depth_coeffs is None:
        raise ValueError("weight_depth > 0 needs depth_coeffs (observables.fit_longitudinal_centre)")
    coeffs = tf.constant(sf_coeffs, tf.float32)
    z_coeffs = tf.constant(depth_coeffs if depth_coeffs is not None else [0.0], tf.float32)
    layer_index = tf.range(25, dtype=tf.float32)
    bin_edges = tf.constant(obs.DEFAULT_ENERGY_BINS_GEV[1:-1], tf.float32)[None, :]
    g_training = not config.generator_as_deployed
    seed = tf.constant(int(config.seed), tf.int64)
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1

    def local(x, n, offset=0):
        """This replica's rows [offset + r n, offset + (r + 1) n) of a draw for the global batch."""
        if replicas == 1:
            return x
        start = offset + tf.distribute.get_replica_context().replica_id_in_sync_group * n
        return x[start:start + n]

    def mape(y, y_hat):
        return 100.0 * tf.reduce_mean(tf.abs(y - y_hat) / tf.maximum(tf.abs(y), 1e-7))

    def bce_loss(labels, probs):
        probs = tf.clip_by_value(tf.cast(probs, tf.float32), 1e-7, 1 - 1e-7)
        return -tf.reduce_mean(labels * tf.math.log(probs) + (1 - labels) * tf.math.log(1 - probs))

    def latent(energies, s):
        n = tf.shape(energies)[0]
        noise = tf.random.stateless_normal((n * replicas, LATENT_SIZE), seed=s)
        return energies[:, None] / 100.0 * local(noise, n)

    def ecal_target(energies):
        return energies * tf.math.polyval(tf.unstack(coeffs), energies / 100.0)

    def shapes(showers):  # (n, 25) percent of each shower's energy per layer (depth is the last axis)
        per_layer = tf.reduce_sum(showers, axis=(1, 2))
        return 100.0 * per_layer / tf.maximum(tf.reduce_sum(per_layer, axis=1, keepdims=True), 1e-6)

    def depth_error(energies, showers):
        """|barycentre - fit(E_p)| per shower, in layers."""
        centre = tf.reduce_sum(shapes(showers) * layer_index, axis=1) / 100.0
        return tf.reduce_mean(tf.abs(centre - tf.math.polyval(tf.unstack(z_coeffs), tf.math.log(energies / 100.0))))

    def profile_error(energies, fake, real):
        """Squared difference (%^2, mean over layers) of the mean longitudinal shapes of the
        fake and the real showers of each primary-energy bin, weighted by the bin's share:
        fakes are made for the real showers' energies, so each bin compares like with like."""
        index = tf.reduce_sum(tf.cast(energies[:, None] >= bin_edges, tf.int32), axis=1)
        which = tf.one_hot(index, len(obs.DEFAULT_ENERGY_BINS_GEV) - 1)
        counts = tf.reduce_sum(which, axis=0)
        diff = tf.matmul(which, shapes(fake) - shapes(real), transpose_a=True) / tf.maximum(counts, 1.0)[:, None]
        return tf.reduce_sum(counts * tf.reduce_mean(diff**2, axis=1)) / tf.cast(tf.shape(energies)[0], tf.float32)

    def per_bin_means(energies, *values):
        """(counts (n_bins,), per-bin means (n_bins,) of each value (n,)) over the energy bins."""
        index = tf.reduce_sum(tf.cast(energies[:, None] >= bin_edges, tf.int32), axis=1)
        which = tf.one_hot(index, len(obs.DEFAULT_ENERGY_BINS_GEV) - 1)
        counts = tf.reduce_sum(which, axis=0)
        return counts, [tf.linalg.matvec(which, v, transpose_a=True) / tf.maximum(counts, 1.0) for v in values]

    power, eps = float(config.cell_power), 1e-4

    def seen(showers):
        """What the discriminator sees: GeV cells, or NET_UNIT_GEV * ((E / NET_UNIT_GEV)^p) for p < 1."""
        if power == 1.0:
            return showers
        return NET_UNIT_GEV * (tf.pow(showers / NET_UNIT_GEV + eps, power) - eps**power)

    log_threshold = float(np.log(HITS_THRESHOLD_GEV))

    def hits_error(energies, fake, real):
        """Squared relative error of the per-bin mean soft hit counts (sigmoid in ln E_cell, width 0.3)."""
        def soft_hits(x):
            return tf.reduce_sum(tf.sigmoid((tf.math.log(x + 1e-9) - log_threshold) / 0.3), axis=(1, 2, 3))
        counts, (h_fake, h_real) = per_bin_means(energies, soft_hits(fake), soft_hits(real))
        rel = h_fake / tf.maximum(h_real, 1.0) - 1.0
        return tf.reduce_sum(counts * rel**2) / tf.reduce_sum(counts)

    def scaled(loss):  # a replica's share of the global-batch mean
        return loss if replicas == 1 else loss / replicas

    def replica_step(showers, energies, step_index):
        n = tf.shape(energies)[0]
        s = tf.cast(step_index, tf.int64)
        e100 = energies / 100.0
        fake = tf.cast(gen(latent(energies, tf.stack([seed, 4 * s])), training=g_training), tf.float32)
        flip = tf.random.stateless_uniform((2 * n * replicas,), seed=tf.stack([seed, 4 * s + 1])) < config.label_flip
        if replicas > 1:  # [real; fake] of the global batch -> this replica's real and fake rows
            flip = tf.concat([local(flip, n), local(flip, n, offset=n * replicas)], 0)
        labels = tf.concat([tf.fill((n,), config.label_real), tf.fill((n,), config.label_fake)], 0)
        labels = tf.where(flip, 1.0 - labels, labels)
        with tf.GradientTape() as tape:
            # One pass over real and fake together: BatchNorm statistics of a real-only and a
            # fake-only batch would normalise away exactly the differences D must see.
            g_out, a_out, _ = disc(seen(tf.concat([showers, fake], 0)), training=True)
            d_bce = bce_loss(labels, g_out[:, 0])
            d_aux = mape(tf.concat([e100, e100], 0), tf.cast(a_out[:, 0], tf.float32))
            d_loss = scaled(config.weight_bce * d_bce + config.weight_aux * d_aux)
        d_opt.apply_gradients(zip(tape.gradient(d_loss, disc.trainable_variables), disc.trainable_variables))
        with tf.GradientTape() as tape:
            fake = tf.cast(gen(latent(energies, tf.stack([seed, 4 * s + 2])), training=g_training), tf.float32)
            g_fake, a_fake, _ = disc(seen(fake), training=False)
            g_bce = bce_loss(tf.fill((n,), config.label_real), g_fake[:, 0])
            g_aux = mape(e100, tf.cast(a_fake[:, 0], tf.float32))
            g_ecal = mape(ecal_target(energies), tf.reduce_sum(fake, axis=(1, 2, 3)))
            g_loss = config.weight_bce * g_bce + config.weight_aux * g_aux + config.weight_ecal * g_ecal
            losses = {"g_bce": scaled(g_bce), "g_aux_mape": scaled(g_aux), "g_ecal_mape": scaled(g_ecal)}
            if config.weight_depth > 0:
                g_depth = depth_error(energies, fake)
                g_loss += config.weight_depth * g_depth
                losses["g_depth_layers"] = scaled(g_depth)
            if config.weight_profile > 0:
                g_profile = profile_error(energies, fake, showers)
                g_loss += config.weight_profile * g_profile
                losses["g_profile_mse"] = scaled(g_profile)
            if config.weight_hits > 0:
                g_hits = hits_error(energies, fake, showers)
                g_loss += config.weight_hits * g_hits
                losses["g_hits_rel_sq"] = scaled(g_hits)
            g_loss = scaled(g_loss)
        g_opt.apply_gradients(zip(tape.gradient(g_loss, gen.trainable_variables), gen.trainable_variables))
        return {"d_loss": d_loss, "d_bce": scaled(d_bce), "d_aux_mape": scaled(d_aux), "g_loss": g_loss, **losses}

    if strategy is None:
        return tf.function(replica_step, reduce_retracing=True)

    @tf.function(reduce_retracing=True)
    def step(showers, energies, step_index):
        """Per-replica ``showers``/``energies`` (see _per_replica); returns the global-batch mean losses."""
        losses = strategy.run(replica_step, args=(showers, energies, step_index))
        return {k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in losses.items()}

    return step


def generate_showers(generator, energies_gev: np.ndarray, *, seed: int, batch_size: int = 256) -> np.ndarray:
    """(N, 25, 25, 25) float32 GeV showers from a Keras generator for the given energies."""
    import keras

    from .models import latent_vectors

    z = latent_vectors(energies_gev, seed=seed)
    out = [keras.ops.convert_to_numpy(generator(z[i:i + batch_size], training=False)).astype(np.float32)
           for i in range(0, len(z), batch_size)]
    return np.concatenate(out) if out else np.empty((0, 25, 25, 25), np.float32)


def _validate(gen, val_showers, val_energies, seed: int, *, score_hits: bool = False) -> dict[str, float]:
    """The per-epoch physics metrics of ``gen`` against held-out Monte Carlo.

    ``val_shower_shape_mse`` (%^2) is dominated by high-energy showers, whose profiles carry
    most of the energy, so the epoch is selected on ``val_score``: the mean over the primary-
    energy bins of the per-bin shape MSE plus (100 * (SF ratio - 1))^2 / 100 plus the square
    of the difference of mean longitudinal barycentres in layers, i.e. a 10 % sampling-
    fraction error or a shower one layer too deep in a bin costs as much as a shape MSE of 1 %^2.
    With ``score_hits`` (runs that train on hits) the score adds (100 * (hits ratio - 1))^2 / 100
    per bin: a 10 % error on the mean number of hits costs the same.
    """
    from .validation import HITS_THRESHOLD_GEV

    fake = generate_showers(gen, val_energies, seed=seed)
    bins = obs.DEFAULT_ENERGY_BINS_GEV
    mse = obs.shower_shape_mse(fake, val_showers, energies_a_gev=val_energies, energies_b_gev=val_energies, bins_gev=bins)
    sf_fake, sf_real = obs.sampling_fraction(fake, val_energies), obs.sampling_fraction(val_showers, val_energies)
    z_fake = obs.moments(obs.longitudinal_profile(fake))[0]
    z_real = obs.moments(obs.longitudinal_profile(val_showers))[0]
    which = obs.energy_bin_index(val_energies, bins)
    hits_fake = (fake > HITS_THRESHOLD_GEV).sum(axis=(1, 2, 3))
    hits_real = (val_showers > HITS_THRESHOLD_GEV).sum(axis=(1, 2, 3))
    record = {"val_shower_shape_mse": mse["all"],
              "val_sampling_fraction_ratio": float(sf_fake.mean() / sf_real.mean())}
    scores = []
    for b, label in enumerate(obs.energy_bin_labels(bins)):
        sel = which == b
        if not sel.any():
            continue
        ratio = float(sf_fake[sel].mean() / sf_real[sel].mean())
        record[f"val_shower_shape_mse {label}"] = mse[label]
        depth = float(np.nanmean(z_fake[sel]) - np.nanmean(z_real[sel])) if np.isfinite(z_fake[sel]).any() else 25.0
        record[f"val_sampling_fraction_ratio {label}"] = ratio
        record[f"val_depth_diff_layers {label}"] = depth
        hits_ratio = float(hits_fake[sel].mean() / max(hits_real[sel].mean(), 1.0))
        record[f"val_hits_ratio {label}"] = hits_ratio
        score = mse[label] + (100.0 * (ratio - 1.0)) ** 2 / 100.0 + depth**2
        scores.append(score + ((100.0 * (hits_ratio - 1.0)) ** 2 / 100.0 if score_hits else 0.0))
    record["val_score"] = float(np.mean(scores))
    return record


def train(
    config: TrainConfig,
    train_path: str | os.PathLike,
    validation_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    progress: bool = True,
    energy_range_gev: tuple[float, float] | None = (2.0, 500.0),
    max_in_memory_gb: float = 2.0,
) -> list[dict]:
    """Train (or resume) a GAN; returns the history (one dict per epoch).

    Training showers larger than ``max_in_memory_gb`` (float32 cells) are streamed from
    ``train_path`` by chunks (:mod:`gan3d_lib.shower_stream`); the batches are the same.

    Resumes from the newest complete checkpoint in ``out_dir`` if there is one and its
    ``config.json`` matches ``config`` (a larger ``epochs`` or another ``strategy`` continues
    a run); refuses (ValueError) if anything else differs. Under a strategy other than
    'default' the global ``batch_size`` must divide by the number of replicas; non-chief
    workers write nothing and return their losses without validation metrics.
    """
    import tensorflow as tf

    strategy = make_strategy(config.strategy)  # first: multi-worker collectives need a fresh runtime
    chief = strategy is None or strategy.extended.should_checkpoint
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    if config.batch_size % replicas:
        raise ValueError(f"batch_size {config.batch_size} does not split into {replicas} equal replica batches")
    out = Path(out_dir)
    cfg_doc = asdict(config)
    cfg_path = out / "config.json"
    if cfg_path.exists() and latest_checkpoint(out):
        old = {**_defaults(), **json.loads(cfg_path.read_text())}  # settings added since take their defaults
        same = ("epochs", "strategy")
        if {k: v for k, v in old.items() if k not in same} != {k: v for k, v in cfg_doc.items() if k not in same}:
            raise ValueError(f"{out}: holds checkpoints of a different config; use a new folder or delete it")
    if chief:
        out.mkdir(parents=True, exist_ok=True)
        _atomic_json(cfg_path, cfg_doc)

    data = TrainingShowers(train_path, chunk_showers=config.chunk_showers, buffer_chunks=config.shuffle_buffer_chunks,
                           max_in_memory_gb=max_in_memory_gb, energy_range_gev=energy_range_gev)
    energies = data.energies
    val_showers, val_energies = read_showers(validation_path, max_showers=config.n_validation,
                                             energy_range_gev=energy_range_gev)
    # the fits need each shower's total and longitudinal profile only
    sf_coeffs = obs.fit_sampling_fraction(data.profile_showers, energies, degree=config.sf_fit_degree)
    depth_coeffs = obs.fit_longitudinal_centre(data.profile_showers, energies, degree=config.depth_fit_degree)
    n_batches = len(energies) // config.batch_size
    if n_batches == 0:
        raise ValueError(f"{train_path}: {len(energies)} showers is fewer than one batch of {config.batch_size}")
    steps_per_epoch = min(n_batches, config.max_steps_per_epoch or n_batches)

    tf.config.experimental.enable_op_determinism()
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        gen, disc, g_opt, d_opt = _build(config)
    history: list[dict] = []
    start_epoch, best = 0, None
    ckpt = latest_checkpoint(out)
    if ckpt is not None:
        state = _load_checkpoint(ckpt, gen, disc, g_opt, d_opt)
        start_epoch, history, best = state["epoch"], state["history"], state.get("best")
    else:
        if config.init_generator:
            init = Path(config.init_generator)
            gen.load_weights(init / "generator.weights.h5" if init.is_dir() else init)
        if config.init_discriminator:
            _load_discriminator(Path(config.init_discriminator), disc)
    _check_same_on_all_workers(strategy, start_epoch, "the checkpoint to resume from (epoch)")
    step_fn = _make_step(config, gen, disc, g_opt, d_opt, sf_coeffs, depth_coeffs, strategy)

    for epoch in range(start_epoch, config.epochs):
        lr_g, lr_d = config.learning_rates(epoch)
        g_opt.learning_rate.assign(lr_g)
        d_opt.learning_rate.assign(lr_d)
        t0 = time.perf_counter()
        sums: dict[str, float] = {}
        batches = data.batches(config.batch_size, steps_per_epoch, seed=config.seed, epoch=epoch)
        if progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, total=steps_per_epoch, desc=f"epoch {epoch + 1}/{config.epochs}", unit="step",
                           leave=False)
        for b, (batch_showers, batch_energies) in enumerate(batches):
            step_index = epoch * steps_per_epoch + b
            losses = step_fn(*_per_replica(strategy, batch_showers, batch_energies), tf.constant(step_index, tf.int64))
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v)
        seconds = time.perf_counter() - t0
        record = {"epoch": epoch + 1, "step": (epoch + 1) * steps_per_epoch, "seconds": seconds,
                  "showers_per_s": steps_per_epoch * config.batch_size / seconds,
                  "lr_generator": lr_g, "lr_discriminator": lr_d,
                  **{k: v / steps_per_epoch for k, v in sums.items()},
                  **(_validate(gen, val_showers, val_energies, seed=config.seed + 10_000,
                               score_hits=config.weight_hits > 0) if chief else {})}
        history.append(record)
        if not chief:
            continue
        if best is None or record["val_score"] < best["val_score"]:
            best = {"epoch": record["epoch"], "val_score": record["val_score"],
                    "val_shower_shape_mse": record["val_shower_shape_mse"]}
            with atomic_file(out / "generator.weights.h5", suffix=".weights.h5") as tmp:
                gen.save_weights(tmp)
        fits = {"sampling_fraction_fit": sf_coeffs.tolist(), "longitudinal_centre_fit": depth_coeffs.tolist()}
        state = {"epoch": epoch + 1, "step": record["step"], "history": history, "best": best, **fits}
        _save_checkpoint(out, gen, disc, g_opt, d_opt, state, config.keep_checkpoints)
        _atomic_json(out / "history.json", {"history": history, "best": best, **fits})
        if progress:  # the per-epoch line the user asked for
            print(f"epoch {epoch + 1}: d_loss {record['d_loss']:.3f} g_loss {record['g_loss']:.3f} "  # noqa: T201
                  f"val score {record['val_score']:.3g} MSE {record['val_shower_shape_mse']:.3g} "
                  f"SF ratio {record['val_sampling_fraction_ratio']:.3f} "
                  f"({record['showers_per_s']:.0f} showers/s)", flush=True)
    return history


def training_stages(out_dir: str | os.PathLike) -> list[str]:
    """The training folders that made ``out_dir``'s generator, first stage first: each
    fine-tuning stage names the folder it started from in its ``init_generator``."""
    stages = [str(out_dir)]
    while True:
        cfg_path = Path(stages[0]) / "config.json"
        if not cfg_path.exists():
            raise FileNotFoundError(f"{cfg_path}: not a training folder (no config.json)")
        init = json.loads(cfg_path.read_text()).get("init_generator")
        if not init:
            return stages
        # a relative path was relative to where training ran: here, or a folder above this one
        candidates = [Path(init)] + [up / init for up in Path(stages[0]).resolve().parents]
        found = str(next((c for c in candidates if (c / "config.json").exists()), Path(init)))
        if found in stages:
            raise ValueError(f"{cfg_path}: init_generator {init} makes a cycle of training folders")
        stages.insert(0, found)


def load_generator(out_dir_or_weights: str | os.PathLike, *, model: str | None = None, size: str | None = None):
    """A Keras generator with trained weights: a training folder (uses its config.json and the
    best-epoch ``generator.weights.h5``) or a ``.weights.h5`` file with ``model`` and ``size``."""
    from .models import build_generator

    path = Path(out_dir_or_weights)
    if path.is_dir():
        cfg = json.loads((path / "config.json").read_text())
        model, size, path = cfg["model"], cfg["size"], path / "generator.weights.h5"
    if model is None or size is None:
        raise ValueError(f"{path}: give model and size for a bare weights file")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no generator weights")
    gen = build_generator(model, size=size)
    gen.load_weights(path)
    return gen
