"""Stage 14 (lite), its widened copy and each epoch of the paper-size run against chapter 5's default
Monte Carlo sample (2 000 showers, seed 501) and the shipped-weights test's per-bin sample (seeds 92-94).

    python benchmarks/evaluate_paper_weights.py RUN_DIR OUT.json

RUN_DIR is the paper-size training folder with its checkpoints (``make weights-paper``)."""
import json
import sys
import time
from pathlib import Path

import numpy as np

from gan3d_lib.data import ShowerSimulator, ensure_mc_dataset, named_tuning, read_showers
from gan3d_lib.models import generate_showers, models
from gan3d_lib.physics import GENERATOR_GOALS, facts_by_energy_bin, goal_rows
from gan3d_lib.physics import observables as obs
from gan3d_lib.training import load_generator
from gan3d_lib.validation import validation


def paper_from(npz: Path, options: dict):
    """The paper-size generator of a training checkpoint's variables."""
    g = models.build_generator("conv2d", size="paper", **options)
    with np.load(npz) as z:
        for i, v in enumerate(g.variables):
            v.assign(z[f"g_{i}"])
    return g


def missed(rows: list[dict]) -> dict:
    return {f"{r['key']} {r['fact']}": round(r["deviation"], 4) if isinstance(r["deviation"], float) else r["deviation"]
            for r in rows if not r["met"]}


def main(run: Path, out_path: Path) -> None:
    lite = load_generator("data/weights/conv2d_lite_stage14")
    options = models.generator_options(lite)
    widened = models.build_generator("conv2d", size="paper", **options)
    models.widen_weights(lite, widened, seed=36)
    gens = {"stage 14 (lite)": lite, "widened (paper, no training)": widened}
    for ck in sorted((run / "checkpoints").glob("epoch_*")):
        gens[f"paper {ck.name}"] = paper_from(ck / "variables.npz", options)

    sim = ShowerSimulator(tuning=named_tuning("fitted"))
    mc_s, mc_e = read_showers(ensure_mc_dataset(Path("data/mc") / "ch5_eval_seed1_n2000.h5", 2000, seed=501,
                                                simulator=sim, progress=False))
    edges = obs.DEFAULT_ENERGY_BINS_GEV
    rng = np.random.default_rng(91)
    ge = np.concatenate([rng.uniform(lo, hi, 200) for lo, hi in zip(edges[:-1], edges[1:])]).astype(np.float32)
    sim0 = ShowerSimulator()
    goal_mc = np.concatenate([sim0.simulate_block(ge[i:i + 128].astype(float), np.random.default_rng(500 + i))
                              for i in range(0, len(ge), 128)])
    mc_facts = facts_by_energy_bin(goal_mc, ge)
    out = {}
    for name, g in gens.items():
        t0 = time.time()
        met = {}
        for seed in (92, 93, 94):
            rows = goal_rows(facts_by_energy_bin(generate_showers(g, ge, seed=seed), ge), mc_facts, GENERATOR_GOALS)
            met[seed] = [sum(r["met"] for r in rows), len(rows), missed(rows)]
        v = validation.validate(generate_showers(g, mc_e, seed=1), mc_e, mc_s, mc_e, seed=1, n_bootstrap=5)["bins"]["all"]
        out[name] = {"goals_met_seed92_93_94": met, **{k: v[k] for k in ("fpd", "fpd_err", "auc_high", "auc_high_err",
                                                                         "auc_low", "auc_low_err")},
                     "parameters": models.count_parameters(g)["total"]}
        print(name, json.dumps(out[name]), f"{time.time() - t0:.0f} s", flush=True)
    out_path.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
