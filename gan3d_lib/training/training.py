"""Training the 3DGAN game: compiled custom loop, physics validation, atomic resumable checkpoints.

Losses (the study's Conv2D training, F. Rehm): the discriminator minimises ``w_bce *
BCE(real/fake) + w_aux * MAPE(E_p/100)``; the generator minimises ``w_bce * BCE(fake -> real) +
w_aux * MAPE(E_p/100) + w_ecal * MAPE(E_cal)``, where the E_cal target of a generated shower is
``E_p * SF(E_p)`` from a polynomial fit of the training data's sampling fraction. An optional
term of our own (``weight_depth``, 0 in the study) adds ``w_depth * |z_c - z_c(E_p)|``: the generated
shower's longitudinal barycentre against a fit, in ln(E_p), of the training data's (layer-index units), the same kind
of constraint for the shower's depth as MAPE(E_cal) is for its energy. Further terms of our own compare fake and
real showers per primary-energy bin of the batch (shapes, hits, resolution, cell spectrum, rings; each ``weight_*``
of :mod:`gan3d_lib.training.train_config`, 0 = off, each term in :mod:`gan3d_lib.models.losses`); with ``cell_power`` < 1 the
discriminator sees E_cell^p. BCE uses smoothed labels (real 0.9, fake 0.1) with 5 % of the discriminator's labels
flipped. Adam, learning rates 5e-4 (G) and 1e-4 (D). Settings:
:mod:`gan3d_lib.training.train_config`; checkpoints: :mod:`gan3d_lib.training.checkpoints`;
``tf.distribute``: :mod:`gan3d_lib.training.distribution`.

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
    generator.weights.h5     generator of the best validation epoch (``select_epoch`` 'last': the last epoch)
    checkpoints/epoch_NNNN/  variables.npz (networks, optimizers, dropout RNG states), state.json
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ..physics import observables as obs
from ..core.atomic import atomic_file
from .checkpoints import atomic_json, latest_checkpoint, load_checkpoint, load_discriminator, save_checkpoint
from .distribution import STRATEGIES, check_same_on_all_workers, make_strategy, per_replica
from ..physics.geometry import ENERGY_RANGE_GEV
from ..data.io import read_showers
from ..data.shower_stream import TrainingShowers
from ..models.inference import generate_showers
from .train_config import TrainConfig, config_from_record
from .training_records import stage_summaries, training_stages

#: the 3DGAN's smoothed BCE labels of real and generated showers, and the share of D's labels flipped
LABEL_REAL, LABEL_FAKE, LABEL_FLIP = 0.9, 0.1, 0.05
#: degrees in ln(E_p) of the sampling-fraction fit (the E_cal target) and the longitudinal-barycentre fit
SF_FIT_DEGREE, DEPTH_FIT_DEGREE = 3, 2

__all__ = ["TrainConfig", "train", "build_training", "load_generator", "latest_checkpoint",
           "training_stages", "stage_summaries", "make_strategy", "STRATEGIES"]


def _set_precision(precision: str):
    import keras

    keras.mixed_precision.set_global_policy(precision)


def _build(config: TrainConfig):
    import keras

    from ..models.models import HEADS, build_discriminator, build_generator

    _set_precision(config.precision)
    try:
        gen = build_generator(config.model, size=config.size, seed=config.seed, small_cell_head=config.small_cell_head,
                              energy_scale_head=config.energy_scale_head,
                              depth_fluctuation_head=config.depth_fluctuation_head)
        if config.train_only_heads:
            prefixes = tuple(HEADS[head] for head in config.train_only_heads)
            for layer in gen.layers:
                layer.trainable = layer.name.startswith(prefixes)
        disc = build_discriminator(config.model, size=config.size, seed=config.seed + 1)
    finally:
        _set_precision("float32")
    g_opt = keras.optimizers.Adam(config.lr_generator, name="adam_generator")
    d_opt = keras.optimizers.Adam(config.lr_discriminator, name="adam_discriminator")
    g_opt.build(gen.trainable_variables)
    d_opt.build(disc.trainable_variables)
    return gen, disc, g_opt, d_opt


def build_training(config: TrainConfig, sf_coeffs: np.ndarray, depth_coeffs: np.ndarray | None = None) -> Any:
    """(generator, discriminator, g_optimizer, d_optimizer, step) for ``config``;
    ``step(showers, energies, step_index)`` runs one D and one G update and returns the losses.
    ``depth_coeffs`` (see ``observables.fit_longitudinal_centre``) is needed when
    ``config.weight_depth`` or ``config.weight_depth_spread`` > 0."""
    gen, disc, g_opt, d_opt = _build(config)
    return gen, disc, g_opt, d_opt, _make_step(config, gen, disc, g_opt, d_opt, sf_coeffs, depth_coeffs)


def _make_step(config: TrainConfig, gen, disc, g_opt, d_opt, sf_coeffs: np.ndarray,
               depth_coeffs: np.ndarray | None = None, strategy=None):
    import tensorflow as tf

    from ..models import losses as terms
    from ..models.models import LATENT_SIZE, NET_UNIT_GEV
    from ..physics.geometry import HITS_THRESHOLD_GEV

    if max(config.weight_depth, config.weight_depth_spread) > 0 and depth_coeffs is None:
        raise ValueError("weight_depth or weight_depth_spread > 0 needs depth_coeffs (observables.fit_longitudinal_centre)")
    sf_coeffs = [float(c) for c in sf_coeffs]
    depth_coeffs = [float(c) for c in depth_coeffs] if depth_coeffs is not None else [0.0]
    g_training, threshold = not config.generator_as_deployed, HITS_THRESHOLD_GEV
    seed = tf.constant(int(config.seed), tf.int64)
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1

    def local(x, n, offset=0):
        """This replica's rows [offset + r n, offset + (r + 1) n) of a draw for the global batch."""
        if replicas == 1:
            return x
        start = offset + tf.distribute.get_replica_context().replica_id_in_sync_group * n
        return x[start:start + n]

    sphere = config.latent_norm == "sphere"

    def latent(energies, s):  # as models.latent_vectors(norm=config.latent_norm)
        n = tf.shape(energies)[0]
        noise = tf.random.stateless_normal((n * replicas, LATENT_SIZE), seed=s)
        if sphere:
            noise = noise * (LATENT_SIZE**0.5 / tf.norm(noise, axis=1, keepdims=True))
        return energies[:, None] / 100.0 * local(noise, n)

    def seen(showers):  # the discriminator's input
        return terms.discriminator_view(showers, float(config.cell_power), NET_UNIT_GEV)

    def scaled(loss):  # a replica's share of the global-batch mean
        return loss if replicas == 1 else loss / replicas

    def replica_step(showers, energies, step_index):
        n = tf.shape(energies)[0]
        s = tf.cast(step_index, tf.int64)
        e100 = energies / 100.0
        fake = tf.cast(gen(latent(energies, tf.stack([seed, 4 * s])), training=g_training), tf.float32)
        flip = tf.random.stateless_uniform((2 * n * replicas,), seed=tf.stack([seed, 4 * s + 1])) < LABEL_FLIP
        if replicas > 1:  # [real; fake] of the global batch -> this replica's real and fake rows
            flip = tf.concat([local(flip, n), local(flip, n, offset=n * replicas)], 0)
        labels = tf.concat([tf.fill((n,), LABEL_REAL), tf.fill((n,), LABEL_FAKE)], 0)
        labels = tf.where(flip, 1.0 - labels, labels)
        with tf.GradientTape() as tape:
            # One pass over real and fake together: BatchNorm statistics of a real-only and a
            # fake-only batch would normalise away exactly the differences D must see.
            g_out, a_out, _ = disc(seen(tf.concat([showers, fake], 0)), training=True)
            d_bce = terms.binary_cross_entropy(labels, g_out[:, 0])
            d_aux = terms.mape(tf.concat([e100, e100], 0), tf.cast(a_out[:, 0], tf.float32))
            d_loss = scaled(config.weight_bce * d_bce + config.weight_aux * d_aux)
        d_opt.apply_gradients(zip(tape.gradient(d_loss, disc.trainable_variables), disc.trainable_variables))
        with tf.GradientTape() as tape:
            fake = tf.cast(gen(latent(energies, tf.stack([seed, 4 * s + 2])), training=g_training), tf.float32)
            g_fake, a_fake, _ = disc(seen(fake), training=False)
            g_bce = terms.binary_cross_entropy(tf.fill((n,), LABEL_REAL), g_fake[:, 0])
            g_aux = terms.mape(e100, tf.cast(a_fake[:, 0], tf.float32))
            g_ecal = terms.mape(terms.ecal_target(energies, sf_coeffs), tf.reduce_sum(fake, axis=(1, 2, 3)))
            g_loss = config.weight_bce * g_bce + config.weight_aux * g_aux + config.weight_ecal * g_ecal
            losses = {"g_bce": scaled(g_bce), "g_aux_mape": scaled(g_aux), "g_ecal_mape": scaled(g_ecal)}
            optional = (  # (weight, loss name, term): our physics terms, each off at weight 0
                ("weight_depth", "g_depth_layers", lambda: terms.depth_error(energies, fake, depth_coeffs)),
                ("weight_profile", "g_profile_mse", lambda: terms.profile_error(energies, fake, showers)),
                ("weight_transverse", "g_transverse_mse", lambda: terms.transverse_error(energies, fake, showers)),
                ("weight_moments", "g_moments_logsq", lambda: terms.moments_error(energies, fake, showers)),
                ("weight_hits", "g_hits_rel_sq", lambda: terms.hits_error(energies, fake, showers, threshold)),
                ("weight_sf_spread", "g_sf_spread_logsq",
                 lambda: terms.sampling_fraction_spread_error(energies, fake, showers, sf_coeffs)),
                ("weight_depth_spread", "g_depth_spread_logsq",
                 lambda: terms.depth_spread_error(energies, fake, showers, depth_coeffs)),
                ("weight_cell_spectrum", "g_cell_spectrum_logsq", lambda: terms.cell_spectrum_error(energies, fake, showers)),
                ("weight_transverse_log", "g_transverse_logsq", lambda: terms.transverse_log_error(energies, fake, showers)),
                ("weight_profile_log", "g_profile_logsq", lambda: terms.profile_log_error(energies, fake, showers)),
                ("weight_rings", "g_rings_logsq",
                 lambda: terms.ring_error(energies, fake, showers, threshold, n_rings=config.ring_count)))
            for weight_name, loss_name, term in optional:
                weight = getattr(config, weight_name)
                if weight > 0:
                    value = term()
                    g_loss += weight * value
                    losses[loss_name] = scaled(value)
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


def _validate(gen, val_showers, val_energies, seed: int, *, score_hits: bool = False,
              latent_norm: str = "sphere") -> dict[str, float]:
    """:func:`evaluation.epoch_metrics` of ``gen``'s showers (latent ``seed``) for the validation energies."""
    from ..validation.evaluation import epoch_metrics

    fake = generate_showers(gen, val_energies, seed=seed, latent_norm=latent_norm)
    return epoch_metrics(fake, val_showers, val_energies, score_hits=score_hits)


def train(
    config: TrainConfig,
    train_path: str | os.PathLike,
    validation_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    progress: bool = True,
    energy_range_gev: tuple[float, float] | None = ENERGY_RANGE_GEV,
    max_in_memory_gb: float = 2.0,
    keep_checkpoints: int = 2,
) -> list[dict]:
    """Train (or resume) a GAN; returns the history (one dict per epoch).

    The newest ``keep_checkpoints`` checkpoints are kept. Training showers larger than
    ``max_in_memory_gb`` (float32 cells) are streamed from
    ``train_path`` by chunks (:mod:`gan3d_lib.data.shower_stream`); the batches are the same.

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
        old = config_from_record(json.loads(cfg_path.read_text()), cfg_path)
        same = ("epochs", "strategy")
        if {k: v for k, v in old.items() if k not in same} != {k: v for k, v in cfg_doc.items() if k not in same}:
            raise ValueError(f"{out}: holds checkpoints of a different config; use a new folder or delete it")
    if chief:
        out.mkdir(parents=True, exist_ok=True)
        atomic_json(cfg_path, cfg_doc)

    data = TrainingShowers(train_path, chunk_showers=config.chunk_showers, buffer_chunks=config.shuffle_buffer_chunks,
                           max_in_memory_gb=max_in_memory_gb, energy_range_gev=energy_range_gev)
    energies = data.energies
    val_showers, val_energies = read_showers(validation_path, max_showers=config.n_validation,
                                             energy_range_gev=energy_range_gev)
    # the fits need each shower's total and longitudinal profile only
    sf_coeffs = obs.fit_sampling_fraction(data.profile_showers, energies, degree=SF_FIT_DEGREE)
    depth_coeffs = obs.fit_longitudinal_centre(data.profile_showers, energies, degree=DEPTH_FIT_DEGREE)
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
        state = load_checkpoint(ckpt, gen, disc, g_opt, d_opt)
        start_epoch, history, best = state["epoch"], state["history"], state.get("best")
    else:
        if config.init_generator:
            _load_initial_generator(gen, Path(config.init_generator), config)
        if config.init_discriminator:
            _load_initial_discriminator(disc, Path(config.init_discriminator), config)
    check_same_on_all_workers(strategy, start_epoch, "the checkpoint to resume from (epoch)")
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
            losses = step_fn(*per_replica(strategy, batch_showers, batch_energies), tf.constant(step_index, tf.int64))
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v)
        seconds = time.perf_counter() - t0
        record = {"epoch": epoch + 1, "step": (epoch + 1) * steps_per_epoch, "seconds": seconds,
                  "showers_per_s": steps_per_epoch * config.batch_size / seconds,
                  "lr_generator": lr_g, "lr_discriminator": lr_d,
                  **{k: v / steps_per_epoch for k, v in sums.items()},
                  **(_validate(gen, val_showers, val_energies, seed=config.seed + 10_000,
                               score_hits=config.weight_hits > 0, latent_norm=config.latent_norm) if chief else {})}
        history.append(record)
        if not chief:
            continue
        if best is None or config.select_epoch == "last" or record["val_score"] < best["val_score"]:
            best = {"epoch": record["epoch"], "val_score": record["val_score"],
                    "val_shower_shape_mse": record["val_shower_shape_mse"]}
            with atomic_file(out / "generator.weights.h5", suffix=".weights.h5") as tmp:
                gen.save_weights(tmp)
        fits = {"sampling_fraction_fit": sf_coeffs.tolist(), "longitudinal_centre_fit": depth_coeffs.tolist()}
        state = {"epoch": epoch + 1, "step": record["step"], "history": history, "best": best, **fits}
        save_checkpoint(out, gen, disc, g_opt, d_opt, state, keep_checkpoints)
        atomic_json(out / "history.json", {"history": history, "best": best, **fits})
        if progress:  # the per-epoch line the user asked for
            print(f"epoch {epoch + 1}: d_loss {record['d_loss']:.3f} g_loss {record['g_loss']:.3f} "  # noqa: T201
                  f"val score {record['val_score']:.3g} MSE {record['val_shower_shape_mse']:.3g} "
                  f"SF ratio {record['val_sampling_fraction_ratio']:.3f} "
                  f"({record['showers_per_s']:.0f} showers/s)", flush=True)
    return history


def _load_initial_generator(gen, init: Path, config: TrainConfig) -> None:
    """Weights of ``init`` (a training folder or .weights.h5) into ``gen``; a folder trained with
    other heads than ``config`` asks for gives the layers they share (models.transfer_weights)."""
    from ..models.models import HEADS, transfer_weights, widen_weights

    init_cfg = json.loads((init / "config.json").read_text()) if (init / "config.json").exists() else {}
    if init_cfg and init_cfg["size"] != config.size:
        widen_weights(load_generator(init), gen, seed=config.seed)
        return
    if any(getattr(config, head) != init_cfg.get(head, False) for head in HEADS):
        if not init.is_dir():
            raise ValueError(f"{init}: give the training folder (its config.json says which heads it has)")
        transfer_weights(load_generator(init), gen)
        return
    gen.load_weights(init / "generator.weights.h5" if init.is_dir() else init)


def _load_initial_discriminator(disc, checkpoint: Path, config: TrainConfig) -> None:
    """The discriminator of ``checkpoint`` (a run's checkpoints/epoch_NNNN) into ``disc``; one of a
    narrower run (its config.json two folders up) is widened (models.widen_weights)."""
    run_cfg_path = checkpoint.parent.parent / "config.json"
    run_size = json.loads(run_cfg_path.read_text())["size"] if run_cfg_path.exists() else config.size
    if run_size == config.size:
        load_discriminator(checkpoint, disc)
        return
    from ..models.models import build_discriminator, widen_weights

    narrow = build_discriminator(config.model, size=run_size)
    load_discriminator(checkpoint, narrow)
    widen_weights(narrow, disc, seed=config.seed + 1)


def load_generator(out_dir_or_weights: str | os.PathLike, *, model: str | None = None, size: str | None = None) -> Any:
    """A Keras generator with trained weights: a training folder (uses its config.json and the
    best-epoch ``generator.weights.h5``) or a ``.weights.h5`` file with ``model`` and ``size``."""
    from ..models.models import HEADS, build_generator

    path = Path(out_dir_or_weights)
    heads = {}
    if path.is_dir():
        cfg = json.loads((path / "config.json").read_text())
        model, size, path = cfg["model"], cfg["size"], path / "generator.weights.h5"
        heads = {head: bool(cfg.get(head, False)) for head in HEADS}
    if model is None or size is None:
        raise ValueError(f"{path}: give model and size for a bare weights file")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no generator weights")
    gen = build_generator(model, size=size, **heads)
    gen.load_weights(path)
    return gen
