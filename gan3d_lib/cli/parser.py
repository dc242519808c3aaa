"""The ``gan3d`` command line: each subcommand calls one library function."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import commands
from ..models.models import HEADS, LATENT_NORMS
from ..core.errors import HardwareUnsupported
from ..precision.backends import BACKEND_NAMES, BACKENDS, OPENVINO_INT8


#: our per-energy-bin loss terms (gan3d_lib.models.losses): --weight-<term> and what each compares
_BIN_TERMS = (
    ("profile", "mean longitudinal shape error (%%^2)"),
    ("hits", "squared relative error of mean hits"),
    ("transverse", "mean x and y shape error (%%^2)"),
    ("moments", "squared log ratio of mean x/y widths and first-layer share"),
    ("sf-spread", "squared log ratio of the relative E_cal spreads"),
    ("depth-spread", "squared log ratio of the spreads of the longitudinal barycentre and width"),
    ("cell-spectrum", "squared log ratio of the numbers of cells above 0.3, 1, 3 and 10 MeV"),
    ("transverse-log", "squared log ratio of the mean x and y shapes, halo and edge rows included"),
    ("profile-log", "squared log ratio of the mean longitudinal shapes, every layer alike"),
    ("layer-hits", "squared log ratio of the mean hits of each layer"),
    ("ranked-cells", "squared log ratio of the mean k-th largest cell energies, k < 2048"),
    ("rings", "squared log ratios of the mean energy and hits of each ring of cells around the beam axis"),
)


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
    s.add_argument("--cell-power", type=float, default=1.0,
                   help="D sees cell energies to this power, e.g. 0.5 (the study: 1, linear)")
    s.add_argument("--hits-softness", type=float, default=0.3,
                   help="width in ln(E_cell) of the sigmoid that counts a cell above 0.097 MeV in the hits terms")
    s.add_argument("--ring-count", type=int, default=13,
                   help="rings of cells around the beam axis in the rings term, the last taking every cell beyond "
                        "(default 13, stages 9-11; 18 gives the grid's corners their own)")
    for term, what in _BIN_TERMS:
        s.add_argument(f"--weight-{term}", type=float, default=0.0,
                       help=f"weight in G's loss of the per-energy-bin {what}, fake vs real (not in the study: 0)")
    s.add_argument("--select-epoch", choices=["val_score", "last"], default="val_score",
                   help="keep the generator of the epoch with the lowest validation score, or of the last epoch")
    s.add_argument("--generator-as-deployed", action="store_true",
                   help="G runs as deployed (BatchNorm moving statistics, no dropout) in both updates: fine-tuning")
    s.add_argument("--output-gradient-slope", type=float, default=0.0,
                   help="G's output ReLU passes a LeakyReLU gradient of this slope, so cells at 0 GeV still learn "
                   "(showers and weights unchanged; 0: plain ReLU)")
    s.add_argument("--weight-feature-critic", type=float, default=0.0,
                   help="> 0: D gets a dense real/fake critic of each shower's resolution, hits and energy shares per ring "
                   "and per layer with its E_p; its BCE enters both losses with this weight")
    s.add_argument("--small-cell-head", action="store_true",
                   help="G gets a second output in ln(E_cell/MeV), added to its ReLU cells, so small cells keep a "
                   "gradient (Conv2D; a folder without it given to --init-generator starts it)")
    s.add_argument("--energy-scale-head", action="store_true",
                   help="G multiplies each shower's cells by one factor learned from its own E_cal/E_p (Conv2D; a "
                   "folder without it given to --init-generator starts it at the identity)")
    s.add_argument("--depth-fluctuation-head", action="store_true",
                   help="G shifts and stretches each shower in depth by amounts drawn from its latent, with learned "
                   "spreads (Conv2D; a folder without it given to --init-generator starts it near the identity)")
    s.add_argument("--train-only-heads", nargs="+", choices=list(HEADS), default=[],
                   help="train only these heads of G; its other weights stay as --init-generator left them")
    s.add_argument("--latent-norm", choices=LATENT_NORMS, default="normal",
                   help="training latents: 'normal' (the study's E_p/100 x N(0,1)^200, length carries E_p to 5%%) or "
                   "'sphere' (same direction at length sqrt(200): exact E_p, as generated at inference)")
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
    s.set_defaults(func=commands.train)

    s = sub.add_parser("quantize", help="write a reduced-precision artefact of a generator (one backend)")
    s.add_argument("--weights", help="training folder or .weights.h5 (default: an untrained generator)")
    s.add_argument("--model", choices=["conv2d", "conv3d"], default="conv2d", help="for untrained generators")
    s.add_argument("--size", default="lite", help="for untrained generators: lite or paper")
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

    args = p.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError, HardwareUnsupported) as exc:
        print(f"gan3d {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
