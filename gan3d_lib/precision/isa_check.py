"""Does an artefact compute the same when oneDNN's newest instructions are switched off?

oneDNN (inside TensorFlow, hence Neural Compressor's INT8 graphs, and inside OpenVINO) picks
its kernels for the newest instruction set the CPU has (AMX on recent Xeons) unless
``ONEDNN_MAX_CPU_ISA`` caps it. The cap is read once per process, so each setting runs in a
fresh child process: :func:`compare_isa` generates the same showers under each cap and
returns their total energy relative to the FP32 artefact's, and the throughput.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["DEFAULT", "compare_isa", "describe"]

DEFAULT = "default"  # no cap: oneDNN's own choice

_CHILD = """
import json, sys, time
import numpy as np
from gan3d_lib.precision.artefacts import HardwareUnsupported, load_artefact
from gan3d_lib.precision.quantization import calibration_latents
fp32_path, paths, n, batch, seconds = json.loads(sys.argv[1])
z = calibration_latents(n, seed=4242)
reference = load_artefact(fp32_path).generate_from_latent(z).sum(dtype=np.float64)
out = {}
for path in paths:
    try:
        art = load_artefact(path, threads=None)
        energy = art.generate_from_latent(z).sum(dtype=np.float64) / reference
        zb = z[:batch]
        art.run_latent(zb)
        t, k = time.perf_counter(), 0
        while time.perf_counter() - t < seconds or k < 2:
            art.run_latent(zb)
            k += 1
        out[path] = {"energy_ratio": float(energy), "showers_per_s": batch * k / (time.perf_counter() - t)}
    except HardwareUnsupported as exc:
        out[path] = {"skipped": str(exc)}
print(json.dumps(out))
"""


def compare_isa(artefacts: Sequence[str | os.PathLike], fp32: str | os.PathLike, *,
                isas: Sequence[str] = (DEFAULT, "AVX512_CORE_FP16"), n: int = 256, batch_size: int = 128,
                seconds: float = 2.0, timeout_s: float = 600.0) -> list[dict]:
    """One row per (artefact, ISA cap): total energy of ``n`` showers (fixed latents, E
    log-uniform in 2-500 GeV) over the ``fp32`` artefact's (run under the same cap), and
    showers/s at ``batch_size`` (all cores, one process, ``seconds`` timed)."""
    rows = []
    paths = [str(Path(a)) for a in artefacts]
    for isa in isas:
        env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
        if isa != DEFAULT:
            env["ONEDNN_MAX_CPU_ISA"] = isa
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        res = subprocess.run([sys.executable, "-c", _CHILD, json.dumps([str(fp32), paths, n, batch_size, seconds])],
                             capture_output=True, text=True, env=env, timeout=timeout_s)
        if res.returncode != 0:
            raise RuntimeError(f"ISA check under {isa} failed:\n" + "\n".join(res.stderr.strip().splitlines()[-10:]))
        got = json.loads(res.stdout.strip().splitlines()[-1])
        rows += [{"artefact": p, "isa": isa, **got[p]} for p in paths]
    return rows


def describe(rows: Sequence[dict], *, tolerance: float = 0.01) -> str:
    """Sentences from :func:`compare_isa` rows with two ISA settings (default first): for each
    artefact, whether its energy matches FP32's (within ``tolerance``) under each, and the
    throughput ratio between them."""
    by_path: dict[str, list[dict]] = {}
    for r in rows:
        by_path.setdefault(r["artefact"], []).append(r)
    lines = []
    for path, (a, b) in ((p, rs[:2]) for p, rs in by_path.items() if len(rs) >= 2):
        name = Path(path).name
        if "skipped" in a or "skipped" in b:
            lines.append(f"{name}: not run under one of the settings ({(a.get('skipped') or b.get('skipped'))}).")
            continue
        ok_a, ok_b = abs(a["energy_ratio"] - 1) <= tolerance, abs(b["energy_ratio"] - 1) <= tolerance
        speed = a["showers_per_s"] / b["showers_per_s"]
        energy = (f"{name} paints {a['energy_ratio']:.3f}x FP32's energy with oneDNN's {a['isa']} kernels and "
                  f"{b['energy_ratio']:.3f}x with the cap {b['isa']}")
        if ok_a and ok_b:
            verdict = "; both agree with FP32 within {:.0f} %".format(100 * tolerance)
        elif ok_b and not ok_a:
            verdict = (f"; only the capped run agrees with FP32 within {100 * tolerance:.0f} %, so the kernels above "
                       "the cap give a different result for this graph")
        elif ok_a and not ok_b:
            verdict = f"; only the uncapped run agrees with FP32 within {100 * tolerance:.0f} %"
        else:
            verdict = f"; neither agrees with FP32 within {100 * tolerance:.0f} %"
        lines.append(f"{energy}{verdict}. Uncapped it runs {speed:.2f}x the capped throughput.")
    return " ".join(lines)
