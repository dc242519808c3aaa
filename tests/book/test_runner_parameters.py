"""A chapter rerun by papermill with the reader's parameters (its own folder, so that it runs beside the book's build)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def test_papermill_reruns_chapter_1_with_other_parameters(tmp_path):
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    (tmp_path / "data").mkdir()
    for record in ("mc_tuning.json", "mc_tuning_first_fit.json"):
        shutil.copy(ROOT / "data" / record, tmp_path / "data" / record)
    cmd = (f"{BIN / 'jupytext'} --to ipynb -o - notebooks/01_showers.py | "
           f"{BIN / 'papermill'} - {tmp_path / 'rerun.ipynb'} -p preset ci -p n_showers 500 -p seed 7 "
           f"-p results_dir results_rerun --cwd {tmp_path} --no-progress-bar")
    subprocess.run(cmd, shell=True, cwd=tmp_path, check=True, timeout=900)
    doc = json.loads((tmp_path / "results_rerun" / "01_showers.json").read_text())
    assert doc["settings"]["seed"] == 7
    assert doc["numbers"]["data"]["n_showers"] == 500  # the parameter wins over the preset's 768
