"""Files that appear whole, results JSON with versions, Markdown tables: what every layer may use.

Its public names are what the chapters import, each loaded from its module on first use.
"""

from .lazy import storefront

_EXPORTS = {
    "atomic": ("atomic_dir", "atomic_file"),
    "errors": ("HardwareUnsupported",),
    "results": ("machine_info", "read_results", "write_results"),
    "tables": ("markdown_table", "plus_minus"),
}
_MODULES = ("atomic", "errors", "lazy", "results", "tables")
__getattr__, __dir__, __all__ = storefront(__name__, _EXPORTS, _MODULES)
