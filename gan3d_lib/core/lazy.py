"""The storefront of a subpackage: its public names, each imported from its module on first use
(so that ``import gan3d_lib.physics`` loads no TensorFlow), and its modules."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["storefront"]


def storefront(package: str, exports: Mapping[str, Iterable[str]],
               modules: Iterable[str]) -> tuple[Callable[[str], Any], Callable[[], list[str]], tuple[str, ...]]:
    """``(__getattr__, __dir__, __all__)`` of ``package``: ``exports`` maps each module of
    ``package`` to the public names it defines; ``modules`` are importable as attributes too."""
    modules = tuple(modules)
    home = {name: module for module, names in exports.items() for name in names}
    # Importing a submodule sets it as an attribute of its package, which would then shadow an
    # export of the same name: ``from pkg import f`` would return the module ``pkg.f``.
    shadowed = sorted(set(home) & {*modules, *exports})
    if shadowed:
        raise ValueError(f"{package}: public names {shadowed} are also module names; rename the module")
    public = tuple(sorted({*home, *modules}))

    def __getattr__(name: str) -> Any:
        if name in home:
            return getattr(importlib.import_module(f"{package}.{home[name]}"), name)
        if name in modules:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}; its public names: {', '.join(public)}")

    def __dir__() -> list[str]:
        return list(public)

    return __getattr__, __dir__, public
