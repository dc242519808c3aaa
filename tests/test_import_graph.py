"""The library's import graph (module-level and lazy imports alike): every import points from a
subpackage to the same one or one below it in :data:`LAYERS`, so there is no cycle between
subpackages and nothing imports the book or the command line; no module imports another's
private names; every library module lives in a subpackage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "gan3d_lib"
#: the subpackages, lowest first: a module may import from its own subpackage and those before it
LAYERS = ("core", "physics", "data", "validation", "models", "training", "precision", "speed", "book", "cli")


def _module(path: Path, lib: Path) -> str:
    rel = path.relative_to(lib.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, mod: str, modules: set[str]) -> tuple[set[str], set[str]]:
    """(the modules of the library ``mod`` imports, the private names it imports from them)."""
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    found: set[str] = set()
    private: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
            if base in modules:
                private |= {f"{base}.{a.name}" for a in node.names
                            if a.name.startswith("_") and not a.name.startswith("__")}
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        found |= {t for t in targets if t in modules and t != mod}
    return found, private


def import_graph(lib: Path = LIB) -> dict[str, set[str]]:
    """{module: modules of the library it imports}."""
    modules = {_module(p, lib): p for p in lib.rglob("*.py")}
    return {mod: _imports(path, mod, set(modules))[0] for mod, path in modules.items()}


def layer(module: str) -> int | None:
    """Index in :data:`LAYERS` of the subpackage ``module`` is in (None for the package itself)."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 else None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import that points from a subpackage to one later in :data:`LAYERS`."""
    return sorted(f"{m} ({LAYERS[layer(m)]}) imports {t} ({LAYERS[layer(t)]})"
                  for m, targets in graph.items() if layer(m) is not None
                  for t in targets if layer(t) is not None and layer(t) > layer(m))


def test_the_package_lists_the_same_layers():
    import gan3d_lib

    assert gan3d_lib.LAYERS == LAYERS
    assert sorted(p.name for p in LIB.iterdir() if (p / "__init__.py").exists()) == sorted(LAYERS)


def test_every_module_is_in_a_subpackage():
    assert [p.name for p in LIB.glob("*.py")] == ["__init__.py"]


def test_imports_point_down_the_layers():
    assert upward_imports(import_graph()) == []


def test_the_package_itself_imports_nothing():
    assert import_graph()["gan3d_lib"] == set()


def test_no_module_imports_private_names_of_another():
    modules = {_module(p, LIB): p for p in LIB.rglob("*.py")}
    private = set().union(*(_imports(path, mod, set(modules))[1] for mod, path in modules.items()))
    assert not private, sorted(private)


def test_no_cycles():
    """(An import of a module's own package, ``from . import x``, is of the package's submodule, not a cycle.)"""
    graph = {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in import_graph().items()}
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(n):], n]))
            if n not in state:
                visit(n, [*stack, n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


# The test of the test: a library with one upward import is reported.

def _tiny_library(root: Path, upward: bool) -> Path:
    lib = root / "gan3d_lib"
    for sub in ("core", "physics", "cli"):
        (lib / sub).mkdir(parents=True)
        (lib / sub / "__init__.py").write_text("")
    (lib / "__init__.py").write_text("")
    (lib / "core" / "atomic.py").write_text("import os\n")
    (lib / "cli" / "parser.py").write_text("from ..physics.geometry import SIZE\nfrom ..core import atomic\n")
    body = "def late():\n    from ..cli.parser import main\n" if upward else "from ..core.atomic import os\n"
    (lib / "physics" / "geometry.py").write_text(f"SIZE = 25\n\n\n{body}")
    return lib


@pytest.mark.parametrize("upward", [False, True])
def test_a_deliberate_upward_import_is_reported(tmp_path, upward):
    found = upward_imports(import_graph(_tiny_library(tmp_path, upward)))
    assert found == (["gan3d_lib.physics.geometry (physics) imports gan3d_lib.cli.parser (cli)"] if upward else [])


def test_a_synthetic_upward_edge_is_reported():
    graph = {"gan3d_lib.core.tables": {"gan3d_lib.book.plotting"}, "gan3d_lib.book.plotting": {"gan3d_lib.core.tables"}}
    assert upward_imports(graph) == ["gan3d_lib.core.tables (core) imports gan3d_lib.book.plotting (book)"]


def test_each_subpackage_storefront_resolves_to_the_modules_that_define_its_names():
    import importlib

    for sub in LAYERS[:-1]:  # cli's storefront is its entry point
        package = importlib.import_module(f"gan3d_lib.{sub}")
        assert package.__all__ and set(package.__all__) == set(dir(package))
        for name in package.__all__:
            obj = getattr(package, name)
            home = getattr(obj, "__module__", None)
            if home is not None and not isinstance(obj, type(package)):  # functions and classes: defined there
                assert home.startswith(f"gan3d_lib.{sub}."), (sub, name, home)
        with pytest.raises(AttributeError, match="public names"):
            getattr(package, "_not_public")


def test_the_chapters_import_the_library_through_the_storefronts():
    for notebook in sorted((LIB.parent / "notebooks").glob("*.py")):
        for node in ast.walk(ast.parse(notebook.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gan3d_lib"):
                assert node.module.count(".") == 1, f"{notebook.name}:{node.lineno} imports {node.module}"
