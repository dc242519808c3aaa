"""pyproject.toml, environment.yml and constraints.txt pin the same versions."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines):
    out = {}
    for line in lines:
        m = re.match(r"^\s*-?\s*\"?([A-Za-z0-9_.\-]+)==([^\s\",]+)", line)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_environment_yml_has_the_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values() for r in extra]
    pyproject = _pins(reqs)
    assert len(pyproject) == len(reqs), "every dependency in pyproject.toml must be pinned with =="
    conda = _pins((ROOT / "environment.yml").read_text().splitlines())
    assert conda == pyproject


def test_constraints_agree_with_the_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values() for r in extra]
    constraints = _pins((ROOT / "constraints.txt").read_text().splitlines())
    for name, version in _pins(reqs).items():
        assert constraints.get(name) == version, name
