"""The plotly figures a page sent (reparam_ui.components.plot_element), read from an AppTest run."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np

from reparam_ui.components.plot_element import NAME


def chart_elements(at) -> list:
    """The page's chart elements, in page order."""
    return [el for el in at.get("bidi_component") if el.proto.component_name == NAME]


def figure_of(el) -> dict:
    """The figure a chart element carries, as plotly JSON."""
    return json.loads(el.proto.bytes)


def figures(at) -> list[dict]:
    return [figure_of(el) for el in chart_elements(at)]


def decode(arr) -> np.ndarray:
    """Plotly sends numpy arrays as {"dtype", "bdata"} (base64 typed arrays)."""
    if isinstance(arr, dict):
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=arr["dtype"]).astype(float)
    return np.asarray(arr, dtype=float)


def plotly_version(build: Path) -> str:
    """The release a plotly.js file names in its header comment, e.g. "4.1.1"."""
    return re.search(r"plotly\.js .*?v(\d+\.\d+\.\d+)", build.read_text(encoding="utf-8")[:300])[1]
