"""make book is incremental: a second run with nothing changed reuses every chapter; touching
one re-runs it and the chapters that read its outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gan3d_lib.book.runner import READS, execute_all

pytestmark = pytest.mark.slow

CHAPTER = """# %% tags=["parameters"]
preset = "default"
# %%
import json, pathlib
pathlib.Path("results").mkdir(exist_ok=True)
pathlib.Path("results/{stem}.json").write_text(json.dumps({{"preset": preset}}))
"""


def test_second_run_reuses_and_a_touched_chapter_reruns_with_its_readers(tmp_path, capsys):
    (tmp_path / "notebooks").mkdir()
    stems = ["01_showers", "03_quantization", "05_validation"]
    assert "03_quantization" in READS["05_validation"]
    for stem in stems:
        (tmp_path / "notebooks" / f"{stem}.py").write_text(CHAPTER.format(stem=stem))
    execute_all(tmp_path, preset="ci")
    first = capsys.readouterr().out
    assert first.count("executing") == 3
    execute_all(tmp_path, preset="ci")
    second = capsys.readouterr().out
    assert second.count("reused") == 3 and "executing" not in second
    src = tmp_path / "notebooks" / "03_quantization.py"
    src.write_text(src.read_text() + "# a touch\n")
    execute_all(tmp_path, preset="ci")
    third = capsys.readouterr().out
    assert "reused 01_showers" in third and "executing 03_quantization" in third and "executing 05_validation" in third
    execute_all(tmp_path, preset="ci", force=True)
    assert capsys.readouterr().out.count("executing") == 3
    keys = json.loads((tmp_path / "book" / "generated" / ".execution.json").read_text())
    assert set(keys) == set(stems) and all(v["preset"] == "ci" for v in keys.values())
    assert json.loads(Path(tmp_path / "results" / "01_showers.json").read_text()) == {"preset": "ci"}
