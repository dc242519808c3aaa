"""The book end to end: every notebook at the ci preset, results against references, HTML."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gan3d_lib.book.runner import build_html, execute_all, notebook_sources
from gan3d_lib.book.claims import STUDY_CLAIMS
from make_reference import lookup

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"
MIN_FIGURES = {"01_showers": 4, "02_training": 5, "03_quantization": 2, "04_inference": 3, "05_validation": 5,
               "06_claims": 1}
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """A copy of the book sources, executed at the ci preset and built to HTML."""
    root = tmp_path_factory.mktemp("book")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "book", root / "book", ignore=shutil.ignore_patterns("generated"))
    shutil.copytree(ROOT / "data" / "weights", root / "data" / "weights", ignore=shutil.ignore_patterns("checkpoints"))
    for record in ("mc_tuning.json", "mc_tuning_first_fit.json"):
        shutil.copy(ROOT / "data" / record, root / "data" / record)
    execute_all(root, preset="ci")
    index = build_html(root)
    return root, index


def test_every_notebook_has_a_reference_and_min_figures():
    stems = {p.stem for p in notebook_sources(ROOT)}
    assert stems == set(MIN_FIGURES)
    assert stems == {p.name.removesuffix(".ci.json") for p in REFERENCE.glob("*.ci.json")}


def test_ci_results_match_committed_references(book):
    root, _ = book
    for ref_path in sorted(REFERENCE.glob("*.ci.json")):
        ref = json.loads(ref_path.read_text())
        stem = ref_path.name.removesuffix(".ci.json")
        got = json.loads((root / "results" / f"{stem}.json").read_text())
        assert got["settings"]["preset"] == "ci"
        for key, spec in ref["values"].items():
            value = lookup(got["numbers"], key)
            tol = {"rel": 0.0, "abs": spec["abs"]} if spec["tolerance"] == "spread" else ref["tolerances"][spec["tolerance"]]
            assert math.isclose(value, spec["value"], rel_tol=tol["rel"], abs_tol=tol["abs"]), (stem, key, value, spec)


def test_html_pages_have_their_figures_and_numbers(book):
    root, index = book
    assert index.exists()
    for stem, n_min in MIN_FIGURES.items():
        html = (root / "_build" / "html" / "book" / "generated" / f"{stem}.html").read_text()
        assert html.count("<img") >= n_min, stem
        text = re.sub(r"<[^>]+>", "", html)
        assert re.search(r"data set holds \d+ showers", text) or stem != "01_showers"
        assert "Traceback" not in html
    claims = re.sub(r"<[^>]+>", "", (root / "_build" / "html" / "book" / "generated" / "06_claims.html").read_text())
    for c in STUDY_CLAIMS:
        assert c.source.split(" (")[0] in claims and c.quantity[-20:] in claims, c.key
    assert claims.count("reproduced") + claims.count("not measurable") + claims.count("same order") >= len(STUDY_CLAIMS)


def test_papermill_reruns_chapter_1_with_other_parameters(book):
    root, _ = book
    cmd = (f"{BIN / 'jupytext'} --to ipynb -o - notebooks/01_showers.py | "
           f"{BIN / 'papermill'} - {root / 'rerun.ipynb'} -p preset ci -p n_showers 500 -p seed 7 "
           f"-p results_dir results_rerun "
           f"--cwd {root} --no-progress-bar")
    subprocess.run(cmd, shell=True, cwd=root, check=True, timeout=900)
    doc = json.loads((root / "results_rerun" / "01_showers.json").read_text())
    assert doc["settings"]["seed"] == 7
    assert doc["numbers"]["data"]["n_showers"] == 500  # the parameter wins over the preset's 768
