"""The ``gan3d`` command line: each subcommand calls one library function."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from pathlib import Path

from . import commands
from ..models.models import SIZES
from ..training.train_config import TrainConfig
from ..core.errors import HardwareUnsupported
from ..precision.backends import BACKEND_NAMES, BACKENDS, OPENVINO_INT8


def _size(text: str) -> str | float:
    return text if text in SIZES else float(text)


def add_settings_flags(parser: argparse.ArgumentParser, settings: type) -> None:
    """One flag per field of the dataclass ``settings`` (``--lr-generator`` for ``lr_generator``), its
    type, choices and help read from the field: the default is written once, in the dataclass. A flag
    not given is absent from the namespace (so a recipe's value stands)."""
    hints = typing.get_type_hints(settings)
    for f in dataclasses.fields(settings):
        kind, meta = hints[f.name], f.metadata
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        options: dict = {"default": argparse.SUPPRESS, "help": f"{meta['help']} (default: {default})".replace("%", "%%")}
        if kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(kind) is list:
            options.update(nargs="*", type=typing.get_args(kind)[0], metavar="NAME")
        else:
            types = [t for t in typing.get_args(kind) or (kind,) if t is not type(None)]
            options["type"] = _size if set(types) == {str, float} else types[0]
        if "choices" in meta:
            options["choices"] = meta["choices"]
        parser.add_argument("--" + f.name.replace("_", "-"), **options)


def build_parser() -> argparse.ArgumentParser:
    """The ``gan3d`` parser; each subcommand's ``func`` runs it."""
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
    s.add_argument("--tuning", choices=["fitted", "first-fit", "start"], default="fitted",
                   help="Monte Carlo tuning: fitted to Geant4 (default), the first fit (what stages 4-12 trained on) "
                        "or the fit's start (what stages 1-3 trained on)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=commands.simulate)

    s = sub.add_parser("tune-mc", help="fit the Monte Carlo's tuning to the Geant4 shower facts (a few minutes)")
    s.add_argument("--rounds", type=int, default=2, help="alternations of the shape and response fits")
    s.add_argument("--depth-spread-only", action="store_true",
                   help="refit only the depth spread's scale and energy power, from the first fit (gan3d_lib.data.mc_tuning)")
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--out", type=Path, default=Path("data/mc_tuning.json"), help="fit record (JSON)")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    s.set_defaults(func=commands.tune_mc)

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
    s.set_defaults(func=commands.generate)

    s = sub.add_parser("inspect", help="validate shower files and print a summary per file")
    s.add_argument("paths", nargs="+", help="files or glob patterns")
    s.add_argument("--any-energy", action="store_true", help="accept primary energies outside 2-500 GeV")
    s.set_defaults(func=commands.inspect)

    s = sub.add_parser("bench-mc", help="Monte Carlo throughput in showers/s")
    s.add_argument("--n", type=int, default=4096)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--energy", type=float, nargs=2, default=[2.0, 500.0], metavar=("LOW", "HIGH"))
    s.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="process counts to measure")
    s.set_defaults(func=commands.bench_mc)

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
                   help="instead of throughput, time per op type of each artefact and batch (gan3d_lib.speed.profiles)")
    s.add_argument("--profile-runs", type=int, default=5, help="timed batches per profile")
    s.set_defaults(func=commands.bench)

    s = sub.add_parser("train", help="train a GAN (resumes from the last checkpoint in --out)",
                       description="Train a GAN: the settings of a recipe (--config), each overridden by its flag; "
                                   "the run's config.json records what ran.")
    s.add_argument("--config", type=Path, default=None,
                   help="recipe: a TOML file of TrainConfig settings (recipes/*.toml); flags override it")
    add_settings_flags(s, TrainConfig)
    s.add_argument("--data", required=True, help="training showers: file or glob (3DGAN layout)")
    s.add_argument("--validation", required=True, help="held-out showers for the per-epoch physics metric")
    s.add_argument("--max-in-memory-gb", type=float, default=2.0,
                   help="training cells (float32) above this size are streamed from disk by chunks")
    s.add_argument("--out", type=Path, required=True, help="output folder (checkpoints, history, weights)")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=commands.train)

    s = sub.add_parser("ablate", help="leave-one-out ablation: each arm of a plan trained from one start and judged",
                       description="Run the arms of an ablation plan (recipes/ablation/*.toml): each from the same "
                                   "start, same steps and seed, without one component; each judged by goals, FPD "
                                   "and classifier AUCs into OUT/ARM/evaluation.json (an arm already judged is kept).")
    s.add_argument("--plan", type=Path, required=True, help="ablation plan (TOML)")
    s.add_argument("--arms", nargs="+", default=None, help="run only these arms (default: all, in the plan's order)")
    s.add_argument("--data", required=True, help="training showers: file or glob (3DGAN layout)")
    s.add_argument("--validation", required=True, help="held-out showers for the per-epoch physics metric")
    s.add_argument("--out", type=Path, required=True, help="folder of the arms' records")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=commands.ablate)

    s = sub.add_parser("quantize", help="write a reduced-precision artefact of a generator (one backend)")
    s.add_argument("--weights", help="training folder or .weights.h5 (default: an untrained generator)")
    s.add_argument("--model", choices=["conv2d", "conv3d"], default="conv2d", help="for untrained generators")
    s.add_argument("--size", type=_size, default="lite", help="for untrained generators: lite, paper or a width multiplier")
    s.add_argument("--backend", required=True, help=", ".join(BACKEND_NAMES[:-1]) + f" or {BACKEND_NAMES[-1]}")
    s.add_argument("--out", type=Path, required=True, help="artefact folder to write")
    s.add_argument("--tune", action="store_true",
                   help="search for the fastest INT8 that passes the physics gate against FP32 (INT8 backends)")
    s.add_argument("--accuracy-control", action="store_true",
                   help=f"{OPENVINO_INT8} by nncf.quantize_with_accuracy_control, the physics gate as its metric")
    s.add_argument("--energy-buckets", default="",
                   help="without --tune: one INT8 model per primary-energy bucket, edges in GeV, e.g. 2,20,100,250,500")
    s.add_argument("--asymmetric-activations", action="store_true",
                   help="without --tune: INT8 activation ranges with a zero point ("
                   + ", ".join(name for name, b in BACKENDS.items() if b.asymmetric) + ")")
    s.add_argument("--float-precision", choices=("fp32", "bf16"), default="fp32",
                   help=f"without --tune: what {OPENVINO_INT8}'s layers outside INT8 compute in (bf16 where the CPU has it)")
    s.add_argument("--gate-n", type=int, default=1000, help="showers the physics gate compares (log-uniform E)")
    s.add_argument("--n-calibration", type=int, default=256, help="calibration latents (the search also tries 4x)")
    s.add_argument("--max-trials", type=int, default=45, help="search trials (accuracy control: iterations)")
    s.add_argument("--max-minutes", type=float, default=10.0, help="search budget in minutes")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--seed", type=int, default=1)
    s.set_defaults(func=commands.quantize)

    s = sub.add_parser("validate", help="physics validation of artefacts against Monte Carlo, with its MC-vs-MC floor")
    s.add_argument("--artefact", action="append", required=True, help="artefact folder (repeat for several)")
    s.add_argument("--reference", required=True, help="reference showers (3DGAN layout), e.g. held-out Monte Carlo")
    s.add_argument("--floor-reference", default=None,
                   help="independent reference showers for the floor (default: the --n showers after the first --n)")
    s.add_argument("--n", type=int, default=1000, help="reference showers; the artefacts generate for their energies")
    s.add_argument("--n-bootstrap", type=int, default=100, help="resamplings for the classifier errors")
    s.add_argument("--seed", type=int, default=1, help="latent vectors, data splits and resampling")
    s.add_argument("--out", type=Path, required=True, help="results JSON to write")
    s.set_defaults(func=commands.validate)

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
    s.set_defaults(func=commands.book)

    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gan3d`` command."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError, HardwareUnsupported) as exc:
        print(f"gan3d {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
