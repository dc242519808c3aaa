"""Settings of a training run (:class:`TrainConfig`, written to ``config.json``)."""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from .distribution import STRATEGIES
from ..models.models import HEADS, LATENT_NORMS, SIZES

__all__ = ["TrainConfig", "config_defaults", "config_from_record", "read_recipe", "RETIRED_SETTINGS",
           "MODELS", "PRECISIONS"]

MODELS = ("conv2d", "conv3d")
PRECISIONS = ("float32", "mixed_bfloat16")
#: settings of earlier versions, removed (issue 35): those no shipped stage used, at the value that left
#: them off, and those every run held at one value, now fixed in the code (training.LABEL_REAL, ...,
#: the checkpoints kept a train() argument). A record holding one at that value still loads; the
#: experiments that switched one on stay as records (their config.json and history), no longer re-runnable.
RETIRED_SETTINGS = {"output_gradient_slope": 0.0, "hits_softness": 0.3, "weight_layer_hits": 0.0,
                    "weight_ranked_cells": 0.0, "weight_feature_critic": 0.0, "extra": {},
                    "label_real": 0.9, "label_fake": 0.1, "label_flip": 0.05, "sf_fit_degree": 3,
                    "depth_fit_degree": 2, "keep_checkpoints": 2}


def _setting(default: Any, help: str, **metadata: Any) -> Any:
    """A :class:`TrainConfig` field: its default and the one-line help the CLI shows."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help, **metadata})
    return field(default=default, metadata={"help": help, **metadata})


_BIN_TERM = "weight in G's loss of the per-energy-bin {}, fake vs real (not in the study: 0)"


@dataclass
class TrainConfig:
    """Settings of one training run (all written to ``config.json``; ``gan3d train`` takes each as a flag
    and a recipe, ``recipes/*.toml``, holds them all)."""

    model: str = _setting("conv2d", "generator and discriminator architecture", choices=MODELS)
    size: str | float = _setting("lite", "width: lite, paper, or a multiplier of the paper width such as 0.5")
    epochs: int = _setting(30, "epochs (a resumed run with more epochs continues)")
    batch_size: int = _setting(128, "showers per step (global, split over replicas)")
    lr_generator: float = _setting(5e-4, "Adam learning rate of G (study: 5e-4)")
    lr_discriminator: float = _setting(1e-4, "Adam learning rate of D (study: 1e-4)")
    weight_bce: float = _setting(6.0, "weight of the real/fake BCE in both losses (study: 6)")
    weight_aux: float = _setting(0.2, "weight of MAPE(E_p / 100 GeV) of D's auxiliary output (study: 0.2)")
    weight_ecal: float = _setting(0.1, "weight of MAPE(E_cal) in G's loss (study: 0.1)")
    weight_depth: float = _setting(0.0, "weight of |barycentre - fit(E_p)| in layers in G's loss (not in the study: 0)")
    seed: int = _setting(1, "seed of initialisation, latents, label flips and shuffles")
    precision: str = _setting("float32", "Keras precision policy", choices=PRECISIONS)
    n_validation: int = _setting(512, "held-out showers of the per-epoch validation score")
    max_steps_per_epoch: int | None = _setting(None, "steps per epoch (default: the whole training set)")
    # Learning rates times exp(-lr_decay * (epoch - lr_decay_start_epoch)) from that epoch on
    # (the study: 0.012 per epoch after epoch 80 of a longer run).
    lr_decay: float = _setting(0.0, "learning rates x exp(-decay per epoch) ...")
    lr_decay_start_epoch: int = _setting(0, "... from this 0-based epoch on")
    init_generator: str | None = _setting(
        None, "start G from this training folder or .weights.h5 of the same model (a fine-tuning stage; "
        "a narrower one is widened, models.widen_weights)")
    init_discriminator: str | None = _setting(
        None, "start D from this checkpoint folder (out/checkpoints/epoch_NNNN), so a fine-tuning stage "
        "does not begin against a blind one")
    weight_profile: float = _setting(0.0, "weight per %^2 of mean longitudinal-shape error (not in the study: 0)")
    # E_cell^0.5 lifts the 0.1-3 MeV cells, invisible beside GeV cells in linear units, into the
    # range the discriminator resolves. The generator still outputs GeV.
    cell_power: float = _setting(1.0, "D sees cell energies to this power, e.g. 0.5 (the study: 1, linear)")
    weight_hits: float = _setting(0.0, _BIN_TERM.format("squared relative error of the mean soft hits above "
                                                        "HITS_THRESHOLD_GEV"))
    weight_transverse: float = _setting(0.0, _BIN_TERM.format("mean x and y shape error per %^2"))
    weight_moments: float = _setting(0.0, _BIN_TERM.format("squared log ratio of mean x and y widths and "
                                                           "first-layer share"))
    weight_sf_spread: float = _setting(0.0, _BIN_TERM.format("squared log ratio of the spreads of E_cal / (E_p SF)"))
    weight_depth_spread: float = _setting(0.0, _BIN_TERM.format("squared log ratio of the spreads of the "
                                                                "longitudinal barycentre and width"))
    weight_cell_spectrum: float = _setting(0.0, _BIN_TERM.format("squared log ratio of the mean numbers of cells "
                                                                 "above 0.3, 1, 3 and 10 MeV"))
    weight_transverse_log: float = _setting(0.0, _BIN_TERM.format("squared log ratio of the mean x and y shapes"))
    weight_profile_log: float = _setting(0.0, _BIN_TERM.format("squared log ratio of the mean longitudinal shapes"))
    weight_rings: float = _setting(0.0, _BIN_TERM.format("squared log ratio of the mean energy and hits of each "
                                                         "ring of cells around the axis"))
    # 13 (stages 9-11) lumps the grid's corners (12-17 cell widths from the axis) together.
    ring_count: int = _setting(13, "rings of cells in the rings term, the last taking every cell beyond "
                                   "(18 gives each ring of the grid its own)")
    select_epoch: str = _setting("val_score", "keep the generator of the epoch with the lowest validation score, "
                                              "or of the last epoch", choices=("val_score", "last"))
    # Training-mode dropout and batch statistics shift the inference-mode output; as deployed, the
    # discriminator and the losses judge exactly the showers users get (the moving statistics freeze).
    generator_as_deployed: bool = _setting(False, "G runs as deployed (BatchNorm moving statistics, no dropout) "
                                                  "in both updates: fine-tuning")
    small_cell_head: bool = _setting(False, "G gets a second output in ln(E_cell/MeV), added to its ReLU cells, "
                                            "so small cells keep a gradient (Conv2D)")
    energy_scale_head: bool = _setting(False, "G multiplies each shower's cells by one factor learned from its own "
                                              "E_cal/E_p (Conv2D; an init generator without it starts at the identity)")
    depth_fluctuation_head: bool = _setting(False, "G shifts and stretches each shower in depth by amounts drawn "
                                                   "from its latent, with learned spreads (Conv2D)")
    train_only_heads: list[str] = _setting([], "train only these heads of G; its other weights stay as "
                                               "init_generator left them", choices=tuple(HEADS))
    # One convention for training and inference (models.latent_vectors' default); stages 1-5 trained with
    # 'normal' (their recipes and records say so).
    latent_norm: str = _setting("sphere", "training latents: 'sphere' (length sqrt(200): exact E_p, as generated at "
                                          "inference) or 'normal' (the study's E_p/100 x N(0,1)^200, whose length "
                                          "carries E_p to 5%)", choices=LATENT_NORMS)
    strategy: str = _setting("default", "tf.distribute: one process, local GPUs (mirrored), or the TF_CONFIG "
                                        "cluster (multi-worker); a run may resume under another", choices=STRATEGIES)
    # Whether the cells sit in memory or are streamed does not change the order.
    chunk_showers: int = _setting(1024, "training order: showers per chunk (gan3d_lib.data.shower_stream)")
    shuffle_buffer_chunks: int = _setting(20, "training order: chunks shuffled together")

    def __post_init__(self) -> None:
        for f in fields(self):
            choices, value = f.metadata.get("choices"), getattr(self, f.name)
            if choices and any(v not in choices for v in (value if isinstance(value, list) else [value])):
                raise ValueError(f"{f.name} must be one of {', '.join(map(str, choices))}, got {value!r}")
        if isinstance(self.size, str) and self.size not in SIZES:
            raise ValueError(f"size must be {' or '.join(SIZES)} or a width multiplier, got {self.size!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be >= 1")
        weights = {k: v for k, v in vars(self).items() if k.startswith("weight_")}
        if min(weights.values()) < 0:
            raise ValueError(f"loss weights must be >= 0, got {weights}")
        if not 0 < self.cell_power <= 1:
            raise ValueError(f"cell_power must be in (0, 1], got {self.cell_power}")
        if self.ring_count < 2:
            raise ValueError(f"ring_count must be >= 2 (rings of cells around the beam axis), got {self.ring_count}")
        if self.lr_decay < 0:
            raise ValueError(f"lr_decay must be >= 0, got {self.lr_decay}")
        absent = [head for head in self.train_only_heads if not getattr(self, head, False)]
        if absent:
            raise ValueError(f"train_only_heads names heads this generator does not have: {absent} "
                             f"(choose among {', '.join(HEADS)}, and switch them on)")

    def learning_rates(self, epoch: int) -> tuple[float, float]:
        """(generator, discriminator) Adam learning rates during 0-based ``epoch``."""
        factor = float(np.exp(-self.lr_decay * max(0, epoch - self.lr_decay_start_epoch)))
        return self.lr_generator * factor, self.lr_discriminator * factor


def config_defaults() -> dict[str, Any]:
    """{setting: default} of every :class:`TrainConfig` field."""
    return {f.name: f.default if f.default is not MISSING else f.default_factory() for f in fields(TrainConfig)}


def config_from_record(doc: dict[str, Any], source: str | Path) -> dict[str, Any]:
    """Every setting of a recorded run (``config.json`` or a recipe, read from ``source``): settings
    added since take their defaults, retired ones at their neutral value are dropped. ValueError
    (naming ``source``) for an unknown setting or a retired one that was switched on."""
    known = config_defaults()
    unknown = sorted(k for k in doc if k not in known and k not in RETIRED_SETTINGS)
    if unknown:
        raise ValueError(f"{source}: unknown training settings {unknown} (TrainConfig has {', '.join(known)})")
    on = {k: doc[k] for k in RETIRED_SETTINGS if k in doc and doc[k] != RETIRED_SETTINGS[k]}
    if on:
        raise ValueError(f"{source}: uses retired settings {on}; this run is a record, not re-runnable")
    return {**known, **{k: v for k, v in doc.items() if k in known}}


def read_recipe(path: str | Path) -> dict[str, Any]:
    """The settings of a recipe file (TOML, keys named as :class:`TrainConfig`'s fields); ValueError
    naming the file for bad TOML, an unknown key or a value TrainConfig refuses."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such recipe (see recipes/*.toml)") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not TOML: {e}") from None
    unknown = sorted(set(doc) - set(config_defaults()))
    if unknown:
        raise ValueError(f"{path}: unknown training settings {unknown}")
    try:
        TrainConfig(**doc)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path}: {e}") from None
    return doc
