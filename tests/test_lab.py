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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_returns_chapter_1_as_a_notebook_with_its_parameters_cell(tmp_path):
    if not (BIN / "jupyter-lab").exists():
        pytest.skip("JupyterLab is not installed in this environment (make setup installs it)")
    port, token = _free_port(), "gan3d-test-token"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_DATA_DIR": str(tmp_path / "data"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_PLATFORM_DIRS": "1"}
    cmd = [str(BIN / "jupyter-lab"), "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}", "--allow-root"]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api/contents/notebooks/01_showers.py?type=notebook&content=1"
    try:
        doc = None
        for _ in range(120):
            try:
                req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(req, timeout=5) as resp:
                    doc = json.load(resp)
                break
            except OSError:
                time.sleep(0.5)
        assert doc is not None, "the server did not answer within 60 s"
        assert doc["type"] == "notebook" and doc["format"] == "json"
        cells = doc["content"]["cells"]
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1 and "preset = " in "".join(tagged[0]["source"])
        assert cells[0]["cell_type"] == "markdown"
    finally:
        server.terminate()
        server.wait(timeout=30)
