"""``tf.distribute`` for training: the strategy by name, the global batch split into
per-replica slices, and a check that every worker resumes from the same checkpoint."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["STRATEGIES", "make_strategy", "per_replica", "check_same_on_all_workers"]

STRATEGIES = ("default", "mirrored", "multi-worker")


def make_strategy(name: str) -> Any:
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


def per_replica(strategy: Any, showers: np.ndarray, energies: np.ndarray) -> Any:
    """The global batch as tensors, or split into equal per-replica slices (by global replica id)."""
    import tensorflow as tf

    if strategy is None:
        return tf.constant(showers), tf.constant(energies)
    n = len(energies) // strategy.num_replicas_in_sync

    def part(array):
        return strategy.experimental_distribute_values_from_function(
            lambda ctx: tf.constant(array[ctx.replica_id_in_sync_group * n:(ctx.replica_id_in_sync_group + 1) * n]))

    return part(showers), part(energies)


def check_same_on_all_workers(strategy: Any, value: int, what: str) -> None:
    """Raise on every worker unless all replicas hold the same ``value``."""
    import tensorflow as tf

    if strategy is None or strategy.num_replicas_in_sync == 1:
        return
    v = strategy.experimental_distribute_values_from_function(lambda ctx: tf.constant([value, value * value], tf.float64))
    mean, mean_sq = strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None).numpy()
    if mean != value or mean_sq != value * value:
        raise ValueError(f"workers disagree on {what} (this worker: {value}, mean {mean:g}); "
                         "the output folder must be on a file system shared by all workers")
