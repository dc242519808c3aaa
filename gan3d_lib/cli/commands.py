"""What each ``gan3d`` subcommand does, given its parsed arguments (:mod:`gan3d_lib.cli.parser`
builds the parser): each calls the library and prints its result."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..precision.backends import INT8_BACKENDS, KERAS_FP32, OPENVINO_INT8

if TYPE_CHECKING:
    from ..training.train_config import TrainConfig


__all__ = ["simulate", "tune_mc", "generate", "inspect", "bench_mc", "bench_profile", "bench", "train", "quantize",
           "validate", "book"]


def simulate(args: argparse.Namespace) -> int:
    from ..data.datasets import simulate_to_files
    from ..data.mc import ShowerSimulator
    from ..data.mc_tuning import named_tuning

    sim = ShowerSimulator(tuning=named_tuning(args.tuning))
    paths = simulate_to_files(args.out, args.n, seed=args.seed, energy_range_gev=tuple(args.energy),
                              spectrum=args.spectrum, shard_size=args.shard_size, simulator=sim,
                              progress=not args.quiet)
    for p in paths:
        print(p)
    return 0


def tune_mc(args: argparse.Namespace) -> int:

    from ..core.atomic import atomic_file
    from ..data.mc_tuning import fit_depth_spread, fit_tuning

    def say(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    if args.depth_spread_only:
        fit = fit_depth_spread(seed=args.seed, progress=say)
        options = (("depth-spread-only", None), ("seed", args.seed), ("out", args.out))
    else:
        fit = fit_tuning(rounds=args.rounds, seed=args.seed, progress=say)
        options = (("rounds", args.rounds), ("seed", args.seed), ("out", args.out))
    doc = {"command": "gan3d tune-mc " + " ".join(f"--{k}" + ("" if v is None else f" {v}") for k, v in options),
           **fit.to_dict()}
    with atomic_file(args.out) as tmp:
        tmp.write_text(json.dumps(doc, indent=1))
    met = sum(r["met"] for r in fit.table)
    print(json.dumps({"out": str(args.out), "goals_met": met, "goals": len(fit.table), "tuning": doc["tuning"]}))
    return 0


def generate(args: argparse.Namespace) -> int:
    from ..speed.generation import generate_shards

    run = generate_shards(args.out, args.n, source=args.source, shard_size=args.shard_size, seed=args.seed,
                          energy_range_gev=tuple(args.energy), spectrum=args.spectrum, workers=args.workers,
                          scheduler=args.scheduler, progress=not args.quiet)
    print(json.dumps({"manifest": str(run.manifest_path), "n_showers": run.n_showers, "generated": len(run.generated),
                      "skipped": len(run.skipped), "seconds": round(run.seconds, 3)}))
    return 0


def inspect(args: argparse.Namespace) -> int:
    from ..physics.geometry import ENERGY_RANGE_GEV
    from ..data.io import expand_paths, inspect_shower_file, iter_shower_batches
    from ..physics.observables import sampling_fraction

    for path in expand_paths(args.paths):
        info = inspect_shower_file(path)
        e_min, e_max, sf_sum = float("inf"), float("-inf"), 0.0
        for showers, energies in iter_shower_batches(path, energy_range_gev=None if args.any_energy else ENERGY_RANGE_GEV):
            e_min, e_max = min(e_min, float(energies.min())), max(e_max, float(energies.max()))
            sf_sum += float(sampling_fraction(showers, energies).sum())
        print(json.dumps({"path": path, "n_showers": info.n_showers, "energy_key": info.energy_key,
                          "energy_gev_min": e_min, "energy_gev_max": e_max,
                          "sampling_fraction_mean": sf_sum / info.n_showers}))
    return 0


def bench_mc(args: argparse.Namespace) -> int:
    from ..core.results import machine_info
    from ..speed.throughput import mc_throughput

    m = machine_info()
    print(f"machine: {m['cpu_model']}, {m['usable_cores']} usable cores")
    for w in args.workers:
        r = mc_throughput(args.n, seed=args.seed, workers=w, energy_range_gev=tuple(args.energy))
        print(f"MC throughput: {r['showers_per_s']:.0f} showers/s with {w} process(es), "
              f"{args.n} showers, E uniform in {args.energy[0]:g}-{args.energy[1]:g} GeV")
    return 0


def bench_profile(args: argparse.Namespace) -> int:
    from ..speed.bench import parse_int_list
    from ..speed.profiles import op_profile, profile_table
    from ..core.results import write_results
    from ..core.tables import markdown_table

    profiles = [op_profile(a, b, threads=args.threads, runs=args.profile_runs)
                for a in args.artefacts for b in parse_int_list(args.batch)]
    print(markdown_table(profile_table(profiles), {"artefact": "artefact", "op": "op type", "ms": "ms per batch",
                                                   "share": "share of the time"}, {"ms": ".3g", "share": ".1%"}))
    if args.out:
        settings = {"artefacts": [str(a) for a in args.artefacts], "batch": args.batch, "threads": args.threads,
                    "runs": args.profile_runs}
        print(write_results(args.out, {"profiles": profiles}, settings=settings))
    return 0


def bench(args: argparse.Namespace) -> int:
    from ..speed.bench import parse_int_list, run_streams
    from ..core.results import machine_info, write_results

    m = machine_info()
    print(f"machine: {m['cpu_model']}, {m['usable_cores']} usable cores, AVX-512 VNNI {m['avx512_vnni']}, "
          f"BF16 {m['avx512_bf16']}")
    if args.profile:
        return bench_profile(args)
    records = []
    for n in parse_int_list(args.streams):
        for r in run_streams(args.artefacts, parse_int_list(args.batch), streams=n, threads=args.threads,
                             seconds=args.seconds, seed=args.seed, progress=not args.quiet):
            records.append(r)
            speed = (f"{r['showers_per_s']:9.1f} showers/s, p50 {r['latency_ms_p50']:.1f} ms, "
                     f"p99 {r['latency_ms_p99']:.1f} ms per batch" if r["status"] == "ok" else f"skipped: {r['reason']}")
            print(f"{r['artefact']} batch {r['batch_size']:4d}, {r['streams']} stream(s) x "
                  f"{r['threads_per_stream']} thread(s): {speed}", flush=True)
    if args.out:
        settings = {"artefacts": [str(a) for a in args.artefacts], "batch": args.batch, "streams": args.streams,
                    "threads": args.threads, "seconds": args.seconds, "seed": args.seed}
        print(write_results(args.out, {"records": records}, settings=settings))
    return 0


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` of ``gan3d train``: its defaults, then the recipe's (``--config``),
    then the flags given."""
    from ..training.train_config import TrainConfig, config_defaults, read_recipe

    settings = config_defaults()
    if args.config is not None:
        settings.update(read_recipe(args.config))
    settings.update({k: v for k, v in vars(args).items() if k in settings})
    return TrainConfig(**settings)


def train(args: argparse.Namespace) -> int:
    from ..training.training import train

    config = train_config(args)
    history = train(config, args.data, args.validation, args.out, progress=not args.quiet,
                    max_in_memory_gb=args.max_in_memory_gb)
    print(json.dumps({"epochs": len(history), "step": history[-1]["step"] if history else 0, "out": str(args.out)}))
    return 0


def ablate(args: argparse.Namespace) -> int:
    import functools
    import shlex

    from ..training.ablation import evaluation_sample, read_plan, run_arm

    plan = read_plan(args.plan)
    arms = args.arms or list(plan.arms)
    missing = [a for a in arms if a not in plan.arms]
    if missing:
        raise SystemExit(f"{args.plan}: no arms {missing} (it has {', '.join(plan.arms)})")
    mc_sample = functools.cache(lambda: evaluation_sample(plan.evaluation))
    for arm in arms:
        command = shlex.join(["gan3d", "ablate", "--plan", str(args.plan), "--arms", arm, "--data", str(args.data),
                              "--validation", str(args.validation), "--out", str(args.out)])
        ev = run_arm(plan, arm, args.data, args.validation, args.out, mc_sample, progress=not args.quiet,
                     command=command)
        print(json.dumps({"arm": arm, **{k: ev[k] for k in ("goals_met", "fpd", "auc_high", "auc_low")}}), flush=True)
    return 0


def quantize(args: argparse.Namespace) -> int:
    from ..precision.op_precision import op_precision_table
    from ..precision.quantization import calibration_latents, make_artefact
    from ..training.training import load_generator

    if args.weights is None:
        from ..models.models import build_generator

        size = args.size
        generator, model, source = build_generator(args.model, size=size, seed=args.seed), args.model, "untrained"
    else:
        generator = load_generator(args.weights)
        cfg = json.loads((Path(args.weights) / "config.json").read_text()) if Path(args.weights).is_dir() else {}
        model, size, source = cfg.get("model", args.model), cfg.get("size", args.size), str(args.weights)
    if args.tune or args.accuracy_control:
        if args.backend not in INT8_BACKENDS:
            raise ValueError(f"--tune needs an INT8 backend ({', '.join(INT8_BACKENDS)}), got {args.backend}")
        import tempfile

        from ..precision.gate import fp32_gate, precision_gate

        with tempfile.TemporaryDirectory(prefix="gan3d-fp32-") as d:
            fp32 = make_artefact(KERAS_FP32, generator, Path(d) / "fp32", model=model, size=size, source=source)
            ref, latent = fp32_gate(fp32.generate_from_latent, args.gate_n, seed=args.seed)
        calibration = calibration_latents(4 * args.n_calibration, seed=args.seed)
        if args.accuracy_control:
            if args.backend != OPENVINO_INT8:
                raise ValueError(f"--accuracy-control is NNCF's: it needs --backend {OPENVINO_INT8}")
            from ..precision.openvino_artefacts import accuracy_controlled_int8

            art, _ = accuracy_controlled_int8(generator, args.out, calibration[:args.n_calibration],
                                              lambda showers: precision_gate(showers, ref), latent, model=model,
                                              size=size, source=source, max_iterations=args.max_trials)
        else:
            from ..speed.int8_search import search_artefact

            result = search_artefact(args.backend, generator, args.out, ref, latent, model=model, size=size,
                                     source=source, calibration=calibration, n_calibration=args.n_calibration,
                                     max_trials=args.max_trials, max_minutes=args.max_minutes, progress=not args.quiet)
            art = result["artefact"]
            search = result["search"]
            print(json.dumps({"trials": len(search.trials), "passing": len(search.timings), "budget_hit": search.budget_hit,
                              "showers_per_s": {str(k): v for k, v in search.timings.items()}}))
        verdict = precision_gate(art.generate_from_latent(latent), ref)
        print(json.dumps({"gate_passed": verdict.passed, "worst_ratio": verdict.worst_ratio,
                          "first_failure": verdict.first_failure}))
    else:
        from ..precision.quant_config import QuantConfig

        config = QuantConfig(energy_buckets=tuple(float(e) for e in args.energy_buckets.split(",")) if args.energy_buckets
                             else (), asymmetric_activations=args.asymmetric_activations,
                             float_precision=args.float_precision)
        config.check(args.backend)
        art = make_artefact(args.backend, generator, args.out, model=model, size=size, source=source,
                            calibration=calibration_latents(args.n_calibration, seed=args.seed), config=config)
    print(json.dumps({"artefact": str(art.path), "backend": art.backend, "bytes": art.bytes_on_disk,
                      "runtime_precision": art.runtime_precision, "ops": op_precision_table(art)}))
    return 0


def validate(args: argparse.Namespace) -> int:
    from ..precision.artefact_validation import validate_artefacts
    from ..data.io import read_showers
    from ..core.results import write_results
    from ..validation.validation import monte_carlo_floor, prepare

    n = args.n
    showers, energies = read_showers(args.reference, max_showers=n if args.floor_reference else 2 * n)
    if args.floor_reference:
        twin = read_showers(args.floor_reference, max_showers=n)
    elif len(showers) < 2 * n:
        raise ValueError(f"{args.reference}: {len(showers)} showers; the Monte Carlo floor needs 2 x --n = {2 * n} "
                         "(or give --floor-reference)")
    else:
        twin, showers, energies = (showers[n:], energies[n:]), showers[:n], energies[:n]
    if len(showers) < n or len(twin[0]) < n:
        raise ValueError(f"asked for --n {n} showers, got {len(showers)} reference and {len(twin[0])} floor showers")
    ref = prepare(showers, energies)

    def summary(res: dict) -> dict:
        return {k: res["bins"]["all"][k] for k in ("auc_low", "auc_high", "fpd", "kpd", "separation_power_mean")}

    floor = monte_carlo_floor(ref, prepare(*twin), seed=args.seed, n_bootstrap=args.n_bootstrap)
    print(json.dumps({"floor": summary(floor)}))
    v = validate_artefacts({str(p): p for p in args.artefact}, ref, seed=args.seed, n_bootstrap=args.n_bootstrap)
    out = {"reference": str(args.reference), "floor": floor, "artefacts": {}}
    for path in v.names:
        if path in v.skipped:
            out["artefacts"][path] = {"backend": v.backends[path], "skipped": v.skipped[path]}
            print(json.dumps({"artefact": path, "skipped": v.skipped[path]}))
        else:
            out["artefacts"][path] = {"backend": v.backends[path], **v.vs_reference[path]}
            print(json.dumps({"artefact": path, **summary(v.vs_reference[path])}))
    write_results(args.out, out, settings={"n": n, "seed": args.seed, "n_bootstrap": args.n_bootstrap,
                                           "reference": str(args.reference), "floor_reference": args.floor_reference,
                                           "artefacts": [str(a) for a in args.artefact]})
    print(args.out)
    return 0


def book(args: argparse.Namespace) -> int:
    from ..book.runner import build_html, execute_all

    if args.onednn_max_cpu_isa:
        # every notebook kernel inherits it: oneDNN (TensorFlow, Neural Compressor, OpenVINO's
        # CPU plug-in) then dispatches no kernel above this ISA (e.g. no AMX)
        os.environ["ONEDNN_MAX_CPU_ISA"] = args.onednn_max_cpu_isa
    if not args.no_execute:
        execute_all(args.root, preset=args.preset, only=args.only, force=args.force, progress=not args.quiet)
    if not args.no_build:
        print(build_html(args.root))
    return 0
