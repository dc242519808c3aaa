"""The search for the fastest INT8 generator that keeps the physics.

:func:`search` is backend-agnostic: it is given a way to judge a :class:`QuantConfig`
(quantize, generate, apply the physics gate of :mod:`gan3d_lib.precision.gate`) and a way to time a
list of passing configurations side by side. It runs in three phases:

1. **sensitivity**: every quantizable layer alone in INT8 (the rest FP32), judged by the
   gate's quick screen (no classifier); its worst gate ratio is the damage that layer does.
   Layers are measured within ``sensitivity_share`` of the budget, the most expensive
   first (most multiply-accumulates; without costs, from the output side). Layers go to
   FP32 in this order: those not measured (the cheapest first), then the measured ones by
   damage per multiply-accumulate, so that the INT8 layers are the expensive, harmless ones
   (without costs: by damage, then those not measured, output side first);
2. **candidates**: for each calibration setting of the space (energy buckets, activations,
   method, per-channel weights, calibration set size, bias correction, the precision of the
   layers left out of INT8), the k most
   sensitive layers kept in FP32, the smallest k that passes found by bisection (each
   probe: the quick screen, then the full gate if the screen passes; a candidate failing
   the screen cannot pass), k never above
   the smallest passing k of an earlier setting;
3. **timing**: the passing candidates, timed side by side at one batch size; the fastest wins.

Every trial is recorded (phase, config, gate numbers, seconds spent); a budget of trials
and minutes bounds phases 1-2. :func:`search_artefact` wires it to a backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..physics.observables import DEFAULT_ENERGY_BINS_GEV
from ..precision.quant_config import CALIBRATION_METHODS, QuantConfig
from ..precision.backends import BACKENDS, INT8_BACKENDS, OPENVINO_INT8

__all__ = ["default_space", "SearchResult", "search", "search_artefact", "search_backends", "transfer_searches",
           "map_layers", "transfer_config", "remove_stale_searches", "SEARCHABLE_BACKENDS"]

Judge = Callable[[QuantConfig, bool], Any]  # (config, full gate?) -> an object with .passed, .worst_ratio


def default_space(backend: str, n_calibration: int,
                  energy_buckets: Sequence[float] = DEFAULT_ENERGY_BINS_GEV, *, bf16: bool = False) -> list[dict[str, Any]]:
    """Calibration settings tried by the search, each varying one setting from the default
    (the first): one INT8 model per ``energy_buckets`` bucket (the generator's activations
    grow with the primary energy, about 50x from 2 to 500 GeV, so one range per tensor
    leaves a 2 GeV shower a few INT8 steps), asymmetric activations where offered (NNCF's
    recommendation for models with non-ReLU activations, as LeakyReLU here), the backend's first calibration method and
    per-channel weights. The variations: with ``bf16`` (OpenVINO on a CPU that computes
    BF16), the layers left out of INT8 in BF16 instead of FP32, tried first; every other calibration method, per-tensor
    weights, four times the calibration set (as many latents as given, ``n_calibration`` is
    the default's), one model for all energies, symmetric activations, and for OpenVINO no
    bias correction."""
    methods = CALIBRATION_METHODS[backend]
    base: dict[str, Any] = {"calibration": methods[0], "n_calibration": n_calibration,
                            "energy_buckets": tuple(float(e) for e in energy_buckets)}
    asymmetric_offered = BACKENDS[backend].asymmetric
    if asymmetric_offered:
        base["asymmetric_activations"] = True
    space: list[dict[str, Any]] = [base]
    if bf16 and BACKENDS[backend].bf16_rest:
        space.append({**base, "float_precision": "bf16"})
    space += [{**base, "calibration": m} for m in methods[1:]]
    space.append({**base, "per_channel": False})
    space.append({**base, "n_calibration": None})
    space.append({**base, "energy_buckets": ()})
    if asymmetric_offered:
        space.append({**base, "asymmetric_activations": False})
    if backend == OPENVINO_INT8:
        space.append({**base, "bias_correction": False})
    return space


@dataclass
class SearchResult:
    """``trials``: one dict per judged config; ``sensitivity``: {layer: worst gate ratio with
    only that layer in INT8}; ``ranking``: layers, most sensitive first; ``timings``: {trial:
    showers/s}; ``best``: the chosen trial's index or None if nothing passed; ``budget_hit``."""

    trials: list[dict] = field(default_factory=list)
    sensitivity: dict[str, float] = field(default_factory=dict)
    ranking: list[str] = field(default_factory=list)
    timings: dict[int, float] = field(default_factory=dict)
    best: int | None = None
    budget_hit: str | None = None
    seconds: float = 0.0

    @property
    def best_config(self) -> QuantConfig | None:
        return None if self.best is None else self.trials[self.best]["config_obj"]

    def to_dict(self) -> dict:
        trials = [{k: v for k, v in t.items() if k != "config_obj"} for t in self.trials]
        return {"trials": trials, "sensitivity": self.sensitivity, "ranking": self.ranking,
                "timings": {str(k): v for k, v in self.timings.items()}, "best": self.best,
                "budget_hit": self.budget_hit, "seconds": self.seconds}


def search(layers: Sequence[str], judge: Judge, time_configs: Callable[[list[QuantConfig]], list[float]], *,
           space: Sequence[dict[str, Any]], max_trials: int = 60, max_minutes: float = 20.0,
           sensitivity_share: float = 0.5, costs: Mapping[str, float] | None = None,
           progress: bool = True) -> SearchResult:
    """Run the three phases of the module docstring over ``layers`` (quantizable layers in
    graph order) and the calibration ``space``. ``judge(config, full)`` returns a gate result
    (``full=False``: the quick screen); ``time_configs(configs)`` returns showers/s of each;
    ``costs``: {layer: share of the multiply-accumulates} (None: all layers cost the same)."""
    res = SearchResult()
    t_start = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_trials, desc="INT8 search", unit="trial")

    def budget_left() -> bool:
        if len(res.trials) >= max_trials:
            res.budget_hit = res.budget_hit or f"{max_trials} trials"
        elif time.perf_counter() - t_start > 60 * max_minutes:
            res.budget_hit = res.budget_hit or f"{max_minutes:g} minutes"
        return res.budget_hit is None

    def sensitivity_budget_left() -> bool:
        return (budget_left() and len(res.trials) < sensitivity_share * max_trials
                and time.perf_counter() - t_start < 60 * sensitivity_share * max_minutes)

    def trial(phase: str, config: QuantConfig, full: bool) -> dict:
        t = time.perf_counter()
        g = judge(config, full)
        rec = {"trial": len(res.trials), "phase": phase, "config": config.to_dict(), "config_obj": config,
               "n_fp32_layers": len(config.fp32_ops), "full_gate": full, "passed": bool(g.passed),
               "worst_ratio": float(g.worst_ratio), "worst": list(getattr(g, "worst", ("", ""))),
               "first_failure": getattr(g, "first_failure", None), "seconds": time.perf_counter() - t}
        res.trials.append(rec)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(phase=phase, worst=f"{g.worst_ratio:.3g}")
        return rec

    base = QuantConfig(**{k: v for k, v in space[0].items()})
    all_int8 = trial("all INT8", base, True)
    # 1. sensitivity of each layer alone in INT8 within its share of the budget (see the
    #    module docstring for the order), then the ranking: which layers go to FP32 first
    order = sorted(layers, key=lambda x: -costs[x]) if costs else list(reversed(layers))
    for layer in order if not all_int8["passed"] else ():
        if not sensitivity_budget_left():
            break
        cfg = replace(base, fp32_ops=tuple(x for x in layers if x != layer))
        res.sensitivity[layer] = trial("sensitivity", cfg, False)["worst_ratio"]
    unmeasured = [x for x in reversed(order) if x not in res.sensitivity]
    if costs:  # the cheapest unmeasured first, then the most damage per multiply-accumulate
        res.ranking = unmeasured + sorted(res.sensitivity, key=lambda x: -res.sensitivity[x] / max(costs[x], 1e-12))
    else:
        res.ranking = sorted(res.sensitivity, key=lambda x: -res.sensitivity[x]) + unmeasured[::-1]
    # 2. candidates: the k most sensitive layers in FP32, per calibration setting; the
    #    smallest passing k by bisection (keeping more layers in FP32 is assumed never to
    #    hurt), below the smallest k passing with an earlier setting
    passing = [all_int8] if all_int8["passed"] else []
    k_max = 0 if all_int8["passed"] else len(layers) - 1
    for s_index, setting in enumerate(space):
        outcome: dict[int, dict | None] = {}

        def passes(k: int) -> bool:
            if k not in outcome:
                cfg = replace(base, **setting, fp32_ops=tuple(res.ranking[:k]))
                quick = trial(f"setting {s_index}", cfg, False)
                outcome[k] = trial(f"setting {s_index}", cfg, True) if quick["passed"] else None
                outcome[k] = outcome[k] if outcome[k] is not None and outcome[k]["passed"] else None
            return outcome[k] is not None

        lo, hi = (0 if s_index else 1), k_max
        if lo > hi or not budget_left() or not passes(hi):
            if res.budget_hit:
                break
            continue
        while lo < hi and budget_left():
            mid = (lo + hi) // 2
            if passes(mid):
                hi = mid
            else:
                lo = mid + 1
        passing.append(outcome[hi])
        k_max = min(k_max, hi)
        if res.budget_hit:
            break
    # 3. time the passing candidates side by side
    if bar is not None:
        bar.close()
    if passing:
        rates = time_configs([p["config_obj"] for p in passing])
        res.timings = {p["trial"]: float(r) for p, r in zip(passing, rates)}
        res.best = max(res.timings, key=res.timings.get)
    res.seconds = time.perf_counter() - t_start
    return res


def map_layers(layers_from: Sequence[str], layers_to: Sequence[str], chosen: Sequence[str]) -> tuple[str, ...]:
    """The layers of ``layers_to`` at the positions ``chosen`` has in ``layers_from``: one
    architecture at two widths (lite, paper) has the same quantizable layers in the same
    graph order, under other automatic names."""
    if len(layers_from) != len(layers_to):
        raise ValueError(f"the two graphs have {len(layers_from)} and {len(layers_to)} quantizable layers; "
                         "not the same architecture")
    index = {name: i for i, name in enumerate(layers_from)}
    missing = [c for c in chosen if c not in index]
    if missing:
        raise ValueError(f"layers {missing} are not among the source graph's quantizable layers")
    return tuple(layers_to[index[c]] for c in chosen)


def transfer_config(settings: dict[str, Any], layers_from: Sequence[str], layers_to: Sequence[str]) -> QuantConfig:
    """The :class:`QuantConfig` recorded in an artefact's ``settings``, its FP32 layers moved to
    another width of the same architecture with :func:`map_layers`."""
    return replace(QuantConfig.from_dict(settings),
                   fp32_ops=map_layers(layers_from, layers_to, settings.get("fp32_ops", ())))


def search_artefact(backend: str, generator: Any, out: str | Path, gate_reference: Any, gate_latent: np.ndarray, *,
                    model: str, size: str | float, source: str, calibration: np.ndarray, n_calibration: int,
                    max_trials: int = 60, max_minutes: float = 20.0, timing_batch: int = 128,
                    timing_seconds: float = 1.0, timing_rounds: int = 3, progress: bool = True) -> dict:
    """:func:`search` for ``backend`` (one of :data:`~gan3d_lib.precision.backends.INT8_BACKENDS`) on a
    Keras ``generator``; candidates are judged by :func:`gate.precision_gate` against
    ``gate_reference`` on showers from ``gate_latent`` (the FP32 reference's latents) and
    timed with :func:`bench.run_streams` (one stream, all cores, ``timing_batch``, interleaved
    rounds). ``calibration`` holds at least 4x ``n_calibration`` latents (the space's larger
    set). Writes the chosen (or, if none passed, the least failing) artefact to ``out``,
    with the search record in its manifest; returns {'artefact', 'search', 'gate'}."""
    import tempfile

    from ..precision.artefacts import copy_artefact
    from .bench import run_streams
    from ..precision.gate import precision_gate
    from ..precision.openvino_artefacts import bf16_offered
    from ..precision.quantization import make_artefact, quantizable_layer_costs, quantizable_layers

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    layers = quantizable_layers(backend, generator)
    costs = quantizable_layer_costs(backend, generator, layers)
    space = default_space(backend, n_calibration, bf16=backend == OPENVINO_INT8 and bf16_offered())
    with tempfile.TemporaryDirectory(prefix=".search-", dir=out.parent) as scratch:
        built: dict[QuantConfig, Any] = {}
        gates: dict[tuple[QuantConfig, bool], Any] = {}
        last: dict[QuantConfig, np.ndarray] = {}  # the last config's showers: its quick and full gate follow each other

        def judge(cfg: QuantConfig, full: bool):
            if (cfg, full) not in gates:
                if cfg not in built:
                    built[cfg] = make_artefact(backend, generator, Path(scratch) / f"c{len(built):03d}", model=model,
                                               size=size, source=source, calibration=calibration, config=cfg)
                if cfg not in last:  # HardwareUnsupported propagates
                    last.clear()
                    last[cfg] = built[cfg].generate_from_latent(gate_latent)
                gates[(cfg, full)] = precision_gate(last[cfg], gate_reference, classifier=full)
            return gates[(cfg, full)]

        def time_configs(cfgs: list[QuantConfig]) -> list[float]:
            paths = [str(built[c].path) for c in cfgs]
            recs = run_streams(paths, [timing_batch], seconds=timing_seconds, rounds=timing_rounds)
            by_path = {r["artefact"]: r["showers_per_s"] for r in recs}
            return [by_path[p] for p in paths]

        # HardwareUnsupported (INC INT8 without AVX-512) propagates: nothing to search on this CPU
        result = search(layers, judge, time_configs, space=space, max_trials=max_trials, max_minutes=max_minutes,
                        costs=costs, progress=progress)
        chosen = result.best_config
        if chosen is None:  # nothing passed: keep the least failing full-gate candidate, marked as failing
            full = [t for t in result.trials if t["full_gate"]]
            chosen = min(full, key=lambda t: t["worst_ratio"])["config_obj"]
        gate = judge(chosen, True)
        record = {"search": result.to_dict(), "layers": layers, "costs": costs, "space": space, "timing_batch": timing_batch,
                  "chosen_config": chosen.to_dict(), "passed_gate": bool(gate.passed)}
        art = copy_artefact(built[chosen].path, out, extra={"int8_search": record, "gate": gate.to_dict()})
    return {"artefact": art, "search": result, "gate": gate, "layers": layers, "space": space}


def search_backends(backends: Sequence[str], generator: Any, root: str | Path, gate_reference: Any,
                    gate_latent: np.ndarray, **kwargs: Any) -> tuple[dict[str, dict], dict[str, str]]:
    """:func:`search_artefact` for each backend into ``root/<backend>-tuned``:
    ({backend: result}, {backend: why not run on this CPU})."""
    from ..precision.artefacts import HardwareUnsupported

    searched, skipped = {}, {}
    for backend in backends:
        try:
            searched[backend] = search_artefact(backend, generator, Path(root) / f"{backend}-tuned", gate_reference,
                                                gate_latent, **kwargs)
        except HardwareUnsupported as exc:
            skipped[backend] = str(exc)
    return searched, skipped


SEARCHABLE_BACKENDS = INT8_BACKENDS


def remove_stale_searches(root: str | Path, searched: Sequence[str]) -> list[Path]:
    """Delete ``root/<backend>-tuned`` of the searchable backends not in ``searched``: left by an
    earlier run with other settings, chapters 4 and 5 (which take every artefact folder they
    find) would report them as this run's. Returns the removed folders."""
    import shutil

    removed = []
    for backend in SEARCHABLE_BACKENDS:
        folder = Path(root) / f"{backend}-tuned"
        if backend not in searched and (folder / "manifest.json").exists():
            shutil.rmtree(folder)
            removed.append(folder)
    return removed


def transfer_searches(searched: Mapping[str, Mapping], generator: Any, root: str | Path, *, model: str, size: str | float,
                      source: str, calibration: np.ndarray) -> dict[str, Any]:
    """{'<backend>-tuned': artefact} for another ``generator`` (the paper-size one) keeping in
    FP32 the layers each search chose, mapped layer for layer (:func:`transfer_config`)."""
    from ..precision.quantization import make_artefact, quantizable_layers

    out = {}
    for backend, found in searched.items():
        cfg = transfer_config(found["artefact"].manifest["settings"], found["layers"], quantizable_layers(backend, generator))
        out[f"{backend}-tuned"] = make_artefact(backend, generator, Path(root) / f"{backend}-tuned", model=model, size=size,
                                                source=source, calibration=calibration, config=cfg,
                                                extra={"layout_from": str(found["artefact"].path)})
    return out
