"""Results files: one JSON per notebook with numbers, settings, seed and versions."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_file

__all__ = ["SCHEMA_VERSION", "package_versions", "git_commit", "machine_info", "write_results", "read_results",
           "jsonable"]

SCHEMA_VERSION = 1
_PACKAGES = ("gan3d", "numpy", "scipy", "h5py", "matplotlib", "mplhep", "tensorflow", "keras",
             "neural-compressor-tf", "ai-edge-litert", "onnxruntime", "openvino", "nncf", "jupyter-book", "papermill")


def package_versions(names: tuple[str, ...] = _PACKAGES) -> dict[str, str]:
    """Installed versions of the named distributions (missing ones are left out)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def git_commit(cwd: str | os.PathLike | None = None) -> str | None:
    """Current git commit hash of the working tree, or None outside a repository."""
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


def machine_info() -> dict[str, Any]:
    """CPU model, logical cores, usable cores and the AVX2 / FMA / AVX-512 / VNNI / BF16 / AMX flags."""
    model, flags = "", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu_model": model or platform.processor() or "unknown",
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "avx2": "avx2" in flags,
        "fma": "fma" in flags,
        "avx512f": "avx512f" in flags,
        "avx512_vnni": "avx512_vnni" in flags,
        "avx512_bf16": "avx512_bf16" in flags,
        "avx_vnni": "avx_vnni" in flags,
        "amx": "amx_tile" in flags,
        "platform": platform.platform(),
    }


def jsonable(obj: Any) -> Any:
    """``obj`` with NumPy arrays and scalars as lists and Python numbers, dict keys as strings and
    non-finite floats as None: what ``json.dump`` writes."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def write_results(
    path: str | os.PathLike, numbers: dict[str, Any], *, settings: dict[str, Any] | None = None
) -> Path:
    """Atomically write ``{'numbers', 'settings', 'versions', 'machine', ...}`` as JSON.

    ``numbers`` holds the quoted results (keys carry units, e.g. ``mc_showers_per_s``);
    ``settings`` the preset, seed and parameters that produced them. NaN/inf become null.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "schema_version": SCHEMA_VERSION,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(path.parent),
        "settings": jsonable(settings or {}),
        "numbers": jsonable(numbers),
        "versions": package_versions(),
        "machine": machine_info(),
    }
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    return path


def read_results(path: str | os.PathLike) -> dict[str, Any]:
    """Load a results JSON written by :func:`write_results`."""
    with open(path) as f:
        doc = json.load(f)
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path}: schema_version {doc.get('schema_version')!r}, expected {SCHEMA_VERSION}")
    return doc
