"""Validation of a set of artefacts (chapter 5 and `gan3d validate`): FP32 pairing, identical
showers, the status of each."""

from __future__ import annotations

import numpy as np
import pytest

from gan3d_lib.book.validation_tables import status_rows
from gan3d_lib.precision.artefact_validation import artefact_names, validate_artefacts
from gan3d_lib.data.mc import simulate_showers
from gan3d_lib.validation.validation import prepare


def test_artefact_names_need_the_fp32_artefact(tmp_path):
    with pytest.raises(FileNotFoundError, match="keras-fp32"):
        artefact_names(tmp_path)


def test_fp32_pairing_identical_exports_and_the_fp32_floor(tmp_path):
    pytest.importorskip("keras")
    from gan3d_lib.models.models import build_generator
    from gan3d_lib.precision.quantization import make_artefact

    gen = build_generator("conv2d", size=0.125, seed=11)
    paths = {}
    for backend in ("keras-fp32", "tf-graph-fp32"):
        paths[backend] = make_artefact(backend, gen, tmp_path / backend, model="conv2d", size=0.125, source="test").path
    paths["copy"] = paths["keras-fp32"]
    assert artefact_names(tmp_path) == ["keras-fp32", "tf-graph-fp32"]
    ref = prepare(*simulate_showers(60, seed=3))
    with pytest.raises(ValueError, match="must come first"):
        validate_artefacts({"tf-graph-fp32": paths["tf-graph-fp32"], "keras-fp32": paths["keras-fp32"]}, ref,
                           seed=1, n_bootstrap=5, fp32="keras-fp32")
    v = validate_artefacts(paths, ref, seed=1, n_bootstrap=5, fp32="keras-fp32")
    assert v.run == ["keras-fp32", "tf-graph-fp32", "copy"] and not v.skipped
    assert v.same_as["copy"] == "keras-fp32" and v.identical_to_fp32["copy"]
    assert v.max_diff["tf-graph-fp32"] < 1e-4 and set(v.vs_fp32) == {"tf-graph-fp32", "copy"}
    assert v.floor_fp32 is not None and np.isfinite(v.floor_fp32["bins"]["all"]["auc_high"])
    status = {r["name"]: r["status"] for r in status_rows(v)}
    assert status == {"keras-fp32": "FP32 reference", "tf-graph-fp32": status["tf-graph-fp32"],
                      "copy": "showers identical to keras-fp32"}
    assert v.with_own_showers() == ["keras-fp32"]
