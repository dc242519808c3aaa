"""One interface over every precision: an artefact folder on disk -> ``generate(energies, seed)``.

An artefact is a folder holding ``manifest.json`` (backend, source generator, settings,
package versions), one model file (with its companions: OpenVINO's weights; the models of
further energy buckets, see :class:`~gan3d_lib.precision.quant_config.QuantConfig`)
and ``reference.npz`` (a few latent vectors and the
showers this artefact produced for them when it was written). The backends, their model
files and runtimes are :data:`~gan3d_lib.precision.backends.BACKENDS`:

=============  ===================================  =====================================
runtime        file                                 runs on
=============  ===================================  =====================================
``keras``      ``generator.weights.h5``             Keras, float32 or ``mixed_bfloat16``
``tf``         ``model.pb`` (frozen GraphDef)       TensorFlow
``inc``        ``model.pb`` (INT8 GraphDef)         TensorFlow + oneDNN INT8
``tflite``     ``model.tflite``                     LiteRT (``ai-edge-litert``)
``onnx``       ``model.onnx``                       ONNX Runtime
``openvino``   ``model.xml`` + ``model.bin``        OpenVINO, precision pinned
=============  ===================================  =====================================

A precision label is a claim to be checked: OpenVINO's CPU plugin runs a model in bfloat16
by default where the CPU has BF16, so each OpenVINO artefact pins its inference precision
(``f32``, ``bf16``; INT8 ops run around ``f32``) and the loaded artefact reports the one
the compiled model says it uses (:attr:`Artefact.runtime_precision`).

Loading parses weights, protocol buffers and flatbuffers only; nothing pickled is
executed (``np.load(..., allow_pickle=False)``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..core.atomic import atomic_dir
from ..core.errors import HardwareUnsupported
from .backends import BACKENDS, BACKEND_NAMES, KERAS_BF16

__all__ = ["MODEL_FILES", "OPENVINO_PRECISION", "openvino_inference_precision", "Artefact", "load_artefact",
           "load_manifest", "bucket_model_path", "copy_artefact", "write_artefact", "file_sha256", "HardwareUnsupported"]

MANIFEST = "manifest.json"
REFERENCE = "reference.npz"
FORMAT = "gan3d-artefact"
FORMAT_VERSION = 1
#: {backend: its model file} (:data:`~gan3d_lib.precision.backends.BACKENDS`)
MODEL_FILES = {name: b.model_file for name, b in BACKENDS.items()}
#: {OpenVINO backend: the inference precision its artefact pins}
OPENVINO_PRECISION = {name: b.openvino_precision for name, b in BACKENDS.items() if b.openvino_precision}


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _keras_runner(model_path: Path, manifest: dict, threads: int | None) -> Callable[[np.ndarray], np.ndarray]:
    import keras

    from ..models.models import build_generator

    _tf_threads(threads)
    policy = "mixed_bfloat16" if manifest["backend"] == KERAS_BF16 else "float32"
    keras.mixed_precision.set_global_policy(policy)
    try:
        gen = build_generator(manifest["model"], size=manifest["size"], **manifest.get("generator_options", {}))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    gen.load_weights(model_path)
    return lambda z: keras.ops.convert_to_numpy(gen(z, training=False)).astype(np.float32)


def _tf_threads(threads: int | None) -> None:
    if threads is None:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised: keep what the process has
        pass


def _graph_runner(model_path: Path, manifest: dict, threads: int | None) -> Callable[[np.ndarray], np.ndarray]:
    import tensorflow as tf

    from .export import load_graph

    _tf_threads(threads)
    run = load_graph(model_path)

    def call(z: np.ndarray) -> np.ndarray:
        try:
            return run(z)
        except tf.errors.InternalError as exc:
            if "Missing 0-th output" in str(exc):
                from ..core.results import machine_info

                m = machine_info()
                raise HardwareUnsupported(
                    f"{model_path.parent}: TensorFlow has no INT8 kernel for this CPU ({m['cpu_model']}, avx512f="
                    f"{m['avx512f']}, avx512_vnni={m['avx512_vnni']}); oneDNN INT8 graphs from Neural "
                    "Compressor need AVX-512") from exc
            raise

    return call


def _tflite_runner(model_path: Path, manifest: dict, threads: int | None) -> Callable[[np.ndarray], np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(model_path), num_threads=threads or os.cpu_count())
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    state = {"n": None}

    def call(z: np.ndarray) -> np.ndarray:
        if state["n"] != len(z):
            interp.resize_tensor_input(inp["index"], [len(z), z.shape[1]])
            interp.allocate_tensors()
            state["n"] = len(z)
        interp.set_tensor(inp["index"], np.ascontiguousarray(z, np.float32))
        interp.invoke()
        return interp.get_tensor(out["index"]).astype(np.float32)

    return call


def _onnx_runner(model_path: Path, manifest: dict, threads: int | None) -> Callable[[np.ndarray], np.ndarray]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return lambda z: sess.run(None, {name: np.ascontiguousarray(z, np.float32)})[0].astype(np.float32)


def openvino_inference_precision(manifest: Mapping) -> str:
    """The inference precision hint ('f32', 'bf16') an OpenVINO artefact was written for: its
    backend's, or for INT8 what the layers left out of INT8 compute in (``float_precision``)."""
    pinned = manifest.get("settings", {}).get("inference_precision_pinned")
    return pinned or OPENVINO_PRECISION[manifest["backend"]]


def _openvino_runner(model_path: Path, manifest: dict, threads: int | None) -> Callable[[np.ndarray], np.ndarray]:
    import openvino as ov

    wanted = openvino_inference_precision(manifest)
    config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": wanted}
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    compiled = ov.Core().compile_model(str(model_path), "CPU", config)
    got = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()  # f32, bf16, f16
    request = compiled.create_infer_request()

    def call(z: np.ndarray) -> np.ndarray:
        if got != wanted:  # raised when run, as for TensorFlow INT8: the artefact loads and says why it cannot run
            from ..core.results import machine_info

            m = machine_info()
            raise HardwareUnsupported(f"{model_path.parent}: OpenVINO compiled the {wanted} model for {got} on this "
                                      f"CPU ({m['cpu_model']}, avx512_bf16={m['avx512_bf16']}); the label would be false")
        return np.array(request.infer([np.ascontiguousarray(z, np.float32)])[0], np.float32)

    call.runtime_precision = got  # type: ignore[attr-defined]
    return call


_RUNNERS = {"keras": _keras_runner, "tf": _graph_runner, "inc": _graph_runner, "tflite": _tflite_runner,
            "onnx": _onnx_runner, "openvino": _openvino_runner}


@dataclass
class Artefact:
    """A loaded artefact: ``generate(energies_gev, seed)`` -> (N, 25, 25, 25) float32 GeV."""

    path: Path
    manifest: dict[str, Any]
    run_latent: Callable[[np.ndarray], np.ndarray]

    @property
    def backend(self) -> str:
        return self.manifest["backend"]

    @property
    def model_file(self) -> Path:
        return self.path / MODEL_FILES[self.backend]

    @property
    def bytes_on_disk(self) -> int:
        """Bytes of the model file and its companions (OpenVINO's weights, further buckets)."""
        return sum((self.path / f).stat().st_size for f in (self.model_file.name, *self.manifest.get("companion_sha256", {})))

    @property
    def runtime_precision(self) -> str:
        """The precision the runtime reports it computes in (OpenVINO: read back from the
        compiled model; elsewhere the backend's own: fp32, bf16, fp16 storage or int8)."""
        reported = getattr(self.run_latent, "runtime_precision", None)
        return reported or self.backend.split("-", 1)[1]

    def generate_from_latent(self, latent: np.ndarray, *, batch_size: int = 128) -> np.ndarray:
        z = np.asarray(latent, np.float32)
        out = [self.run_latent(z[i:i + batch_size]) for i in range(0, len(z), batch_size)]
        return np.concatenate(out) if out else np.empty((0, 25, 25, 25), np.float32)

    def generate(self, energies_gev: np.ndarray, seed: int, *, batch_size: int = 128) -> np.ndarray:
        """Showers for primary energies (N,) in GeV, latent vectors drawn with ``seed``."""
        from ..models.models import latent_vectors

        return self.generate_from_latent(latent_vectors(energies_gev, seed=seed, latent_size=self.manifest["latent_size"]),
                                         batch_size=batch_size)

    def reference(self) -> dict[str, np.ndarray]:
        """The latent vectors and outputs recorded when the artefact was written."""
        with np.load(self.path / REFERENCE, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}


def load_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """The checked ``manifest.json`` of an artefact folder (no model is loaded)."""
    folder = Path(path)
    mpath = folder / MANIFEST
    if not mpath.exists():
        raise FileNotFoundError(f"{folder}: no {MANIFEST}; not a gan3d artefact folder")
    manifest = json.loads(mpath.read_text())
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{mpath}: format {manifest.get('format')!r} v{manifest.get('format_version')!r}, "
                         f"expected {FORMAT!r} v{FORMAT_VERSION}")
    if manifest.get("backend") not in MODEL_FILES:
        raise ValueError(f"{mpath}: unknown backend {manifest.get('backend')!r}; known: {', '.join(BACKEND_NAMES)}")
    return manifest


def load_artefact(path: str | os.PathLike, *, threads: int | None = None) -> Artefact:
    """Load an artefact folder (see the module docstring); ``threads`` sets the runtime's
    intra-op threads (TensorFlow's only if it has not started yet)."""
    folder = Path(path)
    manifest = load_manifest(folder)
    backend = manifest["backend"]
    model_file = folder / MODEL_FILES[backend]
    if not model_file.exists():
        raise FileNotFoundError(f"{model_file}: missing model file of backend {backend}")
    if manifest.get("sha256") and file_sha256(model_file) != manifest["sha256"]:
        raise ValueError(f"{model_file}: checksum differs from {MANIFEST}; the file was changed or truncated")
    for name, digest in manifest.get("companion_sha256", {}).items():
        if not (folder / name).exists() or file_sha256(folder / name) != digest:
            raise ValueError(f"{folder / name}: missing or its checksum differs from {MANIFEST}")
    runner = _RUNNERS[BACKENDS[backend].runtime]
    edges = manifest.get("settings", {}).get("energy_buckets") or []
    if not edges:
        return Artefact(folder, manifest, runner(model_file, manifest, threads))
    runners = [runner(bucket_model_path(model_file, i), manifest, threads) for i in range(len(edges) - 1)]
    return Artefact(folder, manifest, _bucketed_runner(runners, edges))


def bucket_model_path(model_path: Path, bucket: int) -> Path:
    """The model file of energy bucket ``bucket`` of an artefact whose first model is
    ``model_path`` (``model.onnx``, ``model.e1.onnx``, ...)."""
    return model_path if bucket == 0 else model_path.with_name(f"{model_path.stem}.e{bucket}{model_path.suffix}")


def _bucketed_runner(runners: list[Callable[[np.ndarray], np.ndarray]],
                     edges_gev: list[float]) -> Callable[[np.ndarray], np.ndarray]:
    """Run each latent through the model of its energy bucket (energy estimated from the
    latent's norm, :func:`models.latent_energy_gev`), in one call per bucket present."""
    from ..models.models import latent_energy_gev

    inner = np.asarray(edges_gev[1:-1], np.float64)

    def call(z: np.ndarray) -> np.ndarray:
        bucket = np.searchsorted(inner, latent_energy_gev(z), side="right")
        parts = {int(b): runners[int(b)](z[bucket == b]) for b in np.unique(bucket)}
        first = next(iter(parts.values()))
        out = np.empty((len(z), *first.shape[1:]), np.float32)
        for b, showers in parts.items():
            out[bucket == b] = showers
        return out

    call.runtime_precision = getattr(runners[0], "runtime_precision", None)  # type: ignore[attr-defined]
    return call


def copy_artefact(source: str | os.PathLike, out: str | os.PathLike, *, extra: dict[str, Any]) -> Artefact:
    """Copy an artefact folder to ``out`` atomically, adding ``extra`` to its manifest (the
    model files and their checksums are unchanged)."""
    import shutil

    from ..core.results import jsonable

    with atomic_dir(out) as tmp:
        shutil.copytree(source, tmp, dirs_exist_ok=True)
        manifest = json.loads((tmp / MANIFEST).read_text())
        manifest.update(jsonable(extra))
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return load_artefact(out)


def write_artefact(
    out: str | os.PathLike,
    backend: str,
    write_model: Callable[[Path], Any],
    *,
    model: str,
    size: str | float,
    source: str,
    settings: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    latent_size: int = 200,
    reference_seed: int = 12345,
    reference_energies_gev: tuple[float, ...] = (2.0, 10.0, 50.0, 100.0, 200.0, 300.0, 400.0, 500.0),
) -> Artefact:
    """Write an artefact folder atomically: ``write_model(path)`` writes the model file into a
    temporary folder, which is loaded back, run on reference latents, and renamed to ``out``."""
    from ..models.models import latent_vectors
    from ..core.results import jsonable, machine_info, package_versions

    if backend not in MODEL_FILES:
        raise ValueError(f"unknown backend {backend!r}; known: {', '.join(BACKEND_NAMES)}")
    out = Path(out)
    with atomic_dir(out) as tmp:
        model_path = tmp / MODEL_FILES[backend]
        write_model(model_path)
        companions = sorted(f.name for f in tmp.iterdir() if f.is_file() and f.name != model_path.name)
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "backend": backend, "model": model,
                    "size": size, "latent_size": latent_size, "source": str(source),
                    "sha256": file_sha256(model_path),
                    "companion_sha256": {f: file_sha256(tmp / f) for f in companions},
                    "bytes": sum((tmp / f).stat().st_size for f in (model_path.name, *companions)),
                    "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "settings": jsonable(settings or {}), **jsonable(extra or {}),
                    "versions": package_versions(), "machine": machine_info()}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        energies = np.asarray(reference_energies_gev, np.float32)
        latent = latent_vectors(energies, seed=reference_seed, latent_size=latent_size)
        art = None
        try:
            art = load_artefact(tmp)
            showers = art.generate_from_latent(latent)
            runs = True
        except HardwareUnsupported as exc:
            showers, runs = np.zeros((0, 25, 25, 25), np.float32), False
            manifest["not_run_here"] = str(exc)
        np.savez(tmp / REFERENCE, energies_gev=energies, latent=latent, showers=showers)
        manifest["reference_outputs_recorded"] = runs
        manifest["runtime_precision"] = art.runtime_precision if runs and art is not None else None
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return load_artefact(out)
