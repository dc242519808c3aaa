"""Where an artefact's inference time goes: time per op type at one batch size.

Each runtime's own instrument, in a fresh process with the threads given:

* TensorFlow graphs (FP32 and INC INT8) and Keras: oneDNN's verbose mode
  (``ONEDNN_VERBOSE=profile_exec``), one line per executed primitive with its kind
  (convolution, deconvolution, inner product, reorder...), implementation (``brg_conv_fwd:
  avx512_core_amx``...), algorithm (``convolution_direct`` or ``convolution_winograd``) and
  time; the wall time not spent in oneDNN primitives is reported as "outside oneDNN"
  (TensorFlow's own kernels: activations, padding, transposes, batch norm...).
* ONNX Runtime: its built-in profiler (``SessionOptions.enable_profiling``), per node.
* OpenVINO: the compiled model's performance counters (``PERF_COUNT``), per node, with
  the kernel each ran (``exec_type``).
* TFLite offers no per-op profile through its Python API: reported as not offered.

Times are milliseconds per batch, averaged over ``runs`` batches after ``warmup`` ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["op_profile", "parse_onednn_verbose", "profile_table", "kernel_precision_ms", "PROFILE_METHODS"]

PROFILE_METHODS = {"keras": "onednn-verbose", "tf": "onednn-verbose", "inc": "onednn-verbose", "onnx": "onnxruntime-profiler",
                   "openvino": "openvino-perf-counters"}


def parse_onednn_verbose(lines: Sequence[str]) -> dict[str, dict]:
    """{primitive kind: {'ms': total time, 'count': executions, 'impls': {implementation: ms},
    'algorithms': {alg: count}}} from ``onednn_verbose,v1,primitive,exec,...`` lines."""
    out: dict[str, dict] = {}
    for line in lines:
        parts = line.strip().split(",")
        if len(parts) < 8 or parts[0] != "onednn_verbose" or parts[2] != "primitive" or parts[3] != "exec":
            continue
        kind, impl = parts[5], parts[6]
        try:
            ms = float(parts[-1])
        except ValueError:
            continue
        entry = out.setdefault(kind, {"ms": 0.0, "count": 0, "impls": {}, "algorithms": {}})
        entry["ms"] += ms
        entry["count"] += 1
        entry["impls"][impl] = entry["impls"].get(impl, 0.0) + ms
        for field in parts[8:-1]:
            if field.startswith("alg:"):
                alg = field[4:].split()[0]
                entry["algorithms"][alg] = entry["algorithms"].get(alg, 0) + 1
    return out


_CHILD = r"""
import json, os, sys, time
import numpy as np
from gan3d_lib.precision.artefacts import load_artefact
from gan3d_lib.models.models import latent_vectors
path, batch, runs, warmup, threads, method, out = sys.argv[1:8]
batch, runs, warmup, threads = int(batch), int(runs), int(warmup), int(threads)
art = load_artefact(path, threads=threads)
z = latent_vectors(np.full(batch, 100.0, np.float32), seed=1, latent_size=art.manifest["latent_size"])
result = {}
if method == "onednn-verbose":
    for _ in range(warmup):
        art.run_latent(z)
    print("GAN3D_PROFILE_START", flush=True)
    t0 = time.perf_counter()
    for _ in range(runs):
        art.run_latent(z)
    result["wall_ms"] = 1e3 * (time.perf_counter() - t0)
    print("GAN3D_PROFILE_END", flush=True)
elif method == "onnxruntime-profiler":
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    opts.enable_profiling = True
    opts.profile_file_prefix = os.path.join(os.path.dirname(out), "ort")
    sess = ort.InferenceSession(str(art.model_file), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    for _ in range(warmup):
        sess.run(None, {name: z})
    t0 = time.perf_counter()
    for _ in range(runs):
        sess.run(None, {name: z})
    result["wall_ms"] = 1e3 * (time.perf_counter() - t0)
    events = json.load(open(sess.end_profiling()))
    ops = {}
    n_runs = sum(1 for e in events if e.get("cat") == "Session" and e.get("name") == "model_run")
    keep = runs / max(n_runs, 1)  # share of the recorded runs that were timed (warm-up runs are recorded too)
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            op = e.get("args", {}).get("op_name", "?")
            ops[op] = ops.get(op, 0.0) + e["dur"] / 1e3 * keep
    result["ops"] = ops
elif method == "openvino-perf-counters":
    import openvino as ov
    from gan3d_lib.precision.artefacts import openvino_inference_precision
    config = {"INFERENCE_PRECISION_HINT": openvino_inference_precision(art.manifest), "PERF_COUNT": True,
              "INFERENCE_NUM_THREADS": threads}
    request = ov.Core().compile_model(str(art.model_file), "CPU", config).create_infer_request()
    for _ in range(warmup):
        request.infer([z])
    ops, kernels, wall = {}, {}, 0.0
    for _ in range(runs):
        t0 = time.perf_counter()
        request.infer([z])
        wall += time.perf_counter() - t0
        for info in request.profiling_info:
            ms = info.real_time.total_seconds() * 1e3
            ops[info.node_type] = ops.get(info.node_type, 0.0) + ms
            kernels[info.node_type] = kernels.get(info.node_type, {})
            kernels[info.node_type][info.exec_type] = kernels[info.node_type].get(info.exec_type, 0.0) + ms
    result.update(wall_ms=1e3 * wall, ops=ops, kernels=kernels)
json.dump(result, open(out, "w"))
"""


def op_profile(artefact: str | os.PathLike, batch_size: int, *, runs: int = 5, warmup: int = 2,
               threads: int | None = None, timeout_s: float = 600) -> dict:
    """Time per op type of one artefact at ``batch_size`` (see the module docstring).

    Returns {'artefact', 'backend', 'batch_size', 'threads', 'runs', 'method', 'wall_ms'
    (per batch), 'ops': [{'op', 'ms' (per batch), 'share' (of the wall time), 'detail'}]}
    sorted by time, or with 'skipped' (the reason) where the runtime offers no profile."""
    from ..precision.artefacts import load_manifest
    from ..precision.backends import BACKENDS

    path = Path(artefact)
    backend = load_manifest(path)["backend"]
    threads = threads or len(os.sched_getaffinity(0))
    method = PROFILE_METHODS.get(BACKENDS[backend].runtime)
    base = {"artefact": str(path), "backend": backend, "batch_size": batch_size, "threads": threads, "runs": runs,
            "method": method}
    if method is None:
        return {**base, "skipped": f"{backend}: the runtime offers no per-op profile through its Python API"}
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if method == "onednn-verbose":
        env["ONEDNN_VERBOSE"] = "profile_exec"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "profile.json"
        res = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(batch_size), str(runs), str(warmup),
                              str(threads), method, str(out)], env=env, capture_output=True, text=True, timeout=timeout_s)
        if res.returncode != 0 or not out.exists():
            raise RuntimeError(f"{path}: profiling failed ({method}): {res.stderr[-1500:]}")
        child = json.loads(out.read_text())
    wall = child["wall_ms"] / runs
    ops: list[dict] = []
    if method == "onednn-verbose":
        text = res.stdout
        timed = text.split("GAN3D_PROFILE_START", 1)[-1].split("GAN3D_PROFILE_END", 1)[0].splitlines()
        for kind, e in parse_onednn_verbose(timed).items():
            ops.append({"op": kind, "ms": e["ms"] / runs, "detail": {"implementations": e["impls"],
                                                                    "algorithms": e["algorithms"],
                                                                    "executions_per_batch": e["count"] / runs}})
        inside = sum(o["ms"] for o in ops)
        ops.append({"op": "outside oneDNN", "ms": max(wall - inside, 0.0), "detail": {}})
    else:
        kernels = child.get("kernels", {})
        ops = [{"op": op, "ms": ms / runs, "detail": {"kernels": kernels.get(op, {})}} for op, ms in child["ops"].items()]
    for o in ops:
        o["share"] = o["ms"] / wall if wall > 0 else None
    ops.sort(key=lambda o: -o["ms"])
    return {**base, "wall_ms": wall, "ops": ops}


def profile_table(profiles: Sequence[Mapping], *, top: int = 6) -> list[dict]:
    """Rows (artefact label, op, ms per batch, share of the wall time) of the ``top`` ops of each
    profile, the rest summed as 'other ops'; skipped profiles give one row with the reason."""
    rows = []
    for p in profiles:
        label = f"{Path(p['artefact']).parent.name}/{Path(p['artefact']).name} (batch {p['batch_size']})"
        if "skipped" in p:
            rows.append({"artefact": label, "op": "skipped: " + p["skipped"], "ms": None, "share": None})
            continue
        head, rest = p["ops"][:top], p["ops"][top:]
        rows += [{"artefact": label, "op": o["op"], "ms": o["ms"], "share": o["share"]} for o in head]
        if rest:
            ms = sum(o["ms"] for o in rest)
            rows.append({"artefact": label, "op": "other ops", "ms": ms, "share": ms / p["wall_ms"] if p["wall_ms"] else None})
    return rows


def kernel_precision_ms(profile: Mapping) -> dict[str, float]:
    """Milliseconds per batch by the precision of the kernel that ran (``{'I8': ms, 'FP32': ms,
    ...}``), from an OpenVINO profile's kernels: OpenVINO names a CPU kernel
    ``<implementation>_<precision>`` (``brgconv_avx512_amx_I8``, ``jit_avx512_FP32``); kernels
    without one (``undef``, memory-only nodes) are summed under 'none'."""
    if profile.get("method") != "openvino-perf-counters":
        raise ValueError(f"{profile.get('artefact')}: kernel precisions are read from OpenVINO profiles, "
                         f"not {profile.get('method')!r}")
    out: dict[str, float] = {}
    for o in profile["ops"]:
        for kernel, ms in o["detail"].get("kernels", {}).items():
            tail = kernel.rsplit("_", 1)[-1].upper() if "_" in kernel else ""
            key = tail if tail in {"I8", "U8", "I32", "FP32", "F32", "BF16", "FP16", "F16"} else "none"
            key = {"U8": "I8", "F32": "FP32", "F16": "FP16"}.get(key, key)
            out[key] = out.get(key, 0.0) + ms / profile["runs"]
    return out
