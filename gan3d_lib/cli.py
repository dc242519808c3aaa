"""The ``gan3d`` command line: each subcommand calls one library function."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .artefacts import HardwareUnsupported


def _simulate(args: argparse.Namespace) -> int:
    from .datasets import simulate_to_files
    from .mc import ShowerSimulator
    from .mc_tuning import START

    sim = ShowerSimulator(tuning=START) if args.tuning == "start" else ShowerSimulator()
    paths = simulate_to_files(args.out, args.n, seed=args.seed, energy_range_gev=tuple(args.energy),
                              spectrum=args.spectrum, shard_size=args.shard_size, simulator=sim,
                              progress=not args.quiet)
    for p in paths:
        print(p)
    return 0


def _tune_mc(args: argparse.Namespace) -> int:
    import sys

    from .atomic import atomic_file
    from .mc_tuning import fit_tuning

    def say(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    fit = fit_tuning(rounds=args.rounds, seed=args.seed, progress=say)
    doc = {"command": "gan3d tune-mc " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in
                                                   (("rounds", args.rounds), ("seed", args.seed), ("out", args.out))),
           **fit.to_dict()}
    with atomic_file(args.out) as tmp:
        tmp.write_text(json.dumps(doc, indent=1))
    met = sum(r["met"] for r in fit.table)
    print(json.dumps({"out": str(args.out), "goals_met": met, "goals": len(fit.table), "tuning": doc["tuning"]}))
    return 0


def _generate(args: argparse.Namespace) -> int:
    from .generation import generate_shards

    run = generate_shards(args.out, args.n, source=args.source, shard_size=args.shard_size, seed=args.seed,
                          energy_range_gev=tuple(args.energy), spectrum=args.spectrum, workers=args.workers,
                          scheduler=args.scheduler, progress=not args.quiet)
    print(json.dumps({"manifest": str(run.manifest_path), "n_showers": run.n_showers, "generated": len(run.generated),
                      "skipped": len(run.skipped), "seconds": round(run.seconds, 3)}))
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from .geometry import ENERGY_RANGE_GEV
    from .io import expand_paths, inspect_shower_file, iter_shower_batches
    from .observables import sampling_fraction

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


def _bench_mc(args: argparse.Namespace) -> int:
    from .results import machine_info
    from .throughput import mc_throughput

    m = machine_info()
    print(f"machine: {m['cpu_model']}, {m['usable_cores']} usable cores")
    for w in args.workers:
        r = mc_throughput(args.n, seed=args.seed, workers=w, energy_range_gev=tuple(args.energy))
        print(f"MC throughput: {r['showers_per_s']:.0f} showers/s with {w} process(es), "
              f"{args.n} showers, E uniform in {args.energy[0]:g}-{args.energy[1]:g} GeV")
    return 0


def _bench_profile(args: argparse.Namespace) -> int:
    from .bench import parse_int_list
    from .profiles import op_profile, profile_table
    from .results import write_results
    from .tables import markdown_table

    profiles = [op_profile(a, b, threads=args.threads, runs=args.profile_runs)
                for a in args.artefacts for b in parse_int_list(args.batch)]
    print(markdown_table(profile_table(profiles), {"artefact": "artefact", "op": "op type", "ms": "ms per batch",
                                                   "share": "share of the time"}, {"ms": ".3g", "share": ".1%"}))
    if args.out:
        settings = {"artefacts": [str(a) for a in args.artefacts], "batch": args.batch, "threads": args.threads,
                    "runs": args.profile_runs}
        print(write_results(args.out, {"profiles": profiles}, settings=settings))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from .bench import parse_int_list, run_streams
    from .results import machine_info, write_results

    m = machine_info()
    print(f"machine: {m['cpu_model']}, {m['usable_cores']} usable cores, AVX-512 VNNI {m['avx512_vnni']}, "
          f"BF16 {m['avx512_bf16']}")
    if args.profile:
        return _bench_profile(args)
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


def _train(args: argparse.Namespace) -> int:
    from .training import TrainConfig, train

    size = args.size if args.size in ("lite", "paper") else float(args.size)
    config = TrainConfig(model=args.model, size=size, epochs=args.epochs, batch_size=args.batch_size,
                         seed=args.seed, precision=args.precision, n_validation=args.n_validation,
                         max_steps_per_epoch=args.max_steps_per_epoch, lr_generator=args.lr_generator,
                         lr_discriminator=args.lr_discriminator, lr_decay=args.lr_decay,
                         lr_decay_start_epoch=args.lr_decay_start_epoch, init_generator=args.init_generator,
                         strategy=args.strategy, weight_ecal=args.weight_ecal, weight_depth=args.weight_depth,
                         weight_profile=args.weight_profile, cell_power=args.cell_power,
                         weight_hits=args.weight_hits, weight_transverse=args.weight_transverse,
                         weight_moments=args.weight_moments,
                         generator_as_deployed=args.generator_as_deployed, init_discriminator=args.init_discriminator)
    history = train(config, args.data, args.validation, args.out, progress=not args.quiet,
                    max_in_memory_gb=args.max_in_memory_gb)
    print(json.dumps({"epochs": len(history), "step": history[-1]["step"] if history else 0, "out": str(args.out)}))
    return 0


def _quantize(args: argparse.Namespace) -> int:
    from .op_precision import op_precision_table
    from .quantization import calibration_latents, make_artefact
    from .training import load_generator

    if args.weights is None:
        from .models import build_generator

        size = args.size if args.size in ("lite", "paper") else float(args.size)
        generator, model, source = build_generator(args.model, size=size, seed=args.seed), args.model, "untrained"
    else:
        generator = load_generator(args.weights)
        cfg = json.loads((Path(args.weights) / "config.json").read_text()) if Path(args.weights).is_dir() else {}
        model, size, source = cfg.get("model", args.model), cfg.get("size", args.size), str(args.weights)
    if args.tune or args.accuracy_control:
        if args.backend not in ("inc-int8", "onnx-int8", "openvino-int8"):
            raise ValueError(f"--tune needs an INT8 backend (inc-int8, onnx-int8, openvino-int8), got {args.backend}")
        import tempfile

        from .gate import fp32_gate, precision_gate

        with tempfile.TemporaryDirectory(prefix="gan3d-fp32-") as d:
            fp32 = make_artefact("keras-fp32", generator, Path(d) / "fp32", model=model, size=size, source=source)
            ref, latent = fp32_gate(fp32.generate_from_latent, args.gate_n, seed=args.seed)
        calibration = calibration_latents(4 * args.n_calibration, seed=args.seed)
        if args.accuracy_control:
            if args.backend != "openvino-int8":
                raise ValueError("--accuracy-control is NNCF's: it needs --backend openvino-int8")
            from .openvino_artefacts import accuracy_controlled_int8

            art, _ = accuracy_controlled_int8(generator, args.out, calibration[:args.n_calibration],
                                              lambda showers: precision_gate(showers, ref), latent, model=model,
                                              size=size, source=source, max_iterations=args.max_trials)
        else:
            from .int8_search import search_artefact

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
        art = make_artefact(args.backend, generator, args.out, model=model, size=size, source=source)
    print(json.dumps({"artefact": str(art.path), "backend": art.backend, "bytes": art.bytes_on_disk,
                      "runtime_precision": art.runtime_precision, "ops": op_precision_table(art)}))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .artefact_validation import validate_artefacts
    from .io import read_showers
    from .results import write_results
    from .validation import monte_carlo_floor, prepare

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


def _book(args: argparse.Namespace) -> int:
    from .book import build_html, execute_all

    if args.onednn_max_cpu_isa:
        # every notebook kernel inherits it: oneDNN (TensorFlow, Neural Compressor, OpenVINO's
        # CPU plug-in) then dispatches no kernel above this ISA (e.g. no AMX)
        os.environ["ONEDNN_MAX_CPU_ISA"] = args.onednn_max_cpu_isa
    if not args.no_execute:
        execute_all(args.root, preset=args.preset, only=args.only, force=args.force, progress=not args.quiet)
    if not args.no_build:
        print(build_html(args.root))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gan3d`` command."""
    p = argparse.ArgumentParser(prog="gan3d", description="Reproducible calorimeter GANs: data, book, benchmarks.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("simulate", help="run the GFlash Monte Carlo and write 3DGAN-layout HDF5")
    s.add_argument("--n", type=int, required=True, help="number of showers")
    s.add_argument("--energy", type=float, nargs=2, default=[2.0, 500.0], metavar=("LOW", "HIGH"),
                   help="primary energy range in GeV (default 2 500)")
    s.add_argument("--spectrum", choices=["uniform", "log-uniform"], default="uniform",
                   help="primary-energy distribution: flat in E (as the CERN files) or in log E")
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--out", type=Path, required=True, help="output .h5 (shards get _000, _001... suffixes)")
    s.add_argument("--shard-size", type=int, default=None, help="showers per file (default: one file)")
    s.add_argument("--tuning", choices=["fitted", "start"], default="fitted",
                   help="Monte Carlo tuning: fitted to Geant4 (default) or the fit's start (what stages 1-3 trained on)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_simulate)

    s = sub.add_parser("tune-mc", help="fit the Monte Carlo's tuning to the Geant4 shower facts (a few minutes)")
    s.add_argument("--rounds", type=int, default=2, help="alternations of the shape and response fits")
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--out", type=Path, default=Path("data/mc_tuning.json"), help="fit record (JSON)")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    s.set_defaults(func=_tune_mc)

    s = sub.add_parser("generate", help="generate showers in seeded shards on Dask (resumable, checksummed)")
    s.add_argument("--source", default="mc", help="'mc' (Monte Carlo) or a GAN artefact folder")
    s.add_argument("--n", type=int, required=True, help="number of showers")
    s.add_argument("--shard-size", type=int, default=10_000, help="showers per shard file")
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--energy", type=float, nargs=2, default=[2.0, 500.0], metavar=("LOW", "HIGH"),
                   help="primary energy range in GeV (default 2 500)")
    s.add_argument("--spectrum", choices=["uniform", "log-uniform"], default="uniform")
    s.add_argument("--out", type=Path, required=True, help="output folder: shard_00000.h5 ... and manifest.json")
    s.add_argument("--workers", type=int, default=2, help="local Dask worker processes (without --scheduler)")
    s.add_argument("--scheduler", default=None, help="Dask scheduler address (tcp://host:8786), or 'synchronous'")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_generate)

    s = sub.add_parser("inspect", help="validate shower files and print a summary per file")
    s.add_argument("paths", nargs="+", help="files or glob patterns")
    s.add_argument("--any-energy", action="store_true", help="accept primary energies outside 2-500 GeV")
    s.set_defaults(func=_inspect)

    s = sub.add_parser("bench-mc", help="Monte Carlo throughput in showers/s")
    s.add_argument("--n", type=int, default=4096)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--energy", type=float, nargs=2, default=[2.0, 500.0], metavar=("LOW", "HIGH"))
    s.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="process counts to measure")
    s.set_defaults(func=_bench_mc)

    s = sub.add_parser("bench", help="inference throughput and latency of artefacts (batch x streams sweep)")
    s.add_argument("--artefacts", nargs="+", required=True, help="artefact folders (see gan3d quantize)")
    s.add_argument("--batch", default="1,32,128", help="comma-separated batch sizes (default 1,32,128)")
    s.add_argument("--streams", default="1", help="comma-separated stream (process) counts, e.g. 1,2")
    s.add_argument("--threads", type=int, default=None, help="threads per stream (default: cores / streams)")
    s.add_argument("--seconds", type=float, default=2.0, help="timed seconds per point, after warm-up")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--out", type=Path, help="write the records as a results JSON")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--profile", action="store_true",
                   help="instead of throughput, time per op type of each artefact and batch (gan3d_lib.profiles)")
    s.add_argument("--profile-runs", type=int, default=5, help="timed batches per profile")
    s.set_defaults(func=_bench)

    s = sub.add_parser("train", help="train a GAN (resumes from the last checkpoint in --out)")
    s.add_argument("--model", choices=["conv2d", "conv3d"], default="conv2d")
    s.add_argument("--size", default="lite", help="lite, paper, or a width multiplier such as 0.5")
    s.add_argument("--epochs", type=int, default=30)
    s.add_argument("--batch-size", type=int, default=128)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--precision", choices=["float32", "mixed_bfloat16"], default="float32")
    s.add_argument("--lr-generator", type=float, default=5e-4, help="Adam learning rate of G (study: 5e-4)")
    s.add_argument("--lr-discriminator", type=float, default=1e-4, help="Adam learning rate of D (study: 1e-4)")
    s.add_argument("--lr-decay", type=float, default=0.0, help="learning rates x exp(-decay per epoch) ...")
    s.add_argument("--lr-decay-start-epoch", type=int, default=0, help="... from this 0-based epoch on")
    s.add_argument("--weight-ecal", type=float, default=0.1, help="weight of MAPE(E_cal) in G's loss (study: 0.1)")
    s.add_argument("--weight-depth", type=float, default=0.0,
                   help="weight of |barycentre - fit(E_p)| in layers in G's loss (not in the study: 0)")
    s.add_argument("--weight-profile", type=float, default=0.0,
                   help="weight of the per-energy-bin mean longitudinal shape error (%%^2) in G's loss (not in the study: 0)")
    s.add_argument("--cell-power", type=float, default=1.0,
                   help="D sees cell energies to this power, e.g. 0.5 (the study: 1, linear)")
    s.add_argument("--weight-hits", type=float, default=0.0,
                   help="weight of the per-energy-bin squared relative error of mean hits in G's loss (not in the study: 0)")
    s.add_argument("--weight-transverse", type=float, default=0.0,
                   help="weight of the per-energy-bin mean x and y shape error (%%^2) in G's loss (not in the study: 0)")
    s.add_argument("--weight-moments", type=float, default=0.0,
                   help="weight of the per-energy-bin squared log ratio of mean x/y widths and first-layer share "
                   "(not in the study: 0)")
    s.add_argument("--generator-as-deployed", action="store_true",
                   help="G runs as deployed (BatchNorm moving statistics, no dropout) in both updates: fine-tuning")
    s.add_argument("--init-discriminator", default=None,
                   help="start D from this checkpoint folder (out/checkpoints/epoch_NNNN) of the same model and size")
    s.add_argument("--init-generator", default=None,
                   help="start G from this training folder or .weights.h5 (a second, fine-tuning stage)")
    s.add_argument("--data", required=True, help="training showers: file or glob (3DGAN layout)")
    s.add_argument("--validation", required=True, help="held-out showers for the per-epoch physics metric")
    s.add_argument("--n-validation", type=int, default=512)
    s.add_argument("--max-in-memory-gb", type=float, default=2.0,
                   help="training cells (float32) above this size are streamed from disk by chunks")
    s.add_argument("--max-steps-per-epoch", type=int, default=None)
    s.add_argument("--strategy", choices=["default", "mirrored", "multi-worker"], default="default",
                   help="tf.distribute: one process, local GPUs (mirrored), or the TF_CONFIG cluster (multi-worker)")
    s.add_argument("--out", type=Path, required=True, help="output folder (checkpoints, history, weights)")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=_train)

    s = sub.add_parser("quantize", help="write a reduced-precision artefact of a generator (one backend)")
    s.add_argument("--weights", help="training folder or .weights.h5 (default: an untrained generator)")
    s.add_argument("--model", choices=["conv2d", "conv3d"], default="conv2d", help="for untrained generators")
    s.add_argument("--size", default="lite", help="for untrained generators: lite or paper")
    s.add_argument("--backend", required=True, help="keras-fp32, keras-bf16, tf-graph-fp32, inc-int8, tflite-fp32, "
                   "tflite-fp16, tflite-dynamic, tflite-int8, onnx-fp32, onnx-int8, openvino-fp32, openvino-bf16 "
                   "or openvino-int8")
    s.add_argument("--out", type=Path, required=True, help="artefact folder to write")
    s.add_argument("--tune", action="store_true",
                   help="search for the fastest INT8 that passes the physics gate against FP32 (INT8 backends)")
    s.add_argument("--accuracy-control", action="store_true",
                   help="openvino-int8 by nncf.quantize_with_accuracy_control, the physics gate as its metric")
    s.add_argument("--gate-n", type=int, default=1000, help="showers the physics gate compares (log-uniform E)")
    s.add_argument("--n-calibration", type=int, default=256, help="calibration latents (the search also tries 4x)")
    s.add_argument("--max-trials", type=int, default=45, help="search trials (accuracy control: iterations)")
    s.add_argument("--max-minutes", type=float, default=10.0, help="search budget in minutes")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--seed", type=int, default=1)
    s.set_defaults(func=_quantize)

    s = sub.add_parser("validate", help="physics validation of artefacts against Monte Carlo, with its MC-vs-MC floor")
    s.add_argument("--artefact", action="append", required=True, help="artefact folder (repeat for several)")
    s.add_argument("--reference", required=True, help="reference showers (3DGAN layout), e.g. held-out Monte Carlo")
    s.add_argument("--floor-reference", default=None,
                   help="independent reference showers for the floor (default: the --n showers after the first --n)")
    s.add_argument("--n", type=int, default=1000, help="reference showers; the artefacts generate for their energies")
    s.add_argument("--n-bootstrap", type=int, default=100, help="resamplings for the classifier errors")
    s.add_argument("--seed", type=int, default=1, help="latent vectors, data splits and resampling")
    s.add_argument("--out", type=Path, required=True, help="results JSON to write")
    s.set_defaults(func=_validate)

    s = sub.add_parser("book", help="execute every notebook with papermill and build the HTML book")
    s.add_argument("--root", type=Path, default=Path("."))
    s.add_argument("--preset", default="default", help="notebook size preset: ci or default")
    s.add_argument("--only", nargs="*", help="notebook stems to execute (default: all)")
    s.add_argument("--no-execute", action="store_true", help="build from already executed notebooks")
    s.add_argument("--no-build", action="store_true", help="execute only")
    s.add_argument("--force", action="store_true", help="re-execute every chapter, even those nothing changed for")
    s.add_argument("--quiet", action="store_true", help="no progress bar over the cells")
    s.add_argument("--onednn-max-cpu-isa", default=None,
                   help="run every chapter with ONEDNN_MAX_CPU_ISA set, e.g. AVX512_CORE_FP16 (no AMX; see chapter 3)")
    s.set_defaults(func=_book)

    args = p.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError, HardwareUnsupported) as exc:
        print(f"gan3d {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
