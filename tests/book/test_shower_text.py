"""Chapter 2's sentences on the classifier taken apart."""

from __future__ import annotations

from gan3d_lib.book.shower_text import breakdown_text
from gan3d_lib.validation.auc_breakdown import FEATURE_GROUPS


def test_breakdown_text_branches_on_the_goal():
    groups = list(FEATURE_GROUPS)
    model = dict.fromkeys(groups, 0.99)
    floor = dict.fromkeys(groups, 0.52)
    above = breakdown_text(model, {**model, "hits": 0.8}, floor, goal=0.95)
    assert "still above the goal of 0.95" in above and "hits 0.800" in above and "at most 0.520" in above
    below = breakdown_text(model, dict.fromkeys(groups, 0.6), floor, goal=0.95)
    assert "below the goal of 0.95" in below and "still above" not in below
