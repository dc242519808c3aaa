"""Regenerate tests/reference/<notebook>.ci.json from a ci-preset run's results/.

Run after an intended change of results: `gan3d book --preset ci --no-build` then
`python tests/make_reference.py`. Review the diff before committing it.

Tolerances. A pinned value is seeded, so a rerun on the same stack repeats it; the slack is
for what legitimately differs between machines, and is derived as follows:
* "deterministic" (NumPy/SciPy on seeded Monte Carlo): 1e-3 relative, the size of libm/BLAS
  rounding differences accumulated over a chapter;
* "inference" (the shipped weights through TensorFlow/oneDNN, LiteRT, ONNX Runtime): 1 %,
  room for kernels that round differently on other instruction sets (AVX2, AVX-512, AMX);
* "int8_kernels" (LiteRT's INT8 kernels, which differ by instruction set): 10 %; measured, the
  tflite-int8 shower-shape MSE ratio of chapter 3 is 0.214 on an AVX-512 VNNI AMD EPYC and
  0.225 on an AVX2-only one (5 % apart);
* "count", "layer": exact, and within one layer;
* "spread" values carry their own absolute tolerance, three times the statistical spread the
  chapter itself measured for them (the bootstrap standard deviation stored beside the value
  as ``<key>_err``; at least 0.01): a change beyond that is more than the seed-to-seed fluctuation of the
  quantity, so it is a change of the code or the model, not of chance.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOLERANCES = {
    # Seeded and deterministic with the pinned stack; slack covers libm/BLAS differences between CPUs.
    "deterministic": {"rel": 1e-3, "abs": 1e-9},
    "count": {"rel": 0.0, "abs": 0.0},
    "layer": {"rel": 0.0, "abs": 1.0},
    # Shipped weights, fixed latent seeds; oneDNN kernels may round differently on other CPUs.
    "inference": {"rel": 0.01, "abs": 0.0},
    # INT8 kernels of other instruction sets compute other showers (see the module docstring).
    "int8_kernels": {"rel": 0.10, "abs": 0.0},
}
SPREAD_MULTIPLE = 3.0
SPREAD_MIN_ABS = 0.01  # an AUC of 1.000 has no bootstrap spread; 0.01 is the resolution quoted for it
#: Where a list of records is addressed, the part names the record by its "key", "backend",
#: "name", "label" or "energy_gev" (as %g), never by position: "mse_table.tflite-int8.ratio".
ID_FIELDS = ("key", "backend", "name", "label", "energy_gev")
KEYS = {
    "01_showers": {
        "sampling_fraction_mean": "deterministic",
        "shower_shape_mse_mc_vs_mc.all": "deterministic",
        **{f"geant4_comparison.rows.{e}.sampling_fraction_mc": "deterministic" for e in (10, 100, 500)},
        **{f"geant4_comparison.rows.{e}.cells_hit_mc": "deterministic" for e in (10, 100, 500)},
        **{f"geant4_comparison.rows.{e}.peak_layer_mc": "layer" for e in (10, 100, 500)},
        **{f"shower_facts.monte_carlo.{e}.{k}": "deterministic" for e in (10.0, 400.0)
           for k in ("x_width_cells", "core_3x3", "layer0_pct", "last_layer_pct", "hits")},
    },
    "02_training": {
        **{f"gan_vs_mc.rows.{e}.sampling_fraction_gan": "inference" for e in (10, 100, 400)},
        **{f"gan_vs_mc.rows.{e}.peak_layer_gan": "layer" for e in (10, 100, 400)},
        # the recipe from scratch and the shipped stage against the same Monte Carlo
        **{f"recipe.judged.{g}.fpd": "spread" for g in ("the recipe", "the shipped stage 14")},
    },
    "03_quantization": {
        "mc_floor_mse": "deterministic",
        "mse_table.keras-fp32.mse": "inference",
        # reduced precision against FP32: ratios of the shower-shape MSE and of the SF
        **{f"mse_table.{k}.{q}": "inference" for k in ("keras-bf16", "tflite-fp16") for q in ("ratio", "sf_ratio")},
        **{f"mse_table.tflite-int8.{q}": "int8_kernels" for q in ("ratio", "sf_ratio")},
        "sizes.keras-fp32.paper_kb": "deterministic",
        "sizes.tflite-int8.paper_ratio": "inference",
        "gate_all_ops.onnx-int8.passed": "count",
        "gate_all_ops.tflite-int8.passed": "count",
        "gate_all_ops.tflite-fp16.passed": "count",
        # the searched INT8 artefacts keep FP32's physics (ci searches these two backends)
        "gate_tuned.onnx-int8-tuned.passed": "count",
        "gate_tuned.openvino-int8-tuned.passed": "count",
    },
    "04_inference": {
        "macs_per_shower.conv2d_lite": "count",
        "macs_per_shower.conv2d_paper": "count",
        "macs_per_shower.conv3d_paper": "count",
    },
    "05_validation": {
        "against_mc.floor.bins.all.separation_power_mean": "deterministic",
        "against_mc.floor.bins.all.auc_high": "spread",
        "against_mc.keras-fp32.bins.all.auc_high": "spread",
        "against_mc.keras-fp32.bins.all.fpd": "inference",
        "against_mc.keras-fp32.bins.all.sampling_fraction_ratio": "inference",
        "against_fp32.tflite-int8.bins.all.separation_power.hits": "inference",
        "against_fp32.tflite-fp16.bins.all.sampling_fraction_ratio": "inference",
        "verdicts.onnx-int8-tuned.loses_physics": "count",
        "verdicts.openvino-int8-tuned.loses_physics": "count",
    },
    "06_claims": {
        "claims.memory_reduction.measured": "deterministic",
    },
}


def lookup(doc, dotted: str):
    """The value at ``dotted`` in a results document; list elements are named (see ID_FIELDS),
    and a dict key that itself holds a dot ("10.0") is matched whole."""
    parts = dotted.split(".")
    i = 0
    while i < len(parts):
        part = parts[i]
        if isinstance(doc, list):
            matches = [r for r in doc if any(
                f in r and (f"{r[f]:g}" if isinstance(r[f], float) else str(r[f])) == part for f in ID_FIELDS)]
            if len(matches) != 1:
                raise KeyError(f"{dotted}: {len(matches)} records named {part!r}")
            doc = matches[0]
        elif part not in doc and i + 1 < len(parts) and f"{part}.{parts[i + 1]}" in doc:
            doc, i = doc[f"{part}.{parts[i + 1]}"], i + 1
        else:
            doc = doc[part]
        i += 1
    return doc


def main() -> None:
    for stem, keys in KEYS.items():
        doc = json.loads((ROOT / "results" / f"{stem}.json").read_text())
        if doc["settings"]["preset"] != "ci":
            raise SystemExit(f"results/{stem}.json is from preset {doc['settings']['preset']!r}, need ci")
        values = {}
        for key, tol in keys.items():
            values[key] = {"value": lookup(doc["numbers"], key), "tolerance": tol}
            if tol == "spread":
                spread = lookup(doc["numbers"], f"{key}_err")
                values[key]["abs"] = max(SPREAD_MULTIPLE * spread, SPREAD_MIN_ABS)
                values[key]["spread"] = spread
        out = {"notebook": stem, "preset": "ci", "seed": doc["settings"].get("seed"), "tolerances": TOLERANCES,
               "values": values}
        path = ROOT / "tests" / "reference" / f"{stem}.ci.json"
        path.write_text(json.dumps(out, indent=2) + "\n")
        print(path)


if __name__ == "__main__":
    main()
