"""Validation of a set of generator artefacts against one reference sample: chapter 5 and
``gan3d validate`` run this, so the two give the same numbers for the same inputs."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..physics import observables as obs
from .artefacts import HardwareUnsupported, load_artefact
from ..validation.validation import PreparedSample, compare, prepare
from .backends import (INC_INT8, KERAS_BF16, KERAS_FP32, ONNX_FP32, ONNX_INT8, OPENVINO_BF16, OPENVINO_FP32,
                       OPENVINO_INT8, TFLITE_DYNAMIC, TFLITE_FP16, TFLITE_FP32,
                       TFLITE_INT8, TF_GRAPH_FP32, tuned)

__all__ = ["ARTEFACT_ORDER", "ArtefactValidation", "artefact_names", "summarise", "validate_artefacts"]

#: display order of the artefacts chapter 3 writes (others follow alphabetically)
ARTEFACT_ORDER = (KERAS_FP32, TF_GRAPH_FP32, TFLITE_FP32, ONNX_FP32, OPENVINO_FP32, KERAS_BF16,
                  OPENVINO_BF16, TFLITE_FP16, TFLITE_DYNAMIC, TFLITE_INT8, ONNX_INT8, tuned(ONNX_INT8),
                  OPENVINO_INT8, tuned(OPENVINO_INT8), INC_INT8, tuned(INC_INT8))
#: E_p bin edges (GeV) of the sampling-fraction summary (a figure's binning only)
SUMMARY_BINS_GEV = np.linspace(2.0, 500.0, 11)


def artefact_names(root: str | os.PathLike, *, require: str | None = KERAS_FP32) -> list[str]:
    """Artefact folder names under ``root`` (those with a manifest), in :data:`ARTEFACT_ORDER`;
    FileNotFoundError naming the folder if ``require`` is missing."""
    root = Path(root)
    found = sorted(p.name for p in root.iterdir() if (p / "manifest.json").exists()) if root.exists() else []
    if require and require not in found:
        raise FileNotFoundError(f"{root / require}: no {require} artefact; run chapter 3 (03_quantization) first")
    return [k for k in ARTEFACT_ORDER if k in found] + [k for k in found if k not in ARTEFACT_ORDER]


def summarise(sample: PreparedSample, bins_gev: np.ndarray = SUMMARY_BINS_GEV) -> dict:
    """What the chapter's figures need (mean shapes, binned response, cell spectrum, features),
    so the showers can be dropped."""
    return {"shapes": {a: obs.normalised_profile_mean(sample.showers, a) for a in obs.AXES},
            "binned": obs.binned_response(sample.showers, sample.energies_gev, bins_gev),
            "spectrum": obs.cell_energy_spectrum(sample.showers), "features": sample.features}


@dataclass
class ArtefactValidation:
    """Result of :func:`validate_artefacts`; dicts are keyed by artefact name.

    ``vs_reference``/``vs_fp32``: :func:`validation.compare` results; ``same_as``: the first
    artefact with byte-identical showers (itself if none); ``max_diff``: largest cell difference
    to FP32 in GeV; ``skipped``: artefacts the CPU cannot run, with the reason."""

    names: list[str]
    backends: dict[str, str] = field(default_factory=dict)
    vs_reference: dict[str, dict] = field(default_factory=dict)
    vs_fp32: dict[str, dict] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    same_as: dict[str, str] = field(default_factory=dict)
    max_diff: dict[str, float] = field(default_factory=dict)
    identical_to_fp32: dict[str, bool] = field(default_factory=dict)
    summaries: dict[str, dict] = field(default_factory=dict)
    floor_fp32: dict | None = None

    @property
    def run(self) -> list[str]:
        """The artefacts that ran, in order."""
        return list(self.vs_reference)

    def with_own_showers(self) -> list[str]:
        """Keras FP32 and every artefact that ran, is not an FP32 export and whose showers are its own."""
        return [k for k in self.run if k == self.run[0] or (self.same_as[k] == k and not self.backends[k].endswith("fp32"))]


def validate_artefacts(paths: Mapping[str, str | os.PathLike], reference: PreparedSample, *, seed: int, n_bootstrap: int,
                       fp32: str | None = None, summaries: bool = False) -> ArtefactValidation:
    """Generate with every artefact (``paths``: name -> folder) for the reference's primary
    energies (latent seed ``seed``) and compare each with ``reference``; with ``fp32`` (the name
    of the FP32 artefact, which must come first) also with FP32's showers from the same latent
    vectors, and FP32 against FP32 from other latents (``floor_fp32``)."""
    names = list(paths)
    if fp32 is not None and (not names or names[0] != fp32):
        raise ValueError(f"the FP32 artefact {fp32!r} must come first in paths, got {names[:1]}")
    out = ArtefactValidation(names=names)
    energies = reference.energies_gev.astype(np.float32)
    digests, fp32_sample = {}, None
    for name in names:
        art = load_artefact(paths[name])
        out.backends[name] = art.backend
        try:
            showers = art.generate(energies, seed)
        except HardwareUnsupported as exc:
            out.skipped[name] = str(exc)
            continue
        sample = prepare(showers, reference.energies_gev)
        digests[name] = hashlib.sha256(np.ascontiguousarray(showers).tobytes()).hexdigest()
        if fp32 is not None and name == fp32:
            fp32_sample = sample
        elif fp32_sample is not None:
            out.identical_to_fp32[name] = bool(np.array_equal(showers, fp32_sample.showers))
            out.max_diff[name] = float(np.abs(showers - fp32_sample.showers).max())
            out.vs_fp32[name] = compare(sample, fp32_sample, seed=seed, n_bootstrap=n_bootstrap)
        out.vs_reference[name] = compare(sample, reference, seed=seed, n_bootstrap=n_bootstrap)
        if summaries:
            out.summaries[name] = summarise(sample)
        del sample, showers
    out.same_as = {k: next(j for j in out.run if digests[j] == digests[k]) for k in out.run}
    if fp32_sample is not None:
        other = prepare(load_artefact(paths[fp32]).generate(energies, seed + 1), reference.energies_gev)
        out.floor_fp32 = compare(other, fp32_sample, seed=seed, n_bootstrap=n_bootstrap)
    return out
