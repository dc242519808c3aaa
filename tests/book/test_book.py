"""The book end to end: every notebook at the ci preset, results against references, HTML."""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from pathlib import Path

import pytest

from gan3d_lib.book.runner import build_html, execute_all, notebook_sources
from gan3d_lib.book.claims import STUDY_CLAIMS
from make_reference import lookup

ROOT = Path(__file__).resolve().parents[2]
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
    shutil.copytree(ROOT / "data" / "ablation", root / "data" / "ablation")  # chapter 2's records and their plan
    shutil.copytree(ROOT / "recipes", root / "recipes")
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


def _run_chapter_5(root: Path, out: Path, **parameters):
    """Chapter 5 at the ci preset (5 bootstrap resamplings), writing to results_reader/ beside
    chapter 3's results, which it reads."""
    from gan3d_lib.book.runner import execute_notebook

    (root / "results_reader").mkdir(exist_ok=True)
    shutil.copy(root / "results" / "03_quantization.json", root / "results_reader" / "03_quantization.json")
    return execute_notebook(root / "notebooks" / "05_validation.py", out, cwd=root,
                            parameters={"preset": "ci", "results_dir": "results_reader", "n_bootstrap": 5, **parameters})


def test_chapter_5_judges_against_a_readers_cern_layout_file(book):
    from gan3d_lib.data.datasets import ensure_mc_dataset

    root, _ = book
    reference = ensure_mc_dataset(root / "reader" / "EleEscan_reader.h5", 240, seed=4321, progress=False)
    _run_chapter_5(root, root / "reader" / "05_reader.ipynb", reference_path=str(reference))
    doc = json.loads((root / "results_reader" / "05_validation.json").read_text())
    assert doc["settings"]["reference_path"] == str(reference)
    assert doc["numbers"]["reference"]["source"] == str(reference) and doc["numbers"]["reference"]["n_showers"] == 120
    assert str(reference) in doc["numbers"]["reference"]["label"]


def test_a_bad_reference_file_stops_chapter_5_in_its_first_computing_cell_with_one_line(book):
    import h5py
    import nbformat
    import numpy as np
    from papermill.exceptions import PapermillExecutionError

    root, _ = book
    bad = root / "reader" / "ecal_nan.h5"
    bad.parent.mkdir(exist_ok=True)
    ecal = np.zeros((4, 25, 25, 25), np.float32)
    ecal[0, 12, 12, 5] = np.nan
    with h5py.File(bad, "w") as f:
        f["ECAL"] = ecal
        f["target"] = np.tile(np.array([[11.0, 50.0]], np.float32), (4, 1))
    out = root / "reader" / "05_bad.ipynb"
    with pytest.raises(PapermillExecutionError):
        _run_chapter_5(root, out, reference_path=str(bad))
    cells = [c for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]
    failed = [i for i, c in enumerate(cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    first_computing = next(i for i, c in enumerate(cells) if "import" in c.source)
    assert failed == [first_computing]
    error = next(o for o in cells[first_computing].outputs if o.get("output_type") == "error")
    assert error["traceback"] == [f"ShowerFileError: {bad}: dataset 'ECAL': non-finite cell energy (NaN or inf) in shower 0"]
