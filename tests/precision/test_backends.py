"""The backend registry: one definition per backend, read by the loader, the writers, the
command line and the chapters; no other library file types a backend's name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gan3d_lib.precision import artefacts
from gan3d_lib.precision.backends import (BACKEND_NAMES, BACKENDS, INT8_BACKENDS, backend_of, backend_spec,
                                          fp32_counterpart, tuned)

LIB = Path(__file__).resolve().parents[2] / "gan3d_lib"


def test_each_backend_is_named_after_its_runtime_and_precision():
    for name, b in BACKENDS.items():
        assert b.name == name and name.startswith(("tf-graph" if b.runtime == "tf" else b.runtime) + "-")
        assert name.endswith(b.precision)
        assert b.runtime in artefacts._RUNNERS  # noqa: SLF001


def test_fp32_counterparts_are_fp32_artefacts_of_the_same_graph():
    for name, b in BACKENDS.items():
        assert BACKENDS[b.fp32].precision == "fp32"
        assert BACKENDS[b.fp32].runtime == ("tf" if b.runtime == "inc" else b.runtime)
    assert fp32_counterpart(tuned("onnx-int8")) == "onnx-fp32" and fp32_counterpart("inc-int8") == "tf-graph-fp32"


def test_int8_backends_are_those_with_a_calibration():
    assert set(INT8_BACKENDS) == {"inc-int8", "onnx-int8", "openvino-int8"}
    assert all(BACKENDS[b].int8 for b in INT8_BACKENDS) and BACKENDS["tflite-dynamic"].int8


def test_names_with_a_suffix_resolve_to_their_backend():
    assert backend_of("openvino-int8-accuracy-control").name == "openvino-int8"
    assert backend_of("tf-graph-fp32").name == "tf-graph-fp32" and backend_of("nothing") is None
    with pytest.raises(ValueError, match="unknown backend"):
        backend_spec("tflite-int4")


def test_the_command_line_help_lists_every_backend(capsys):
    from gan3d_lib.cli.parser import main

    with pytest.raises(SystemExit):
        main(["quantize", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert all(name in help_text for name in BACKEND_NAMES)


def test_a_backend_name_is_typed_in_one_library_file():
    pattern = re.compile("|".join(re.escape(n) for n in sorted(BACKEND_NAMES, key=len, reverse=True)))
    typed = {str(p.relative_to(LIB)) for p in LIB.rglob("*.py") if pattern.search(p.read_text())}
    assert typed == {"precision/backends.py"}
