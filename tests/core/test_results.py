import json

import numpy as np
import pytest

from gan3d_lib.core.results import SCHEMA_VERSION, machine_info, read_results, write_results
from gan3d_lib.core.tables import markdown_table


def test_results_json_records_numbers_settings_and_versions(tmp_path):
    path = write_results(tmp_path / "r" / "x.json", {"a_gev": np.float32(1.5), "arr": np.arange(3), "bad": float("nan")},
                         settings={"seed": 7, "preset": "ci"})
    doc = read_results(path)
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["numbers"] == {"a_gev": 1.5, "arr": [0, 1, 2], "bad": None}
    assert doc["settings"] == {"seed": 7, "preset": "ci"}
    assert "numpy" in doc["versions"] and "python" in doc["versions"]
    assert doc["machine"]["logical_cores"] >= 1
    assert [p.name for p in (tmp_path / "r").iterdir()] == ["x.json"]


def test_read_results_rejects_other_schema(tmp_path):
    p = tmp_path / "old.json"
    p.write_text(json.dumps({"schema_version": 0}))
    with pytest.raises(ValueError, match="schema_version"):
        read_results(p)


def test_machine_info_has_isa_flags():
    m = machine_info()
    assert {"cpu_model", "usable_cores", "avx512_vnni", "avx512_bf16"} <= set(m)


def test_markdown_table():
    t = markdown_table([{"e": 10.0, "n": 3, "x": None}], {"e": "E [GeV]", "n": "n", "x": "x"}, {"e": ".1f"})
    head, rule, row = (line.replace(" ", "") for line in t.splitlines())
    assert head == "|E[GeV]|n|x|" and set(rule) == {"|", ":", "-"} and rule.count("|") == 4 and row == "|10.0|3|–|"
    piped = markdown_table([{"claim": "a | b"}], {"claim": "claim | source"})
    assert piped.splitlines()[0].count("|") - piped.splitlines()[0].count(r"\|") == 2  # one column
    assert r"a \| b" in piped


def test_package_exposes_submodules_lazily():
    import gan3d_lib

    import tomllib
    from pathlib import Path

    assert set(gan3d_lib.LAYERS) <= set(dir(gan3d_lib))
    assert gan3d_lib.physics.observables.total_energy is not None
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert gan3d_lib.__version__ == pyproject["project"]["version"]
    import pytest as _pytest

    with _pytest.raises(AttributeError, match="subpackages"):
        gan3d_lib.nonexistent  # noqa: B018
