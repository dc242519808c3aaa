"""Regenerate tests/reference/<notebook>.ci.json from a ci-preset run's results/.

Run after an intended change of results: `gan3d book --preset ci --no-build` then
`python tests/make_reference.py`. Review the diff before committing it.
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
    # A seeded classifier two-sample test between statistically equal samples: AUC near 0.5.
    "classifier": {"rel": 0.0, "abs": 0.05},
}
KEYS = {
    "01_showers": {
        "data.n_showers": "count",
        "sampling_fraction_mean": "deterministic",
        "shower_shape_mse_mc_vs_mc.all": "deterministic",
        **{f"geant4_comparison.rows.{i}.sampling_fraction_mc": "deterministic" for i in range(5)},
        **{f"geant4_comparison.rows.{i}.cells_hit_mc": "deterministic" for i in range(5)},
        **{f"geant4_comparison.rows.{i}.peak_layer_mc": "layer" for i in range(5)},
    },
    "02_training": {
        "architectures.1.g_params": "count",
        "architectures.3.g_params": "count",
        **{f"gan_vs_mc.rows.{i}.sampling_fraction_gan": "inference" for i in range(3)},
        **{f"gan_vs_mc.rows.{i}.peak_layer_gan": "layer" for i in range(3)},
    },
    "03_quantization": {
        "mc_floor_mse": "deterministic",
        "mse_table.0.mse": "inference",
        "sizes.0.paper_kb": "deterministic",
        "sizes.6.paper_ratio": "inference",
        "gate_settings.n": "count",
        "gate_all_ops.onnx-int8.passed": "count",
        "gate_all_ops.tflite-int8.passed": "count",
    },
    "04_inference": {
        "macs_per_shower.conv2d_lite": "count",
        "macs_per_shower.conv2d_paper": "count",
        "macs_per_shower.conv3d_paper": "count",
    },
    "05_validation": {
        "n_eval": "count",
        "against_mc.floor.bins.all.separation_power_mean": "deterministic",
        "against_mc.floor.bins.all.auc_high": "classifier",
        "against_mc.keras-fp32.bins.all.fpd": "inference",
        "against_fp32.tflite-int8.bins.all.separation_power.hits": "inference",
    },
}


def main() -> None:
    for stem, keys in KEYS.items():
        doc = json.loads((ROOT / "results" / f"{stem}.json").read_text())
        if doc["settings"]["preset"] != "ci":
            raise SystemExit(f"results/{stem}.json is from preset {doc['settings']['preset']!r}, need ci")
        values = {}
        for key, tol in keys.items():
            v = doc["numbers"]
            for part in key.split("."):
                v = v[int(part)] if isinstance(v, list) else v[part]
            values[key] = {"value": v, "tolerance": tol}
        out = {"notebook": stem, "preset": "ci", "seed": doc["settings"]["seed"], "tolerances": TOLERANCES,
               "values": values}
        path = ROOT / "tests" / "reference" / f"{stem}.ci.json"
        path.write_text(json.dumps(out, indent=2) + "\n")
        print(path)


if __name__ == "__main__":
    main()
