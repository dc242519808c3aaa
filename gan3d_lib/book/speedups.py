"""The speed-up table: the study's speed claims beside ratios of this machine's measurements."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..speed.bench import paired_ratio, ratio
from .claims import claim
from ..precision.backends import (INC_INT8, KERAS_BF16, KERAS_FP32, ONNX_FP32, ONNX_INT8, OPENVINO_BF16, OPENVINO_FP32,
                                  OPENVINO_INT8, TFLITE_DYNAMIC, TFLITE_FP16, TFLITE_FP32,
                                  TFLITE_INT8, TF_GRAPH_FP32, tuned)

__all__ = ["PRECISION_COMPARISONS", "search_gate", "speedup_table", "export_difference", "conv2d_over_conv3d"]


#: (row label, numerator backend, denominator backend, the study's claim or None)
# The study's 1.8x was its accuracy-tuned INT8: it stands beside the gated (searched) INC INT8.
PRECISION_COMPARISONS = (
    ("INC INT8 searched against the gate vs FP32 graph", tuned(INC_INT8), TF_GRAPH_FP32, claim("int8_speedup").value),
    ("INC INT8, all ops vs FP32 graph", INC_INT8, TF_GRAPH_FP32, None),
    ("ONNX Runtime INT8 searched against the gate vs FP32", tuned(ONNX_INT8), ONNX_FP32, None),
    ("OpenVINO INT8 searched against the gate vs TF FP32 graph", tuned(OPENVINO_INT8), TF_GRAPH_FP32, None),
    ("OpenVINO INT8, all ops vs OpenVINO FP32", OPENVINO_INT8, OPENVINO_FP32, None),
    ("OpenVINO BF16 vs OpenVINO FP32", OPENVINO_BF16, OPENVINO_FP32, None),
    ("OpenVINO FP32 vs TF FP32 graph", OPENVINO_FP32, TF_GRAPH_FP32, None),
    ("ONNX Runtime INT8 vs FP32", ONNX_INT8, ONNX_FP32, None),
    ("TFLite INT8 vs FP32", TFLITE_INT8, TFLITE_FP32, None),
    ("TFLite dynamic-range INT8 vs FP32", TFLITE_DYNAMIC, TFLITE_FP32, None),
    ("TFLite FP16 vs FP32", TFLITE_FP16, TFLITE_FP32, None),
    ("BF16 vs FP32 (Keras)", KERAS_BF16, KERAS_FP32, None),
)


def _manifest(artefact: str | os.PathLike) -> dict:
    """The artefact's manifest.json as read, {} where there is none (runs of other tools)."""
    path = Path(artefact) / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _float_layers_note(artefact: str | os.PathLike) -> str:
    """' (layers outside INT8 in BF16)' for an INT8 artefact whose other layers compute in BF16."""
    if _manifest(artefact).get("settings", {}).get("float_precision") == "bf16":
        return " (layers outside INT8 in BF16)"
    return ""


def search_gate(artefact: str | os.PathLike) -> str:
    """The physics gate's verdict recorded by an INT8 search in the artefact's manifest: 'passed',
    'failed: <first failure>', or '' for an artefact no search gated (its verdict is chapter 3's)."""
    gate = _manifest(artefact).get("gate")
    if not gate:
        return ""
    return "passed" if gate["passed"] else f"failed: {gate.get('first_failure') or 'see its manifest'}"


def speedup_table(sweep: Sequence[dict], stream_runs: Sequence[dict], *, mc_rate: float, geant4_rate: float,
                  conv3d: str | os.PathLike, cores: int) -> list[dict]:
    """The study's speed claims beside ratios of these measurements (rows: key, claim, setting,
    size, batch_size, paper, ours; ``ours`` is None where a runtime was skipped; precision rows add
    ``gate``, the numerator's :func:`search_gate`). ``key``:
    'conv2d_vs_conv3d', 'precision' (with ``numerator``/``denominator`` backends), 'streams',
    'gan_vs_mc' or 'gan_vs_geant4'.

    ``sweep``: single-stream records of Conv2D artefact folders named by backend plus the
    paper-size Conv3D FP32 graph ``conv3d``; each precision ratio uses the largest batch of
    its size and the FP32 model of the same runtime. ``stream_runs``: records of one FP32
    artefact with 1 stream x ``cores`` threads and ``cores`` streams x 1 thread.
    ``mc_rate``, ``geant4_rate``: Monte Carlo and Geant4 showers/s on the same cores.
    """
    paths = {}
    for r in sweep:
        if r["model"] == "conv2d":
            paths.setdefault(str(r["size"]), {})[Path(r["artefact"]).name] = r["artefact"]
    batch = {size: max(r["batch_size"] for r in sweep if str(r["size"]) == size) for size in paths}
    rows = []
    if "paper" in paths and TF_GRAPH_FP32 in paths["paper"]:
        rows.append({"key": "conv2d_vs_conv3d", "claim": "Conv2D vs Conv3D generator, FP32",
                     "paper": claim("conv2d_vs_conv3d").value, "size": "paper", "batch_size": batch["paper"],
                     "setting": f"paper size, batch {batch['paper']}",
                     "ours": ratio(sweep, paths["paper"][TF_GRAPH_FP32], conv3d, batch["paper"])})
    for label, num, den, claimed in PRECISION_COMPARISONS:
        for size, named in paths.items():
            if num in named and den in named:
                rows.append({"key": "precision", "numerator": num, "denominator": den,
                             "claim": label.replace(" vs ", _float_layers_note(named[num]) + " vs ", 1),
                             "paper": claimed, "size": size, "batch_size": batch[size],
                             "setting": f"{size}, batch {batch[size]}",
                             "ours": ratio(sweep, named[num], named[den], batch[size]),
                             "gate": search_gate(named[num])})
    single = {r["batch_size"]: r for r in stream_runs if r["streams"] == 1 and r["threads_per_stream"] == cores}
    multi = {r["batch_size"]: r for r in stream_runs if r["streams"] == cores and r["threads_per_stream"] == 1}
    if cores > 1 and single and multi:
        best = max(single, key=lambda b: single[b]["showers_per_s"])
        for b in sorted({min(single), best}):
            rows.append({"key": "streams", "claim": f"{cores} streams vs 1 stream", "paper": claim("multi_stream").value,
                         "size": str(single[b]["size"]), "batch_size": b, "setting": f"{single[b]['size']} FP32, batch {b}",
                         "ours": paired_ratio(multi[b], single[b])})
    gan_best = max(r["showers_per_s"] for r in stream_runs if r["status"] == "ok")
    rows.append({"key": "gan_vs_mc", "claim": "GAN vs our Monte Carlo", "paper": None, "setting": f"best GAN run, {cores} cores",
                 "ours": gan_best / mc_rate})
    rows.append({"key": "gan_vs_geant4", "claim": "GAN vs Geant4 (external reference CPU time)",
                 "paper": claim("gan_vs_geant4_int8").value,
                 "setting": f"best GAN run, {cores} cores", "ours": gan_best / geant4_rate})
    return rows


def export_difference(artefact: str | os.PathLike, reference: str | os.PathLike) -> float | None:
    """Relative L1 difference of two artefacts' recorded reference showers (same latents, written
    with each artefact): sum |a - b| / sum |b|; None where either could not run when written."""
    import numpy as np

    from ..precision.artefacts import REFERENCE, load_manifest

    outs = []
    for path in (artefact, reference):
        if not load_manifest(path).get("reference_outputs_recorded", True):
            return None
        with np.load(Path(path) / REFERENCE, allow_pickle=False) as z:
            outs.append(z["showers"].astype(np.float64))
    return float(np.abs(outs[0] - outs[1]).sum() / max(np.abs(outs[1]).sum(), 1e-30))


def conv2d_over_conv3d(conv2d_root: str | os.PathLike, conv3d_root: str | os.PathLike, backends: Sequence[str],
                       batch_size: int, threads: Sequence[int], *, max_export_difference: float = 1e-3,
                       **timing: Any) -> list[dict]:
    """Rows (runtime, threads, ratio, note) of the Conv2D over the Conv3D generator's showers/s,
    each pair measured in interleaved rounds (:func:`bench.run_streams` with ``timing``) at
    ``batch_size``. A runtime whose export of either generator computes other showers than its
    TensorFlow graph (:func:`export_difference` above ``max_export_difference``) is not timed:
    ``ratio`` None and the difference in ``note``; None also where a runtime was skipped."""
    from ..speed.bench import run_streams

    notes = {}
    for b in backends:
        for root, name in ((conv2d_root, "Conv2D"), (conv3d_root, "Conv3D")):
            diff = export_difference(Path(root) / b, Path(root) / TF_GRAPH_FP32)
            if diff is not None and diff > max_export_difference:
                notes[b] = (f"its {name} export differs from the TensorFlow graph (relative L1 difference {diff:.2g}): "
                            "not timed")
    timed = [b for b in backends if b not in notes]
    rows = []
    for n in threads:
        pairs = [Path(conv2d_root) / b for b in timed] + [Path(conv3d_root) / b for b in timed]
        records = run_streams(pairs, [batch_size], threads=n, **timing) if timed else []
        for b in backends:
            r = None if b in notes else ratio(records, Path(conv2d_root) / b, Path(conv3d_root) / b, batch_size)
            rows.append({"runtime": b, "threads": n, "batch_size": batch_size, "ratio": r, "note": notes.get(b, "")})
    return rows
