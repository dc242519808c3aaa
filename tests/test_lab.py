"""`make lab`: the notebook server in the venv opens the jupytext sources as notebooks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TOKEN = "gan3d-test-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A headless JupyterLab as `make lab` starts it (fresh user config, data and runtime dirs); its base URL."""
    if not (BIN / "jupyter-lab").exists():
        pytest.skip("JupyterLab is not installed in this environment (make setup installs it)")
    tmp = tmp_path_factory.mktemp("lab")
    port = _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTER_DATA_DIR": str(tmp / "data"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTER_PLATFORM_DIRS": "1"}
    cmd = [str(BIN / "jupyter-lab"), "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={ROOT}", "--allow-root"]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def _get(url: str) -> dict:
    """GET a JSON answer, waiting up to 60 s for the server to start."""
    for _ in range(120):
        try:
            req = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
            with urllib.request.urlopen(req, timeout=5) as resp:
                return json.load(resp)
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the server did not answer {url} within 60 s")


def test_server_returns_chapter_1_as_a_notebook_with_its_parameters_cell(lab):
    doc = _get(f"{lab}/api/contents/notebooks/01_showers.py?type=notebook&content=1")
    assert doc["type"] == "notebook" and doc["format"] == "json"
    cells = doc["content"]["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and "preset = " in "".join(tagged[0]["source"])
    assert cells[0]["cell_type"] == "markdown"


def test_python_files_open_in_the_jupytext_notebook_view_by_default(lab):
    # The document manager's settings as JupyterLab composes them: the user's value of a key if
    # set, else the schema's default with the installed overrides applied (make setup writes
    # <venv>/etc/jupyter/labconfig/default_setting_overrides.json).
    settings = _get(f"{lab}/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    default = settings["schema"]["properties"]["defaultViewers"]["default"]
    composite = settings.get("settings", {}).get("defaultViewers", default)
    # "python" is JupyterLab's file type of .py files, "Jupytext Notebook" jupytext's widget factory
    assert composite.get("python") == "Jupytext Notebook", (
        f"defaultViewers is {composite}: .py files would open in the text editor; "
        f"run `jupytext-config --settings-file {Path(sys.prefix)}/etc/jupyter/labconfig/default_setting_overrides.json "
        "set-default-viewer python` (make setup does)")
