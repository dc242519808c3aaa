"""The INT8 search on a synthetic table of gate outcomes and speeds: it ranks layers by
sensitivity, finds the smallest FP32 set that passes per calibration setting, and returns
the fastest passing candidate."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gan3d_lib.speed.int8_search import map_layers, search
from gan3d_lib.precision.quant_config import QuantConfig

LAYERS = ["a", "b", "c", "d", "e"]
DAMAGE = {"a": 0.1, "b": 3.0, "c": 0.2, "d": 5.0, "e": 0.3}  # worst gate ratio with that layer alone in INT8
SPACE = [{"calibration": "minmax"}, {"calibration": "entropy"}, {"calibration": "minmax", "per_channel": False}]


@dataclass
class Verdict:
    passed: bool
    worst_ratio: float


def judge(cfg: QuantConfig, full: bool) -> Verdict:
    # entropy calibration divides every layer's damage by 0.15; the classifier (full gate) adds 0.3
    scale = 0.15 if cfg.calibration == "entropy" else 1.0
    worst = sum(scale * DAMAGE[x] for x in LAYERS if x not in cfg.fp32_ops) + (0.3 if full else 0.0)
    return Verdict(worst <= 1.0, worst)


def speeds(cfgs: list[QuantConfig]) -> list[float]:
    # fewer FP32 layers is faster; per-tensor weights are faster still
    return [100.0 - 10 * len(c.fp32_ops) + (5 if not c.per_channel else 0) for c in cfgs]


def test_search_ranks_layers_and_returns_the_fastest_passing_candidate():
    res = search(LAYERS, judge, speeds, space=SPACE, max_trials=100, progress=False)
    assert res.ranking == ["d", "b", "e", "c", "a"]
    assert res.sensitivity == DAMAGE
    passing = [res.trials[t] for t in res.timings]
    assert all(t["passed"] and t["full_gate"] for t in passing)
    # minmax passes with d and b in FP32 (0.6 + 0.3 <= 1), entropy with d alone (0.15 * 3.6 + 0.3),
    # per-tensor minmax is then tried with at most one layer in FP32 and fails
    best = res.best_config
    assert best.calibration == "entropy" and best.fp32_ops == ("d",)
    assert sorted(len(t["config"]["fp32_ops"]) for t in passing) == [1, 2]
    assert res.timings[res.best] == max(res.timings.values())
    assert res.budget_hit is None
    assert [t["phase"] for t in res.trials[:6]] == ["all INT8"] + ["sensitivity"] * 5


def test_search_stops_at_the_trial_budget_and_says_so():
    res = search(LAYERS, judge, speeds, space=SPACE, max_trials=4, progress=False)
    assert len(res.trials) == 4 and res.budget_hit == "4 trials"
    # half the budget ranked one layer; the first bisection probe (all but 'a' in FP32) passed
    assert res.best_config.fp32_ops == ("e", "d", "c", "b")
    res = search(LAYERS, judge, speeds, space=SPACE, max_trials=1, progress=False)
    assert len(res.trials) == 1 and res.best is None


def test_nothing_passes_gives_no_best():
    res = search(LAYERS, lambda cfg, full: Verdict(False, 9.0), speeds, space=SPACE, progress=False)
    assert res.best is None and res.timings == {}


def test_map_layers_by_graph_position():
    assert map_layers(["x1", "x2", "x3"], ["y1", "y2", "y3"], ["x3", "x1"]) == ("y3", "y1")
    with pytest.raises(ValueError, match="not the same architecture"):
        map_layers(["x1"], ["y1", "y2"], ["x1"])
    with pytest.raises(ValueError, match="not among"):
        map_layers(["x1"], ["y1"], ["z"])


def test_default_space_varies_one_setting_at_a_time_from_bucketed_calibration():
    from gan3d_lib.speed.int8_search import default_space

    for backend in ("onnx-int8", "openvino-int8", "inc-int8"):
        space = default_space(backend, 64, energy_buckets=(2, 20, 500))
        base = space[0]
        assert base["energy_buckets"] == (2.0, 20.0, 500.0) and base["n_calibration"] == 64
        assert base.get("asymmetric_activations", False) == (backend != "onnx-int8")
        for setting in space[1:]:
            changed = {k for k in set(base) | set(setting) if base.get(k) != setting.get(k)}
            assert len(changed) == 1, (backend, setting)
        assert any(s["energy_buckets"] == () for s in space)  # one model for all energies is tried too
        for setting in space:
            QuantConfig(**setting).check(backend)
        with_bf16 = default_space(backend, 64, energy_buckets=(2, 20, 500), bf16=True)
        if backend == "openvino-int8":  # the float layers in BF16: the first variation
            assert with_bf16[1] == {**base, "float_precision": "bf16"} and with_bf16[2:] == space[1:]
        else:
            assert with_bf16 == space


def test_sensitivity_takes_at_most_its_share_and_unmeasured_layers_rank_output_side_first():
    res = search(LAYERS, judge, speeds, space=SPACE, max_trials=10, sensitivity_share=0.5, progress=False)
    measured = [t for t in res.trials if t["phase"] == "sensitivity"]
    assert len(measured) == 4  # trials 1-4 of the 10: all INT8 is trial 0
    assert list(res.sensitivity) == ["e", "d", "c", "b"]  # from the output side
    assert res.ranking == ["d", "b", "e", "c", "a"]
    res = search(LAYERS, judge, speeds, space=SPACE, max_trials=4, sensitivity_share=0.5, progress=False)
    assert list(res.sensitivity) == ["e"] and res.ranking == ["e", "d", "c", "b", "a"]


def test_stale_searched_artefacts_of_unsearched_backends_are_removed(tmp_path):
    from gan3d_lib.speed.int8_search import remove_stale_searches

    for name in ("onnx-int8-tuned", "inc-int8-tuned", "inc-int8"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text("{}")
    removed = remove_stale_searches(tmp_path, ["onnx-int8"])
    assert removed == [tmp_path / "inc-int8-tuned"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inc-int8", "onnx-int8-tuned"]


def test_with_costs_the_int8_layers_are_the_expensive_harmless_ones():
    costs = {"a": 0.05, "b": 0.05, "c": 0.5, "d": 0.1, "e": 0.3}
    res = search(LAYERS, judge, speeds, space=SPACE[:1], max_trials=100, costs=costs, progress=False)
    assert list(res.sensitivity) == ["c", "e", "d", "a", "b"]  # the most expensive measured first
    # damage per cost: d 50, b 60, e 1, c 0.4, a 2 -> b, d, a, e, c
    assert res.ranking == ["b", "d", "a", "e", "c"]
    assert res.best_config.fp32_ops == ("b", "d")  # 0.1 + 0.2 + 0.3 + classifier 0.3 <= 1
    res = search(LAYERS, judge, speeds, space=SPACE[:1], max_trials=6, costs=costs, progress=False)
    assert list(res.sensitivity) == ["c", "e"] and res.ranking[:3] == ["b", "a", "d"]  # unmeasured: cheapest first
