"""Execute the jupytext notebooks with papermill and build the Jupyter Book.

Notebook sources are ``notebooks/*.py`` (jupytext percent format); executed copies go to
``book/generated/<name>.ipynb`` (git-ignored), which ``_toc.yml`` lists.

Execution is incremental: a chapter runs again only when its key changes: the hash of its
source, the preset and parameters, the library's sources, the shipped weights it reads
(``data/weights``), the Monte Carlo's fit record
(``data/mc_tuning*.json``), the installed package versions, the CPU flags that change which
kernels run (:data:`RESULT_CPU_FLAGS`), the oneDNN ISA cap and the keys of the chapters whose
outputs it reads (:data:`READS`).
Keys are kept in ``book/generated/.execution.json``; ``force=True`` runs everything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["READS", "RESULT_CPU_FLAGS", "installed_versions", "result_cpu_flags", "notebook_sources",
           "hermetic_environment", "execute_notebook", "kernel_stderr_to", "one_line_errors", "chapter_key", "execute_all",
           "build_html"]

#: chapters whose outputs (artefact folders, results files) a chapter reads
READS = {"04_inference": ("03_quantization",), "05_validation": ("03_quantization",),
         "06_claims": ("03_quantization", "04_inference", "05_validation")}
_KEYS = Path("book") / "generated" / ".execution.json"
#: /proc/cpuinfo flags that select other oneDNN / OpenVINO kernels, hence other showers or speeds
RESULT_CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile",
                    "amx_bf16", "amx_int8")


def installed_versions() -> dict[str, str]:
    """{distribution name: version} of every package installed in this environment."""
    from importlib.metadata import distributions

    return {d.metadata["Name"].lower(): d.version for d in distributions() if d.metadata["Name"]}


def result_cpu_flags(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> list[str]:
    """The :data:`RESULT_CPU_FLAGS` this CPU has (empty where ``cpuinfo`` cannot be read)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return []
    flags = next((set(line.split(":", 1)[1].split()) for line in text.splitlines() if line.startswith("flags")), set())
    return [f for f in RESULT_CPU_FLAGS if f in flags]


def notebook_sources(root: str | os.PathLike) -> list[Path]:
    """Sorted ``notebooks/*.py`` under the book root."""
    return sorted(Path(root, "notebooks").glob("[0-9][0-9]_*.py"))


def execute_notebook(source: str | os.PathLike, output: str | os.PathLike, *, cwd: str | os.PathLike,
                     parameters: dict[str, Any] | None = None, timeout_s: int = 3600, progress: bool = False) -> Path:
    """Convert a jupytext ``.py`` to a notebook and run it with papermill in ``cwd``."""
    import jupytext
    import papermill

    import nbformat

    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with kernel_stderr_to(output.with_suffix(".stderr.log")):
        papermill.execute_notebook(nb, str(output), parameters=parameters or {}, cwd=str(cwd),
                                   kernel_name="python3", language="python", progress_bar=progress,
                                   execution_timeout=timeout_s)
    executed = nbformat.read(output, as_version=4)
    for cell in executed.cells:  # the book shows the parameters cell; papermill's copy of it is noise
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    nbformat.write(executed, output)
    return output


@contextlib.contextmanager
def kernel_stderr_to(log: str | os.PathLike) -> Iterator[None]:
    """Send what child processes (the kernels, their workers) write to file descriptor 2 to ``log``:
    TensorFlow's C++ start-up lines ("failed call to cuInit", oneDNN notices) are printed there
    before any logging setting takes effect. This process's ``sys.stderr`` (progress bars,
    tracebacks) still reaches the terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    terminal = os.fdopen(os.dup(saved), "w", buffering=1)
    original = sys.stderr
    with open(log, "wb") as f:
        os.dup2(f.fileno(), 2)
        sys.stderr = terminal
        try:
            yield Path(log)
        finally:
            sys.stderr = original
            os.dup2(saved, 2)
            os.close(saved)
            terminal.close()


def one_line_errors() -> None:
    """In a running chapter, show a bad input file as the library's one line
    (``ShowerFileError: file: dataset 'ECAL': ...``) instead of the frames that led to it."""
    from IPython import get_ipython

    from ..data.io import ShowerFileError

    def _handler(shell, etype, value, tb, tb_offset=None):
        line = f"{etype.__name__}: {value}"
        shell._showtraceback(etype, value, [line])  # IPython's hook for a ready-made traceback: an error output
        return [line]

    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((ShowerFileError,), _handler)


def _tree_digest(h, folder: Path, pattern: str) -> None:
    for path in sorted(folder.rglob(pattern)) if folder.exists() else []:
        if path.is_file():
            h.update(str(path.relative_to(folder)).encode())
            h.update(path.read_bytes())


def chapter_key(root: str | os.PathLike, source: str | os.PathLike, *, preset: str, parameters: dict[str, Any],
                upstream: tuple[str, ...] = ()) -> str:
    """SHA-256 over what a chapter's result depends on (see the module docstring)."""
    h = hashlib.sha256()
    h.update(Path(source).read_bytes())
    h.update(json.dumps({"preset": preset, **parameters}, sort_keys=True).encode())
    h.update(os.environ.get("ONEDNN_MAX_CPU_ISA", "").encode())  # a book run with another kernel ceiling
    h.update(json.dumps(installed_versions(), sort_keys=True).encode())
    h.update(" ".join(result_cpu_flags()).encode())
    _tree_digest(h, Path(__file__).resolve().parents[1], "*.py")  # the whole library
    _tree_digest(h, Path(root) / "data" / "weights", "*")
    _tree_digest(h, Path(root) / "data", "mc_tuning*.json")
    for key in upstream:
        h.update(key.encode())
    return h.hexdigest()


def hermetic_environment(root: str | os.PathLike) -> None:
    """Point matplotlib, IPython and Jupyter caches into ``<root>/.cache`` (unless set)."""
    cache = Path(root).resolve() / ".cache"
    for var, sub in (("MPLCONFIGDIR", "matplotlib"), ("IPYTHONDIR", "ipython"),
                     ("JUPYTER_CONFIG_DIR", "jupyter/config"), ("JUPYTER_DATA_DIR", "jupyter/data"),
                     ("JUPYTER_RUNTIME_DIR", "jupyter/runtime")):
        os.environ.setdefault(var, str(cache / sub))
        Path(os.environ[var]).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    # The kernels run on loopback; ipykernel's warning about unencrypted TCP says nothing a
    # reader of `make book` can act on, so the kernel app logs errors only.
    config = Path(os.environ["IPYTHONDIR"]) / "profile_default" / "ipython_kernel_config.py"
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text('c.IPKernelApp.log_level = "ERROR"\n')


def _write_keys(path: Path, keys: dict) -> None:
    from ..core.atomic import atomic_file

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(keys, indent=1))


def execute_all(root: str | os.PathLike, *, preset: str, only: list[str] | None = None, force: bool = False,
                progress: bool = False) -> list[Path]:
    """Run the chapter notebooks at ``preset`` whose key changed (all with ``force``), saying
    for each, as ``[i/N]``, whether it ran (and how long) or was reused; ``progress`` shows
    papermill's bar over the cells being run."""
    root = Path(root).resolve()
    hermetic_environment(root)
    keys_path = root / _KEYS
    old = json.loads(keys_path.read_text()) if keys_path.exists() else {}
    sources = [s for s in notebook_sources(root) if not only or s.stem in only]
    keys: dict[str, str] = {}
    outputs = []
    t_all = time.perf_counter()
    for i, src in enumerate(sources, 1):
        upstream = tuple(keys.get(u) or old.get(u, {}).get("key", "") for u in READS.get(src.stem, ()))
        keys[src.stem] = key = chapter_key(root, src, preset=preset, parameters={}, upstream=upstream)
        out = root / "book" / "generated" / f"{src.stem}.ipynb"
        results = root / "results" / f"{src.stem}.json"
        if not force and old.get(src.stem, {}).get("key") == key and out.exists() and results.exists():
            print(f"[{i}/{len(sources)}] reused {src.name} (preset '{preset}'): nothing it depends on changed", flush=True)
            outputs.append(out)
            continue
        print(f"[{i}/{len(sources)}] executing {src.name} at preset '{preset}' "
              f"({time.perf_counter() - t_all:.0f} s elapsed)", flush=True)
        t0 = time.perf_counter()
        old.pop(src.stem, None)  # a failed run must not be reused next time
        _write_keys(keys_path, old)
        execute_notebook(src, out, cwd=root, parameters={"preset": preset}, progress=progress)
        print(f"executed {src.name} at preset '{preset}' in {time.perf_counter() - t0:.0f} s", flush=True)
        old[src.stem] = {"key": key, "preset": preset}
        _write_keys(keys_path, old)
        outputs.append(out)
    return outputs


def build_html(root: str | os.PathLike) -> Path:
    """``jupyter-book build --all -W --keep-going``; returns ``_build/html/index.html``."""
    root = Path(root).resolve()
    hermetic_environment(root)
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", "--all", "-W", "--keep-going", str(root)]
    res = subprocess.run(cmd, cwd=root)
    if res.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed with exit code {res.returncode}: {' '.join(cmd)}")
    return root / "_build" / "html" / "index.html"
