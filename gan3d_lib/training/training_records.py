"""Reading finished training folders: the chain of stages behind a generator and each stage's record
(config, history, best epoch, showers seen, hours)."""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["training_stages", "stage_summaries"]


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


def stage_summaries(out_dir: str | os.PathLike) -> list[dict]:
    """One record per training stage of ``out_dir`` (:func:`training_stages`, first first):
    folder, config, history, best epoch, epochs, showers seen and hours of training."""
    out = []
    for folder in training_stages(out_dir):
        doc, config = (json.loads((Path(folder) / name).read_text()) for name in ("history.json", "config.json"))
        history = doc["history"]
        out.append({"folder": folder, "config": config, "history": history, "best": doc["best"], "epochs": len(history),
                    "showers_trained": history[-1]["step"] * config["batch_size"] if history else 0,
                    "training_hours": sum(h["seconds"] for h in history) / 3600})
    return out
