"""Settings of a training run (:class:`TrainConfig`, written to ``config.json``)."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any

import numpy as np

from .distribution import STRATEGIES
from ..models.models import HEADS, LATENT_NORMS

__all__ = ["TrainConfig", "config_defaults"]


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
    # Width, in ln(E_cell), of the sigmoid that counts a cell as a hit in the hits terms: a cell
    # e^-3 below the threshold still pulls at width 1, hardly at all at 0.3.
    hits_softness: float = 0.3
    weight_transverse: float = 0.0  # per %^2 of mean x and y shape error per energy bin; not in the study
    # per squared log ratio of the per-bin mean x and y widths and first-layer share; not in the study
    weight_moments: float = 0.0
    # per squared log ratio of the per-bin spreads of E_cal / (E_p SF(E_p)), fake over real; not in the study
    weight_sf_spread: float = 0.0
    # per squared log ratio of the per-bin spreads of the longitudinal barycentre and width, fake over real; not in the study
    weight_depth_spread: float = 0.0
    # per squared log ratio of the per-bin mean numbers of cells above 0.3, 1, 3 and 10 MeV; not in the study
    weight_cell_spectrum: float = 0.0
    # per squared log ratio of the per-bin mean x and y shapes (halo and edge rows); not in the study
    weight_transverse_log: float = 0.0
    # per squared log ratio of the per-bin mean longitudinal shapes (every layer alike); not in the study
    weight_profile_log: float = 0.0
    # per squared log ratio of the per-bin mean hits of each layer; not in the study
    weight_layer_hits: float = 0.0
    # per squared log ratio of the per-bin mean k-th largest cell energy, k < 2048; not in the study
    weight_ranked_cells: float = 0.0
    # per squared log ratio of the per-bin mean energy and hits of each ring of cells around the axis; not in the study
    weight_rings: float = 0.0
    # rings of cells in the rings term (losses.ring_error); the last takes every cell beyond. 13 (stages 9-11)
    # lumps the grid's corners (12-17 cell widths from the axis) together, 18 gives each ring its own terms.
    ring_count: int = 13
    # > 0: the discriminator gets a feature critic, a dense real/fake head on each shower's physics features
    # with its E_p (losses.critic_features: resolution, hits and energy shares per ring and per layer;
    # models.build_discriminator), whose BCE both players' losses take with this weight; not in the study
    weight_feature_critic: float = 0.0
    # Which epoch's generator is kept as generator.weights.h5 (history.json's "best"): 'val_score',
    # the lowest validation score, or 'last', the last epoch (when a criterion outside the score decides).
    select_epoch: str = "val_score"
    # Run the generator as it is deployed (BatchNorm with its moving statistics, no dropout)
    # in both updates, so that the discriminator and the losses judge exactly the showers
    # users get: training-mode dropout and batch statistics shift the inference-mode output.
    # For a fine-tuning stage (the moving statistics are no longer updated).
    generator_as_deployed: bool = False
    # > 0: the generator's output ReLU passes the gradient of a LeakyReLU of this slope
    # (models.build_generator), so cells switched off at exactly 0 GeV, which no loss reaches
    # through a ReLU, can learn to light up. The showers and the saved weights are unchanged.
    output_gradient_slope: float = 0.0
    # The Conv2D generator's second output in ln(E_cell / MeV) (models.build_generator): cells
    # never exactly 0, so the small ones keep a gradient. A generator without it (init_generator)
    # starts this one with the head's initial exp(-10) MeV per cell.
    small_cell_head: bool = False
    # The Conv2D generator's energy-scale head (models.build_generator): each shower's cells times
    # one factor learned from its own E_cal / E_p, so its total energy is calibrated apart from its
    # shape. A generator without it (init_generator) starts this one at the identity.
    energy_scale_head: bool = False
    # The Conv2D generator's depth-fluctuation head (models.build_generator): each shower shifted and
    # stretched in depth by amounts drawn from its latent, with learned spreads. A generator without
    # it (init_generator) starts this one near the identity.
    depth_fluctuation_head: bool = False
    # Train only these heads (names of models.HEADS); every other generator weight stays as
    # init_generator left it. Empty: train the whole generator.
    train_only_heads: list[str] = field(default_factory=list)
    # Training latents (models.latent_vectors): 'normal', the study's E_p / 100 x N(0, 1)^200, whose
    # length carries E_p to 5 %; 'sphere', the same direction at length sqrt(200) (exact E_p),
    # as the library generates at inference. Earlier stages keep 'normal' to be re-created exactly.
    latent_norm: str = "normal"
    # tf.distribute strategy (see make_strategy); a run may resume under another one.
    strategy: str = "default"
    # Training order (gan3d_lib.data.shower_stream): showers in chunks, shuffled within groups of
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
        weights = {k: v for k, v in vars(self).items() if k.startswith("weight_")}
        if min(weights.values()) < 0:
            raise ValueError(f"loss weights must be >= 0, got {weights}")
        if not 0 < self.cell_power <= 1:
            raise ValueError(f"cell_power must be in (0, 1], got {self.cell_power}")
        if self.hits_softness <= 0:
            raise ValueError(f"hits_softness must be > 0 (ln units), got {self.hits_softness}")
        if self.ring_count < 2:
            raise ValueError(f"ring_count must be >= 2 (rings of cells around the beam axis), got {self.ring_count}")
        if self.lr_decay < 0:
            raise ValueError(f"lr_decay must be >= 0, got {self.lr_decay}")
        if self.latent_norm not in LATENT_NORMS:
            raise ValueError(f"latent_norm must be one of {LATENT_NORMS}, got {self.latent_norm!r}")
        if self.select_epoch not in ("val_score", "last"):
            raise ValueError(f"select_epoch must be 'val_score' or 'last', got {self.select_epoch!r}")
        absent = [head for head in self.train_only_heads if not getattr(self, head, False)]
        if absent:
            raise ValueError(f"train_only_heads names heads this generator does not have: {absent} "
                             f"(choose among {', '.join(HEADS)}, and switch them on)")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")

    def learning_rates(self, epoch: int) -> tuple[float, float]:
        """(generator, discriminator) Adam learning rates during 0-based ``epoch``."""
        factor = float(np.exp(-self.lr_decay * max(0, epoch - self.lr_decay_start_epoch)))
        return self.lr_generator * factor, self.lr_discriminator * factor


def config_defaults() -> dict[str, Any]:
    """{setting: default} of :class:`TrainConfig` (settings without a default left out)."""
    return {f.name: f.default for f in fields(TrainConfig) if f.default is not MISSING}
