"""Chapter 3's backend lists and table rows."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gan3d_lib.core.errors import HardwareUnsupported
from gan3d_lib.precision.backends import BACKENDS
from gan3d_lib.book.precisions import (GATE_CANDIDATES, LABELS, SIZE_BACKENDS, WRITTEN_BACKENDS, fp32_counterpart, gate_artefacts,
                                  mse_rows, op_table_rows, size_rows)


def test_lists_name_known_backends_and_every_fp32_counterpart_is_written():
    assert set(WRITTEN_BACKENDS) <= set(BACKENDS) and set(GATE_CANDIDATES) <= set(WRITTEN_BACKENDS)
    assert all(fp32_counterpart(b) in WRITTEN_BACKENDS for b in WRITTEN_BACKENDS)
    assert fp32_counterpart("inc-int8") == "tf-graph-fp32" and fp32_counterpart("keras-bf16") == "keras-fp32"
    assert "keras-bf16" not in SIZE_BACKENDS


def test_size_and_mse_rows():
    art = lambda n: SimpleNamespace(bytes_on_disk=n)  # noqa: E731
    lite = {"onnx-fp32": art(1000), "onnx-int8": art(400)}
    paper = {"onnx-fp32": art(8000), "onnx-int8": art(2000)}
    rows = size_rows(lite, paper, ["onnx-fp32", "onnx-int8"])
    assert rows[1] == {"backend": "onnx-int8", "lite_kb": 0.4, "paper_kb": 2.0, "paper_ratio": 4.0}
    scores = {"keras-fp32": {"mse": 2.0, "sampling_fraction_ratio": 1.0, "error": None},
              "tflite-int8": {"mse": 3.0, "sampling_fraction_ratio": 0.9, "error": None},
              "inc-int8": {"mse": None, "sampling_fraction_ratio": None, "error": "x; no AVX-512"}}
    table = {r["key"]: r for r in mse_rows(scores, {"inc-int8": "needs AVX-512"})}
    assert table["tflite-int8"]["ratio"] == 1.5 and table["inc-int8"]["note"] == "not run: no AVX-512"
    assert table["inc-int8-tuned"]["note"] == "not run: needs AVX-512" and list(table) == list(LABELS)


def test_gate_artefacts_reports_what_the_cpu_cannot_run():
    def refuse(z):
        raise HardwareUnsupported("no kernel")
    results, skipped = gate_artefacts({"x": SimpleNamespace(generate_from_latent=refuse)}, None, None)
    assert results == {} and skipped == {"x": "no kernel"}


def test_op_table_rows():
    rows = op_table_rows({"a": {"Conv": {"int8": 3, "fp32": 1}}, "b": {"Relu": {"int8": 0, "fp32": 2}}})
    assert rows == [{"op": "Conv", "a": "3 / 1", "b": ""}, {"op": "Relu", "a": "", "b": "0 / 2"}]


@pytest.mark.parametrize("backend", WRITTEN_BACKENDS)
def test_every_written_backend_has_a_label_or_is_fp32(backend):
    assert backend in LABELS or backend.endswith("fp32") or backend.startswith("tflite-fp32")


def test_calibration_label_names_every_setting():
    from gan3d_lib.book.precisions import calibration_label

    assert calibration_label({"calibration": "minmax", "per_channel": True, "asymmetric_activations": True,
                              "energy_buckets": [2, 20, 100, 250, 500]}) == \
        "minmax, per-channel, asymmetric activations, 4 energy buckets"
    assert calibration_label({"calibration": "kl", "per_channel": False, "energy_buckets": []}) == \
        "kl, per-tensor, symmetric activations, one model for all energies"
    assert calibration_label({"calibration": "minmax", "energy_buckets": [], "float_precision": "bf16"}).endswith(
        "one model for all energies, other layers BF16")
