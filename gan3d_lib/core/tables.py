"""Markdown tables for notebooks (rendered by MyST in the book), written by ``tabulate``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["markdown_table", "plus_minus"]


def _cell(value: Any, spec: str | None) -> str:
    if value is None:
        return "–"
    text = format(value, spec) if spec else (f"{value:.4g}" if isinstance(value, float) else str(value))
    return text.replace("|", r"\|")  # a '|' in a cell would end it


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str],
                   formats: Mapping[str, str] | None = None) -> str:
    """A Markdown (pipe) table; ``columns`` maps row keys to headers, ``formats`` keys to format
    specs; None is shown as '–' and a '|' in a cell is escaped."""
    from tabulate import tabulate

    formats = formats or {}
    body = [[_cell(r.get(k), formats.get(k)) for k in columns] for r in rows]
    headers = [h.replace("|", r"\|") for h in columns.values()]
    return tabulate(body, headers, tablefmt="pipe", disable_numparse=True, stralign="left")


def plus_minus(value: float | None, err: float | None, fmt: str = ".3f") -> str:
    """'value ± err' for tables; '–' for a value that was not computed."""
    if value is None:
        return "–"
    return f"{value:{fmt}}" + ("" if err is None else f" ± {err:{fmt}}")
