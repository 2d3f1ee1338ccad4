"""Tables: one policy for a table of columns, shown (`markdown_table`) or downloaded (`csv_bytes`)."""

from __future__ import annotations

import io
import math
import numbers
from collections.abc import Sequence
from typing import Any


def _rows(columns: dict[str, Sequence[Any]]) -> tuple[list[str], int]:
    """The column names and the common length; columns of unequal length are an error."""
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    if any(len(columns[c]) != n for c in names):
        raise ValueError("columns must all have the same length")
    return names, n


def csv_bytes(columns: dict[str, Sequence[Any]]) -> bytes:
    """Columns of equal length → CSV bytes (header row first)."""
    names, n = _rows(columns)
    buf = io.StringIO()
    buf.write(",".join(names) + "\n")
    for i in range(n):
        buf.write(",".join(_cell(columns[c][i]) for c in names) + "\n")
    return buf.getvalue().encode()


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)
    s = str(v)
    return '"' + s.replace('"', '""') + '"' if ("," in s or '"' in s) else s


def markdown_table(columns: dict[str, Sequence[Any]], number: str = "{:.4g}") -> str:
    """Columns of equal length → a Markdown table: numbers formatted with `number` and
    right-aligned, NaN and None as "—", "|" in a cell escaped. A static table in `st.markdown` spares the
    page the Arrow code `st.table`/`st.dataframe` load in the browser (bench/run.py:
    page_load_ratio_max; docs/performance.md)."""
    names, n = _rows(columns)

    def is_number(v: Any) -> bool:
        return isinstance(v, numbers.Real) and not isinstance(v, bool)

    def cell(v: Any) -> str:
        if v is None:
            return "—"
        if is_number(v):
            return "—" if math.isnan(v) else number.format(v)
        return str(v).replace("|", "\\|").replace("\n", " ")

    numeric = {c for c in names if n and all(is_number(v) or v is None for v in columns[c])}
    lines = [
        "| " + " | ".join(cell(c) for c in names) + " |",
        "|" + "|".join("---:" if c in numeric else ":---" for c in names) + "|",
    ]
    lines += ["| " + " | ".join(cell(columns[c][i]) for c in names) + " |" for i in range(n)]
    return "\n".join(lines)
