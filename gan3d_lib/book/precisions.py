"""The reduced precisions the book compares: which backends, their FP32 counterparts, their
labels, and the rows of chapter 3's tables (sizes, MSE, searches, op counts, gate verdicts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..precision.artefacts import HardwareUnsupported
from ..precision.backends import (BACKENDS, BACKEND_NAMES, INC_INT8, KERAS_BF16, KERAS_FP32, ONNX_INT8,
                                  OPENVINO_ACCURACY_CONTROL, OPENVINO_BF16, OPENVINO_INT8,
                                  TFLITE_DYNAMIC, TFLITE_FP16, TFLITE_INT8,
                                  fp32_counterpart, tuned)

__all__ = ["WRITTEN_BACKENDS", "SIZE_BACKENDS", "GATE_CANDIDATES", "ISA_CHECK_BACKENDS", "LABELS",
           "fp32_counterpart", "gate_artefacts", "size_rows", "mse_rows", "search_rows", "fp32_layer_rows",
           "op_table_rows", "calibration_label"]

#: every artefact chapter 3 writes for the lite and the paper-size generator
WRITTEN_BACKENDS = BACKEND_NAMES
#: the artefacts whose size chapter 3 tabulates (Keras BF16 stores FP32 weights)
SIZE_BACKENDS = tuple(b for b in WRITTEN_BACKENDS if b != KERAS_BF16)
#: the reduced precisions the physics gate judges, all ops reduced
GATE_CANDIDATES = (KERAS_BF16, OPENVINO_BF16, TFLITE_FP16, TFLITE_DYNAMIC, TFLITE_INT8, ONNX_INT8,
                   OPENVINO_INT8, INC_INT8)
#: artefacts whose oneDNN kernels chapter 3 runs with and without an ISA cap
ISA_CHECK_BACKENDS = (INC_INT8, OPENVINO_INT8, OPENVINO_BF16, KERAS_BF16)
#: display labels, in the MSE table's order (the study's rows first)
_SEARCHED = {tuned(INC_INT8): "INC INT8, searched", tuned(ONNX_INT8): "ONNX Runtime INT8, searched",
             tuned(OPENVINO_INT8): "OpenVINO INT8, searched",
             OPENVINO_ACCURACY_CONTROL: "OpenVINO INT8, NNCF accuracy control"}
LABELS = {name: _SEARCHED[name] if name in _SEARCHED else BACKENDS[name].label
          for name in (KERAS_FP32, tuned(INC_INT8), INC_INT8, TFLITE_FP16, TFLITE_INT8, KERAS_BF16, tuned(ONNX_INT8),
                       ONNX_INT8, tuned(OPENVINO_INT8), OPENVINO_INT8, OPENVINO_ACCURACY_CONTROL, OPENVINO_BF16,
                       TFLITE_DYNAMIC)}


def gate_artefacts(artefacts: Mapping[str, Any], latents: Any, reference: Any) -> tuple[dict, dict[str, str]]:
    """({name: gate.GateResult}, {name: why not judged}) of each artefact's showers from the
    gate's ``latents`` against ``reference`` (:func:`gate.fp32_gate`)."""
    from ..precision.gate import precision_gate

    results, skipped = {}, {}
    for name, art in artefacts.items():
        try:
            results[name] = precision_gate(art.generate_from_latent(latents), reference)
        except HardwareUnsupported as exc:
            skipped[name] = str(exc)
    return results, skipped


def size_rows(lite: Mapping[str, Any], paper: Mapping[str, Any], backends: Sequence[str]) -> list[dict]:
    """Bytes on disk (kB) of each backend for the lite and the paper-size generator, and the
    paper-size FP32 counterpart's size over this one's."""
    return [{"backend": b, "lite_kb": lite[b].bytes_on_disk / 1e3, "paper_kb": paper[b].bytes_on_disk / 1e3,
             "paper_ratio": paper[fp32_counterpart(b)].bytes_on_disk / paper[b].bytes_on_disk} for b in backends]


def mse_rows(scores: Mapping[str, Mapping], skipped: Mapping[str, str], labels: Mapping[str, str] = LABELS) -> list[dict]:
    """The MSE table (:func:`evaluation.score_artefacts` scores): label, key, MSE, MSE over
    FP32's, SF over the Monte Carlo's and a note for what did not run (from the score's
    error, or ``skipped`` {backend: why} for searches that were not run)."""
    fp32 = scores[KERAS_FP32]["mse"]
    rows = []
    for key, label in labels.items():
        if key in scores:
            s = scores[key]
            rows.append({"label": label, "key": key, "mse": s["mse"],
                         "ratio": s["mse"] / fp32 if s["mse"] is not None else None,
                         "sf_ratio": s["sampling_fraction_ratio"],
                         "note": "not run: " + s["error"].split("; ")[-1] if s["error"] else ""})
        else:
            why = skipped.get(key.removesuffix("-tuned"), "not written in this run")
            rows.append({"label": label, "key": key, "mse": None, "ratio": None, "sf_ratio": None,
                         "note": "not run: " + why.split("; ")[-1]})
    return rows


def search_rows(searched: Mapping[str, Mapping]) -> list[dict]:
    """One row per :func:`int8_search.search_artefact` result: trials, budget, passing
    candidates, whether the chosen one passes, its FP32 layers and calibration, minutes."""
    return [{"backend": b, "trials": len(o["search"].trials), "budget": o["search"].budget_hit or "not reached",
             "passing": len(o["search"].timings), "passed": o["gate"].passed,
             "fp32_layers": len(o["artefact"].manifest["settings"]["fp32_ops"]),
             "calibration": calibration_label(o["artefact"].manifest["settings"]),
             "minutes": o["search"].seconds / 60} for b, o in searched.items()]


def calibration_label(settings: Mapping) -> str:
    """An INT8 artefact's calibration in words: method, weights, activations, energy buckets."""
    buckets = settings.get("energy_buckets") or []
    return ", ".join([settings["calibration"], "per-channel" if settings.get("per_channel", True) else "per-tensor",
                      "asymmetric activations" if settings.get("asymmetric_activations")
                      or settings.get("activation_type") == "uint8" else "symmetric activations",
                      f"{len(buckets) - 1} energy buckets" if buckets else "one model for all energies"]
                     + (["other layers BF16"] if settings.get("float_precision") == "bf16" else []))


def fp32_layer_rows(searched: Mapping[str, Mapping]) -> list[dict]:
    """The layers each chosen artefact keeps in FP32, with their measured sensitivity."""
    return [{"backend": b, "layer": layer, "sensitivity": o["search"].sensitivity.get(layer)}
            for b, o in searched.items() for layer in o["artefact"].manifest["settings"]["fp32_ops"]]


def op_table_rows(op_tables: Mapping[str, Mapping[str, Mapping[str, int]]]) -> list[dict]:
    """One row per op type: for each artefact 'int8 / fp32' op counts (blank where absent)."""
    op_types = sorted({op for t in op_tables.values() for op in t})
    return [{"op": op, **{name: (f"{t[op]['int8']} / {t[op]['fp32']}" if op in t else "") for name, t in op_tables.items()}}
            for op in op_types]
