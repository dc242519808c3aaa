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


def test_the_chapter_key_changes_with_a_package_version_and_the_cpu_flags(tmp_path, monkeypatch):
    from gan3d_lib.book import runner as book

    source = tmp_path / "notebooks" / "01_x.py"
    source.parent.mkdir()
    source.write_text("# %%\nx = 1\n")
    key = book.chapter_key(tmp_path, source, preset="ci", parameters={})
    assert book.chapter_key(tmp_path, source, preset="ci", parameters={}) == key
    versions = book.installed_versions()
    assert versions["numpy"] and versions["tensorflow"]
    monkeypatch.setattr(book, "installed_versions", lambda: {**versions, "numpy": "0.0.1"})
    assert book.chapter_key(tmp_path, source, preset="ci", parameters={}) != key
    monkeypatch.setattr(book, "installed_versions", lambda: versions)
    assert book.chapter_key(tmp_path, source, preset="ci", parameters={}) == key
    monkeypatch.setattr(book, "result_cpu_flags", lambda: ["avx2", "amx_tile"])
    assert book.chapter_key(tmp_path, source, preset="ci", parameters={}) != key


def test_result_cpu_flags_reads_the_flags_that_change_kernels(tmp_path):
    from gan3d_lib.book import runner as book

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor : 0\nflags : fpu sse2 avx2 avx512f avx512_vnni amx_tile\n")
    assert book.result_cpu_flags(cpuinfo) == ["avx2", "avx512f", "avx512_vnni", "amx_tile"]
    assert book.result_cpu_flags(tmp_path / "absent") == []


def test_a_chapter_run_prints_no_tensorflow_start_up_lines_and_hides_the_injected_parameters(tmp_path, capfd):
    import nbformat

    from gan3d_lib.book.runner import execute_notebook, hermetic_environment

    hermetic_environment(tmp_path)
    source = tmp_path / "01_tf.py"
    source.write_text('# %% tags=["parameters"]\nn = 1\n# %%\nimport tensorflow as tf\nprint(int(tf.constant(n) + 1))\n')
    out = execute_notebook(source, tmp_path / "out" / "01_tf.ipynb", cwd=tmp_path, parameters={"n": 2})
    err = capfd.readouterr().err
    for noise in ("cuInit", "cudart", "absl::InitializeLog", "oneDNN"):
        assert noise not in err
    assert out.with_suffix(".stderr.log").exists()
    cells = nbformat.read(out, as_version=4).cells
    injected = [c for c in cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "remove-cell" in injected[0].metadata["tags"]
    assert "3" in cells[-1].outputs[0]["text"]
