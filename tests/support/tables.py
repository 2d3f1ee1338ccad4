"""The Markdown tables a page showed (reparam_ui.tables.markdown_table), read back as columns."""

from __future__ import annotations

import math
import re


def _cell(text: str):
    """A cell as shown: a number if it reads as one ("—" is NaN), else the text."""
    text = text.strip().replace("\\|", "|")
    if text == "—":
        return math.nan
    try:
        return float(text.replace("−", "-"))
    except ValueError:
        return text


def parse(md: str) -> dict[str, list]:
    """A Markdown table → {column name: cells}."""
    head, _, *rows = md.strip().split("\n")
    names = [c.strip() for c in re.split(r"(?<!\\)\|", head.strip()[1:-1])]
    cells = [[_cell(c) for c in re.split(r"(?<!\\)\|", r.strip()[1:-1])] for r in rows]
    return {name: [row[i] for row in cells] for i, name in enumerate(names)}


def markdown_tables(at) -> list[dict[str, list]]:
    """Every Markdown table of an AppTest run, in page order."""
    return [parse(m.value) for m in at.markdown if m.value.lstrip().startswith("| ")]
