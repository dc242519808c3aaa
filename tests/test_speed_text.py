"""Chapter 4's sentences: slower, faster and not-resolved branches, and no cause that the
records do not carry."""

from __future__ import annotations

import pytest

from gan3d_lib.speed_text import compare_sentence, conv3d_paragraph, int8_paragraph, noise_of

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
    rows = [{"claim": "INC INT8 gated by physics vs FP32 graph", "setting": "paper, batch 128", "ours": 1.9, "paper": 1.8},
            {"claim": "ONNX Runtime INT8 gated by physics vs FP32", "setting": "paper, batch 128", "ours": 1.01,
             "paper": None}]
    text = int8_paragraph(rows, {(rows[0]["claim"], rows[0]["setting"]): 0.05,
                                 (rows[1]["claim"], rows[1]["setting"]): 0.03}, int8_limit=4, vnni=True)
    assert text.count("The study quoted 1.8x") == 1
    assert "1.90x as fast as FP32 graph" in text and "faster." in text and "not resolved." in text
    assert not any(w in text.lower() for w in CAUSE_WORDS)
