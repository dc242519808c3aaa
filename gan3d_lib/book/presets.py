"""Named sizes for notebook runs: ``ci`` (minutes, for tests) and ``default`` (the book).

A notebook parameter left at 0 (or "") takes its value from the preset; any value given
with ``papermill -p name value`` wins.
"""

from __future__ import annotations

from typing import Any

from ..precision.backends import INC_INT8, ONNX_INT8, OPENVINO_INT8

__all__ = ["PRESETS", "resolve"]

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "01_showers": {
        "ci": {"n_showers": 768, "n_per_energy": 128, "n_bench": 512},
        "default": {"n_showers": 10000, "n_per_energy": 1000, "n_bench": 4096},
    },
    "02_training": {
        "ci": {"n_live_showers": 256, "live_steps": 3, "n_eval": 64, "n_goals": 400, "n_bootstrap": 20},
        "default": {"n_live_showers": 2048, "live_steps": 32, "n_eval": 500, "n_goals": 2000, "n_bootstrap": 50},
    },
    "03_quantization": {
        # ci searches two backends: a Neural Compressor trial (four INC runs in a child process) takes ~25 s
        "ci": {"n_eval": 300, "n_calibration": 64, "max_trials": 5, "search_minutes": 1.0, "gate_n": 400,
               "gate_bootstrap": 20, "ac_iterations": 1, "isa_seconds": 0.25,
               "timing_seconds": 0.2, "search_backends": ",".join((ONNX_INT8, OPENVINO_INT8))},
        "default": {"n_eval": 2000, "n_calibration": 256, "max_trials": 45, "search_minutes": 6.0, "gate_n": 1000,
                    "gate_bootstrap": 50, "ac_iterations": 8, "isa_seconds": 2.0,
                    "timing_seconds": 1.0, "search_backends": ",".join((ONNX_INT8, OPENVINO_INT8, INC_INT8))},
    },
    "04_inference": {
        "ci": {"seconds_per_point": 0.05, "rounds": 3, "batch_sizes": "1,32", "paper_batch_sizes": "4",
               "stream_batch_sizes": "1,32", "stream_configs": "full", "n_mc": 256, "profile_runs": 2},
        # default: 3 rounds of 0.4 s per point (4 x 0.5 s made the book 65.5 min on 2 cores: the
        # sweep and its repeat took 739 s and 510 s of chapter 4's 1463 s)
        "default": {"seconds_per_point": 0.4, "rounds": 3, "batch_sizes": "1,4,16,64,128",
                    "paper_batch_sizes": "1,16,128", "stream_batch_sizes": "1,16,128", "stream_configs": "all",
                    "n_mc": 2048, "profile_runs": 5},
    },
    "05_validation": {
        "ci": {"n_eval": 400, "n_bootstrap": 50},
        "default": {"n_eval": 2000, "n_bootstrap": 100},
    },
}


def resolve(notebook: str, preset: str, **given: Any) -> dict[str, Any]:
    """Parameters for ``notebook`` at ``preset``; non-empty values in ``given`` override.

    Raises ValueError naming the known presets for an unknown one.
    """
    if notebook not in PRESETS:
        raise ValueError(f"no presets for notebook {notebook!r}; known: {sorted(PRESETS)}")
    table = PRESETS[notebook]
    if preset not in table:
        raise ValueError(f"unknown preset {preset!r} for {notebook}; choose one of {sorted(table)}")
    out = dict(table[preset])
    out.update({k: v for k, v in given.items() if v not in (None, 0, "")})
    return out
