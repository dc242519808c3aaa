"""ruff, with the rule set in pyproject.toml, finds nothing in the library, tests, benchmarks and
notebooks; the notebooks hold no function definitions (their computations live in gan3d_lib)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    res = subprocess.run([str(Path(sys.executable).parent / "ruff"), "check", "gan3d_lib", "tests", "benchmarks", "notebooks"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-1000:]


def test_notebooks_define_no_functions():
    found = [f"{p.name}:{i}: {line.strip()}" for p in sorted((ROOT / "notebooks").glob("*.py"))
             for i, line in enumerate(p.read_text().splitlines(), 1)
             if re.match(r"\s*(async\s+)?def |\s*class ", line)]
    assert not found, found


def test_every_public_function_of_the_library_is_typed():
    import ast

    untyped = []
    for path in sorted((ROOT / "gan3d_lib").rglob("*.py")):
        tree = ast.parse(path.read_text())
        functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and not n.name.startswith("_")):
            functions += [n for n in cls.body if isinstance(n, ast.FunctionDef)]
        for f in functions:
            if f.name.startswith("_"):
                continue
            args = [*f.args.args, *f.args.kwonlyargs, *(a for a in (f.args.vararg, f.args.kwarg) if a)]
            if f.returns is None or any(a.annotation is None for a in args if a.arg not in ("self", "cls")):
                untyped.append(f"{path.relative_to(ROOT)}:{f.lineno} {f.name}")
    assert not untyped, untyped


def test_no_library_module_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "gan3d_lib").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 400}
    assert not long, long


def test_the_tests_mirror_the_library_layout():
    from gan3d_lib import LAYERS

    folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and p.name not in ("reference", "__pycache__")}
    assert folders == set(LAYERS), folders ^ set(LAYERS)
    for folder in folders:
        package = ROOT / "gan3d_lib" / folder
        modules = {p.stem for p in package.rglob("*.py")} | {p.name for p in package.iterdir() if p.is_dir()}
        modules |= {folder, "shipped_weights"}  # the subpackage as a whole, the generators in data/weights
        for test in (ROOT / "tests" / folder).glob("test_*.py"):  # test_<module>[_<aspect>].py
            assert any(test.stem.removeprefix("test_").startswith(m) for m in modules), test
