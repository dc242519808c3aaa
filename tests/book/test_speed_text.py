"""Chapter 4's sentences: slower, faster and not-resolved branches, and no cause that the
records do not carry."""

from __future__ import annotations

import pytest

from gan3d_lib.book.speed_text import compare_sentence, conv3d_paragraph, int8_paragraph, noise_of

CAUSE_WORDS = ("because", "due to", "caused", "better tuned")


@pytest.mark.parametrize("ratio, second, outcome", [(0.58, 0.60, "slower."), (1.40, 1.35, "faster."),
                                                     (1.05, 0.93, "not resolved.")])
def test_conv3d_paragraph_branches(ratio, second, outcome):
    text = conv3d_paragraph(ratio, noise_of(ratio, second), macs_ratio=4.5, fraction_conv2d=0.4, fraction_conv3d=0.2,
                            setting="paper size, batch 128")
    first = text.split(". ")[0] + "."
    assert first.endswith(outcome), first
    assert not any(w in text.lower() for w in CAUSE_WORDS)
    assert "Hypothesis, not measured here" in text


def test_no_ratio_is_said_plainly():
    assert "was not measured here" in compare_sentence("INC INT8", "FP32", None, None, "lite, batch 128")


def test_int8_paragraph_quotes_the_study_only_where_it_has_a_value():
    rows = [{"claim": "INC INT8 searched against the gate vs FP32 graph", "setting": "paper, batch 128", "ours": 1.9,
             "paper": 1.8},
            {"claim": "ONNX Runtime INT8 searched against the gate vs FP32", "setting": "paper, batch 128", "ours": 1.01,
             "paper": None}]
    text = int8_paragraph(rows, {(rows[0]["claim"], rows[0]["setting"]): 0.05,
                                 (rows[1]["claim"], rows[1]["setting"]): 0.03}, int8_limit=4, vnni=True)
    assert text.count("The study quoted 1.8x") == 1
    assert "1.90x as fast as FP32 graph" in text and "faster." in text and "not resolved." in text
    assert not any(w in text.lower() for w in CAUSE_WORDS)
    assert "physics gate" not in text
    failed = [{**rows[1], "gate": "failed: hits failed in 2-20 GeV"}]
    text = int8_paragraph(failed, {}, int8_limit=4, vnni=True)
    assert "no configuration that passes the physics gate" in text and "hits failed in 2-20 GeV" in text


def _profile(wall, ops, algs=None):
    return {"batch_size": 16, "threads": 2, "wall_ms": wall,
            "ops": [{"op": op, "ms": ms, "detail": {"algorithms": algs or {}} if op == "convolution" else {}}
                    for op, ms in ops.items()]}


def test_profile_paragraph_names_the_largest_differences_and_winograd_only_if_logged():
    from gan3d_lib.book.speed_text import profile_paragraph

    a = _profile(10.0, {"convolution": 6.0, "outside oneDNN": 3.0, "reorder": 1.0}, {"convolution_direct": 8})
    b = _profile(20.0, {"convolution": 7.0, "outside oneDNN": 12.0, "reorder": 1.0}, {"convolution_winograd": 2})
    text = profile_paragraph(a, b, "Conv2D", "Conv3D")
    assert "Conv2D took 10 ms and Conv3D 20 ms" in text
    assert text.index("outside oneDNN, 3 ms against 12 ms") < text.index("convolution, 6 ms against 7 ms")
    assert "Winograd ran in Conv3D." in text
    plain = profile_paragraph(a, a, "x", "y")
    assert "None ran as Winograd." in plain and "because" not in plain
    assert "no per-op profile" in profile_paragraph({"skipped": "tflite"}, a, "lite", "y").lower()


def test_spread_sentence_counts_each_outcome():
    from gan3d_lib.book.speed_text import spread_sentence

    rows = [{"runtime": "tf", "threads": 1, "ratio": 0.5}, {"runtime": "onnx", "threads": 2, "ratio": 1.02},
            {"runtime": "openvino", "threads": 2, "ratio": 1.8}]
    text = spread_sentence(rows, noise=0.05)
    assert "0.50x (tf, 1 threads) to 1.80x (openvino, 2 threads)" in text
    assert "faster in 1, slower in 1, not resolved in 1" in text
    assert "no other runtime" in spread_sentence([])
