"""Execute the jupytext notebooks with papermill and build the Jupyter Book.

Notebook sources are ``notebooks/*.py`` (jupytext percent format); executed copies go to
``book/generated/<name>.ipynb`` (git-ignored), which ``_toc.yml`` lists.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["notebook_sources", "hermetic_environment", "execute_notebook", "execute_all", "build_html"]


def notebook_sources(root: str | os.PathLike) -> list[Path]:
    """Sorted ``notebooks/*.py`` under the book root."""
    return sorted(Path(root, "notebooks").glob("[0-9][0-9]_*.py"))


def execute_notebook(source: str | os.PathLike, output: str | os.PathLike, *, cwd: str | os.PathLike,
                     parameters: dict[str, Any] | None = None, timeout_s: int = 3600) -> Path:
    """Convert a jupytext ``.py`` to a notebook and run it with papermill in ``cwd``."""
    import jupytext
    import papermill

    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(nb, str(output), parameters=parameters or {}, cwd=str(cwd),
                               kernel_name="python3", language="python", progress_bar=False,
                               execution_timeout=timeout_s)
    return output


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


def execute_all(root: str | os.PathLike, *, preset: str, only: list[str] | None = None) -> list[Path]:
    """Run every chapter notebook at ``preset``; print the time each takes."""
    root = Path(root).resolve()
    hermetic_environment(root)
    outputs = []
    for src in notebook_sources(root):
        if only and src.stem not in only:
            continue
        t0 = time.perf_counter()
        out = execute_notebook(src, root / "book" / "generated" / f"{src.stem}.ipynb", cwd=root,
                               parameters={"preset": preset})
        print(f"executed {src.name} at preset '{preset}' in {time.perf_counter() - t0:.0f} s", flush=True)
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
