"""Markdown tables for notebooks (rendered by MyST in the book)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["markdown_table"]


def _fmt(value: Any, spec: str | None) -> str:
    if value is None:
        return "–"
    if spec:
        return format(value, spec)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str],
                   formats: Mapping[str, str] | None = None) -> str:
    """A Markdown table; ``columns`` maps row keys to headers, ``formats`` keys to format specs."""
    formats = formats or {}
    head = "| " + " | ".join(columns.values()) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(_fmt(r.get(k), formats.get(k)) for k in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])
