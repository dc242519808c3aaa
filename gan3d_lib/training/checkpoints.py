"""Training checkpoints: atomic, resumable folders ``checkpoints/epoch_NNNN`` holding every
variable of the networks and optimizers (``variables.npz``) and the run's state (``state.json``)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..core.atomic import atomic_dir, atomic_file

__all__ = ["latest_checkpoint", "save_checkpoint", "load_checkpoint", "load_discriminator", "atomic_json"]

_CKPT_PREFIX = "epoch_"


def atomic_json(path: Path, doc: Any) -> None:
    """Write ``doc`` as JSON to ``path`` via a temporary file and a rename."""
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=2))


def latest_checkpoint(out_dir: str | os.PathLike) -> Path | None:
    """The newest complete checkpoint folder under ``out_dir/checkpoints`` (None if none)."""
    root = Path(out_dir) / "checkpoints"
    done = sorted(p for p in root.glob(f"{_CKPT_PREFIX}*") if (p / "state.json").exists()) if root.exists() else []
    return done[-1] if done else None


def _stateful(gen, disc, g_opt, d_opt):
    return (("g", gen), ("d", disc), ("g_opt", g_opt), ("d_opt", d_opt))


def save_checkpoint(out_dir: Path, gen: Any, disc: Any, g_opt: Any, d_opt: Any, state: dict, keep: int) -> Path:
    root = out_dir / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{_CKPT_PREFIX}{state['epoch']:04d}"
    with atomic_dir(final) as tmp:
        # All variables, not only weights: the Dropout seed-generator states make resuming exact.
        np.savez(tmp / "variables.npz", **{f"{prefix}_{i}": v.numpy() for prefix, obj in _stateful(gen, disc, g_opt, d_opt)
                                           for i, v in enumerate(obj.variables)})
        atomic_json(tmp / "state.json", state)
    complete = sorted(p for p in root.glob(f"{_CKPT_PREFIX}*") if (p / "state.json").exists())
    for old in complete[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(path: Path, gen: Any, disc: Any, g_opt: Any, d_opt: Any) -> dict:
    with np.load(path / "variables.npz") as z:
        for prefix, obj in _stateful(gen, disc, g_opt, d_opt):
            for i, v in enumerate(obj.variables):
                v.assign(z[f"{prefix}_{i}"])
    return json.loads((path / "state.json").read_text())


def load_discriminator(checkpoint: Path, disc: Any) -> None:
    """The discriminator's variables from a checkpoint folder (``variables.npz``)."""
    path = checkpoint / "variables.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint to take the discriminator from "
                                "(expected a folder such as out/checkpoints/epoch_0010)")
    with np.load(path) as z:
        variables = list(disc.variables)
        saved = sum(k.startswith("d_") and k[2:].isdigit() for k in z.files)
        if saved != len(variables):
            raise ValueError(f"{path}: holds {saved} discriminator variables, this discriminator has "
                             f"{len(variables)}: another model or size?")
        for i, v in enumerate(variables):
            key = f"d_{i}"
            if key not in z or z[key].shape != tuple(v.shape):
                raise ValueError(f"{path}: {key} missing or shaped {z[key].shape if key in z else None}, "
                                 f"the discriminator needs {tuple(v.shape)}: another model or size?")
            v.assign(z[key])
